import { defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { parseScore, scoreReply } from "../score";
import { type AddMode, Zset } from "../zset";

interface Args {
  readonly key: string;
  readonly mode: AddMode;
  /** CH: count changed scores too. */
  readonly ch: boolean;
  readonly incr: boolean;
  readonly pairs: readonly (readonly [number, string])[];
}

/** ZADD's options and pairs, with Redis's checks in Redis's order. */
function parseZadd(args: readonly string[]): Args {
  const [k, ...rest] = args;
  const seen = new Set<string>();
  let i = 0;
  for (; i < rest.length; i++) {
    const option = rest[i]!.toUpperCase();
    if (!["NX", "XX", "CH", "INCR", "GT", "LT"].includes(option)) break;
    seen.add(option);
  }
  const tail = rest.slice(i);
  if (tail.length === 0 || tail.length % 2 !== 0) throw errors.syntax();
  const has = (o: string) => seen.has(o);
  if (has("NX") && has("XX")) throw new RedisError("ERR XX and NX options at the same time are not compatible");
  if ((has("GT") && has("NX")) || (has("LT") && has("NX")) || (has("GT") && has("LT")))
    throw new RedisError("ERR GT, LT, and/or NX options at the same time are not compatible");
  if (has("INCR") && tail.length > 2) throw new RedisError("ERR INCR option supports a single increment-element pair");
  const pairs: [number, string][] = [];
  for (let j = 0; j < tail.length; j += 2) pairs.push([parseScore(tail[j]!), tail[j + 1]!]);
  const mode: AddMode = has("NX")
    ? { only: "new" }
    : { only: has("XX") ? "existing" : "any", compare: has("GT") ? "gt" : has("LT") ? "lt" : null };
  return { key: k!, mode, ch: has("CH"), incr: has("INCR"), pairs };
}

/**
 * ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] → members added (with CH,
 * added or changed); with INCR the member's new score, or nil when a condition skipped it.
 * Replicated as ZADD of the resulting scores. @see https://redis.io/docs/latest/commands/zadd/
 */
export default defineCommand<Args>({
  name: "zadd",
  arity: -4,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: parseZadd,
  run: ({ db }, a) => {
    if (a.mode.only === "existing" && Zset.find(db, a.key) === null) return a.incr ? null : 0;
    const out = Zset.findOrCreate(db, a.key).add(a.pairs, a.mode, a.incr);
    if (a.incr) return out.processed > 0 ? scoreReply(out.score!) : null;
    return a.ch ? out.added + out.updated : out.added;
  },
});

/** ZINCRBY key increment member → the new score. Replicated as ZADD of it. @see https://redis.io/docs/latest/commands/zincrby/ */
export const zincrby = defineCommand({
  name: "zincrby",
  arity: 4,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, by, member]) => ({ key: k!, by: parseScore(by!), member: member! }),
  run: ({ db }, a) => scoreReply(Zset.findOrCreate(db, a.key).add([[a.by, a.member]], { only: "any", compare: null }, true).score!),
});
