/**
 * Runs steps on both sides and compares: each reply as it comes, and the whole keyspace when
 * asked (every key's type, value and TTL presence). A MULTI block goes to redis-server as
 * MULTI … EXEC and to Flaredis as one /multi-exec; a pipeline as a pipeline on both.
 *
 * A random pick is checked against the collection as Redis held it just before (read from
 * redis-server); after an SPOP, Flaredis's set is made Redis's again (the members each side
 * popped differ by chance), so the two keep the same data. A SCAN-family command is iterated to
 * its end on each side and compared as a set. Before DBSIZE, redis-server is made to reclaim the
 * keys past their deadline (a SCAN over the keyspace deletes those it meets), as its active
 * expiry would within 100 ms.
 */
import type { FlaredisAnswer, FlaredisClient } from "./clients.ts";
import { type Skew, differs, differsRandom } from "./compare.ts";
import { specOf } from "./generator.ts";
import { type KnownDifference, differencesFor } from "./known-differences.ts";
import { type Command, type Reply, type Step, commandName, commandsOf, isBinary, isError, render } from "./reply.ts";
import type { RedisSide } from "./transcript.ts";

/** A reply that differs: the command (in its step), both replies, and why. */
export interface Mismatch {
  readonly command: Command;
  readonly redis: Reply;
  readonly flaredis: Reply;
  readonly reason: string;
}

export class Differential {
  readonly differences: readonly KnownDifference[];
  readonly redis: RedisSide;
  readonly flaredis: FlaredisClient;

  constructor(redis: RedisSide, flaredis: FlaredisClient, redisVersion: string) {
    this.redis = redis;
    this.flaredis = flaredis;
    this.differences = differencesFor(redisVersion);
  }

  /** How redis-server's replies are timed against Flaredis's: none when both run side by side. */
  get skew(): Skew | undefined {
    return this.redis.skew?.();
  }

  /** An empty keyspace on both sides. */
  async reset(): Promise<void> {
    const [r, f] = await Promise.all([this.redis.send("FLUSHALL"), this.flaredis.single(["FLUSHALL"])]);
    if (isError(r) || isError(f.reply)) throw new Error(`FLUSHALL failed: redis ${render(r)}, flaredis ${render(f.reply)}`);
  }

  /** Runs one step on both sides; the first reply that differs, or null. */
  async execute(step: Step): Promise<Mismatch | null> {
    if (Array.isArray(step)) return this.single(step);
    const commands = commandsOf(step);
    if ("multi" in step) {
      const [replies, answer] = await Promise.all([this.redis.pipeline([["MULTI"], ...commands, ["EXEC"]]), this.flaredis.multi(commands)]);
      const exec = replies[replies.length - 1]!;
      const status = statusProblem(answer, Array.isArray(answer.reply) ? "result" : "error");
      if (status) return { command: ["EXEC"], redis: exec, flaredis: answer.reply, reason: status };
      if (Array.isArray(exec) && Array.isArray(answer.reply) && exec.length === answer.reply.length) return this.each(commands, exec, answer.reply);
      const reason = differs(this.differences, ["EXEC"], exec, answer.reply, this.skew);
      return reason === null ? null : { command: ["EXEC"], redis: exec, flaredis: answer.reply, reason: `EXEC: ${reason}` };
    }
    const [replies, answer] = await Promise.all([this.redis.pipeline(commands), this.flaredis.pipeline(commands)]);
    if (!Array.isArray(answer.reply) || answer.reply.length !== replies.length || answer.status !== 200) {
      return { command: ["(pipeline)"], redis: replies, flaredis: answer.reply, reason: `the pipeline's answer (HTTP ${answer.status}) is not one reply per command` };
    }
    return this.each(commands, replies, answer.reply);
  }

