/**
 * The keyspace compared whole (after each seed, and to minimize a divergence found that way):
 * the same keys (KEYS *), and for each its TYPE, its value (GET, LRANGE 0 -1, HGETALL and
 * SMEMBERS as sets, ZRANGE 0 -1 WITHSCORES, XRANGE - + for a stream's entries) and whether it
 * has a TTL (PTTL, within tolerance); against Redis 7.4 or later, each hash field's deadline too
 * (HPEXPIRETIME, within tolerance).
 */
import { differs, sorted } from "./compare.ts";
import { runs } from "./known-differences.ts";
import { type Command, type Reply, equal, isError, render } from "./reply.ts";
import type { Differential } from "./runner.ts";

export interface StateDifference {
  /** "keys", or what differs about one key: "type", "value", "ttl". */
  readonly what: "keys" | "type" | "value" | "ttl";
  /** The reading that shows it. */
  readonly command: Command;
  readonly redis: Reply;
  readonly flaredis: Reply;
  /** The key's type, as Redis has it (for the class of the difference). */
  readonly type: string;
}

const DUMP: Record<string, (key: string) => Command> = {
  string: (k) => ["GET", k],
  list: (k) => ["LRANGE", k, "0", "-1"],
  hash: (k) => ["HGETALL", k],
  set: (k) => ["SMEMBERS", k],
  zset: (k) => ["ZRANGE", k, "0", "-1", "WITHSCORES"],
  stream: (k) => ["XRANGE", k, "-", "+"],
};

/** Reads one batch of commands on both sides. */
async function readBoth(d: Differential, commands: Command[]): Promise<[Reply[], Reply[]]> {
  if (commands.length === 0) return [[], []];
  const [redis, answer] = await Promise.all([d.redis.pipeline(commands), d.flaredis.pipeline(commands)]);
  const flaredis = Array.isArray(answer.reply) ? answer.reply : commands.map(() => answer.reply);
  return [redis, flaredis];
}

export async function compareKeyspace(d: Differential): Promise<StateDifference[]> {
  const [[redisKeys], [flaredisKeys]] = await readBoth(d, [["KEYS", "*"]]);
  const found: StateDifference[] = [];
  if (!equal(sorted(redisKeys!), sorted(flaredisKeys!))) {
    found.push({ what: "keys", command: ["KEYS", "*"], redis: sorted(redisKeys!), flaredis: sorted(flaredisKeys!), type: "" });
  }
  if (!Array.isArray(redisKeys) || !Array.isArray(flaredisKeys)) return found;
  // The keys both sides hold (a key on one side only is reported above).
  const flaredisSet = new Set(flaredisKeys.map(render));
  const keys = redisKeys.filter((k): k is Buffer => Buffer.isBuffer(k) && flaredisSet.has(render(k))).map((k) => k.toString("utf8"));
  keys.sort();
  const [redisTypes, flaredisTypes] = await readBoth(d, keys.map((k) => ["TYPE", k]));
  const dumps: Command[] = [];
  const typeOf: string[] = [];
  keys.forEach((k, i) => {
    const type = Buffer.isBuffer(redisTypes[i]) ? redisTypes[i].toString() : "?";
    if (!equal(redisTypes[i]!, flaredisTypes[i]!)) found.push({ what: "type", command: ["TYPE", k], redis: redisTypes[i]!, flaredis: flaredisTypes[i]!, type });
    else if (DUMP[type]) {
      dumps.push(DUMP[type](k), ["PTTL", k]);
      typeOf.push(type, type);
    }
  });
  const [redisDumps, flaredisDumps] = await readBoth(d, dumps);
  const deadlines: Command[] = [];
  dumps.forEach((command, i) => {
    const [r, f] = [redisDumps[i]!, flaredisDumps[i]!];
    if (command[0] === "PTTL") {
      const has = (x: Reply) => (typeof x === "bigint" ? (x >= 0n ? "a TTL" : x === -1n ? "no TTL" : "missing") : render(x));
      if (has(r) !== has(f) || differs(d.differences, command, r, f, d.skew) !== null) found.push({ what: "ttl", command, redis: r, flaredis: f, type: typeOf[i]! });
    } else if (isError(r) || isError(f) || differs(d.differences, command, r, f, d.skew) !== null) {
      found.push({ what: "value", command, redis: r, flaredis: f, type: typeOf[i]! });
    } else if (command[0] === "HGETALL" && Array.isArray(r) && r.length > 0) {
      const fields = r.filter((_, j) => j % 2 === 0).map((x) => (Buffer.isBuffer(x) ? x.toString("utf8") : ""));
      const read: Command = ["HPEXPIRETIME", command[1]!, "FIELDS", String(fields.length), ...fields];
      if (runs(d.differences, read)) deadlines.push(read);
    }
  });
  const [redisDeadlines, flaredisDeadlines] = await readBoth(d, deadlines);
  deadlines.forEach((command, i) => {
    const [r, f] = [redisDeadlines[i]!, flaredisDeadlines[i]!];
    if (differs(d.differences, command, r, f, d.skew) !== null) found.push({ what: "ttl", command, redis: r, flaredis: f, type: "hash" });
  });
  return found;
}