  /** Compares a block's replies one by one (random picks by shape only). */
  private each(commands: readonly Command[], redis: readonly Reply[], flaredis: readonly Reply[]): Mismatch | null {
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i]!;
      const spec = specOf(command);
      const reason = spec?.random
        ? differsRandom(this.differences, command, redis[i]!, flaredis[i]!, undefined)
        : differs(this.differences, command, redis[i]!, flaredis[i]!, this.skew);
      if (reason !== null) return { command, redis: redis[i]!, flaredis: flaredis[i]!, reason };
    }
    return null;
  }

  private async single(command: Command): Promise<Mismatch | null> {
    const spec = specOf(command);
    if (spec?.scan) return this.scan(command);
    if (spec?.countsExpired) await this.reclaimExpired();
    if (spec?.random || spec?.randomWrite) {
      const population = await this.population(spec.random ?? "members", command);
      const [redis, answer] = await Promise.all([this.redis.send(...command), this.flaredis.single(command)]);
      const status = statusProblem(answer, isError(answer.reply) ? "error" : "result");
      const reason = status ?? differsRandom(this.differences, command, redis, answer.reply, population);
      if (reason === null && spec.randomWrite) await this.reconcile(command, redis, answer.reply);
      return reason === null ? null : { command, redis, flaredis: answer.reply, reason };
    }
    const [redis, answer] = await Promise.all([this.redis.send(...command), this.flaredis.single(command)]);
    if (spec?.reencodes && typeof command[1] === "string") await this.reencode(command[1]);
    const reason = statusProblem(answer, isError(answer.reply) ? "error" : "result") ?? differs(this.differences, command, redis, answer.reply, this.skew);
    return reason === null ? null : { command, redis, flaredis: answer.reply, reason };
  }

  /**
   * A sorted set redis-server converted to a skiplist (SORT) loaded again in its default encoding:
   * DUMP, then RESTORE with its TTL (a small one goes back to listpack, as after a restart).
   */
  private async reencode(key: string): Promise<void> {
    const type = await this.redis.send("TYPE", key);
    if (!Buffer.isBuffer(type) || type.toString() !== "zset") return;
    const [ttl, dump] = await this.redis.pipeline([["PTTL", key], ["DUMP", key]]);
    if (!Buffer.isBuffer(dump)) return;
    const ms = typeof ttl === "bigint" && ttl > 0n ? String(ttl) : "0";
    await this.redis.send("RESTORE", key, ms, { base64: dump.toString("base64") }, "REPLACE");
  }

  /**
   * The collection a random pick draws from, as redis-server holds it now: element (rendered)
   * → its value or score (null for set members and keys). Undefined when it is not one.
   */
  private async population(of: "members" | "fields" | "scored" | "keys", command: Command): Promise<Map<string, Reply> | undefined> {
    const key = command[1];
    if (of !== "keys" && (key === undefined || isBinary(key))) return undefined;
    const read: Command = of === "keys" ? ["KEYS", "*"] : of === "members" ? ["SMEMBERS", key!] : of === "fields" ? ["HGETALL", key!] : ["ZRANGE", key!, "0", "-1", "WITHSCORES"];
    const reply = await this.redis.send(...read);
    if (!Array.isArray(reply)) return undefined;
    const map = new Map<string, Reply>();
    if (of === "members" || of === "keys") for (const m of reply) map.set(render(m), null);
    else for (let i = 0; i + 1 < reply.length; i += 2) map.set(render(reply[i]!), reply[i + 1]!);
    return map;
  }

  /** After SPOP: Flaredis's set gets back what only it popped and loses what only Redis popped. */
  private async reconcile(command: Command, redis: Reply, flaredis: Reply): Promise<void> {
    const popped = (r: Reply): Buffer[] => (Buffer.isBuffer(r) ? [r] : Array.isArray(r) ? r.filter((x): x is Buffer => Buffer.isBuffer(x)) : []);
    const byRedis = popped(redis);
    const byFlaredis = popped(flaredis);
    const onlyFlaredis = byFlaredis.filter((m) => !byRedis.some((x) => x.equals(m)));
    const onlyRedis = byRedis.filter((m) => !byFlaredis.some((x) => x.equals(m)));
    if (onlyFlaredis.length === 0) return;
    const key = command[1]!;
    const asArgs = (ms: Buffer[]) => ms.map((m) => m.toString("utf8"));
    await this.flaredis.pipeline([
      ["SADD", key, ...asArgs(onlyFlaredis)],
      ["SREM", key, ...asArgs(onlyRedis)],
    ]);
  }

  /** Has redis-server delete the keys past their deadline: SCAN expires each key it meets. */
  private async reclaimExpired(): Promise<void> {
    let cursor = "0";
    do {
      const reply = await this.redis.send("SCAN", cursor, "COUNT", "1000");
      cursor = Array.isArray(reply) && Buffer.isBuffer(reply[0]) ? reply[0].toString() : "0";
    } while (cursor !== "0");
  }

  /** SCAN, SSCAN, HSCAN, ZSCAN iterated to their end on each side: one reply `["0", elements]`, sorted. */
  private async scan(command: Command): Promise<Mismatch | null> {
    const at = commandName(command) === "SCAN" ? 1 : 2;
    const width = ["HSCAN", "ZSCAN"].includes(commandName(command)) ? 2 : 1;
    const iterate = async (send: (c: Command) => Promise<Reply>): Promise<Reply> => {
      // element (rendered) → the element and, for HSCAN and ZSCAN, its value or score.
      const seen = new Map<string, Reply[]>();
      let current = command;
      for (let round = 0; round < 1000; round++) {
        const reply = await send(current);
        if (!Array.isArray(reply) || reply.length !== 2 || !Buffer.isBuffer(reply[0]) || !Array.isArray(reply[1])) return reply;
        const items = reply[1];
        for (let i = 0; i < items.length; i += width) seen.set(render(items[i]!), items.slice(i, i + width));
        const cursor = reply[0].toString();
        if (cursor === "0") return [reply[0], [...seen.keys()].sort().flatMap((k) => seen.get(k)!)];
        current = [...command.slice(0, at), cursor, ...command.slice(at + 1)];
      }
      return { error: "(the scan did not end within 1000 calls)" };
    };
    let [redis, flaredis] = await Promise.all([iterate((c) => this.redis.send(...c)), iterate(async (c) => (await this.flaredis.single(c)).reply)]);
    // A cursor other than 0 ("007", "-1") that neither refuses names a place in each system's own
    // order (a hash table's buckets, Flaredis's slots): where it starts cannot be compared.
    if (startsMidway(command[at]) && !isError(redis) && !isError(flaredis)) [redis, flaredis] = [STARTED_MIDWAY, STARTED_MIDWAY];
    const reason = differs(this.differences, command, redis, flaredis, this.skew);
    return reason === null ? null : { command, redis, flaredis, reason };
  }
}

/** An HTTP status that does not go with the answer (an error is a 4xx, a result a 200), or null. */
function statusProblem(answer: FlaredisAnswer, kind: "error" | "result"): string | null {
  if (kind === "result" && answer.status !== 200) return `flaredis answered a result with HTTP ${answer.status}`;
  if (kind === "error" && (answer.status < 400 || answer.status >= 500)) return `flaredis answered an error with HTTP ${answer.status}`;
  return null;
}

/** What both sides' replies become when a SCAN started from a cursor of the client's own. */
const STARTED_MIDWAY: Reply = Buffer.from("(a scan from a cursor neither system gave)");

/** Whether a cursor, as strtoul reads it (Redis's parseScanCursorOrReply), is a valid one other than 0. */
function startsMidway(cursor: Command[number] | undefined): boolean {
  const text = cursor === undefined ? "" : cursor.toString();
  return /^[ \t\n\v\f\r]*[+-]?[0-9]+$/.test(text) && /[1-9]/.test(text);
}
