/**
 * The generator's commands, part 1: server and keys (TTLs included), strings, hashes. Each entry
 * builds a whole argv; options come in random combinations, valid or not, so that both the
 * command and its error paths are reached.
 */
import type { Random } from "./random.ts";
import {
  INT64_EDGES, PATTERNS, TYPES, float, increment, integer, key, keys, member, millis, seconds, unixMillis, unixSeconds, value,
} from "./values.ts";

export interface CommandSpec {
  readonly name: string;
  readonly weight: number;
  readonly gen: (r: Random) => string[];
  /**
   * The reply is Redis's random pick (SRANDMEMBER…): compared by shape, and checked against the
   * collection it picks from (its members, its fields and values, its members and scores, the keys).
   */
  readonly random?: "members" | "fields" | "scored" | "keys";
  /** It changes the data at random (SPOP): a single step only, and the two sides reconciled after. */
  readonly randomWrite?: boolean;
  /** A cursor (SCAN, HSCAN…): a single step only, iterated to its end on both sides. */
  readonly scan?: boolean;
  /**
   * Redis's reply counts keys past their deadline that its active expiry has not reclaimed yet
   * (DBSIZE is the dict's size; a SET … EXAT in the past leaves such a key in 7.0 and 7.2): a
   * single step only, sent once Redis has reclaimed them.
   */
  readonly countsExpired?: boolean;
  /**
   * Redis converts the sorted set it sorts to a skiplist (SORT, SORT_RO: sort.c's zsetConvert),
   * which Flaredis does not (known-differences.ts): a single step only, after which the runner has
   * redis-server load the key again in its default encoding (DUMP, RESTORE).
   */
  readonly reencodes?: boolean;
  /**
   * It waits for data until its timeout (BLPOP…): the generator never damages it into a timeout of
   * 0 or of seconds (a value appended, an argument replaced), for which redis-server waits for good.
   */
  readonly blocks?: boolean;
}

/** One to three fields or members. */
export function members(r: Random, min = 1, max = 3): string[] {
  return Array.from({ length: r.int(min, max) }, () => member(r));
}

/** `args` with probability p, else nothing. */
export function maybe(r: Random, p: number, ...args: string[]): string[] {
  return r.chance(p) ? args : [];
}

/** Field-value (or member-score…) pairs: one to three. */
export function pairs(r: Random, a: () => string, b: () => string, min = 1, max = 3): string[] {
  const out: string[] = [];
  for (let i = r.int(min, max); i > 0; i--) out.push(a(), b());
  return out;
}

/** SET's and GETEX's expiry options, mostly one, sometimes two (a syntax error). */
function expiryOption(r: Random, forGetex: boolean): string[] {
  const one = (): string[] =>
    r.weighted<() => string[]>([
      [3, () => ["EX", seconds(r)]],
      [2, () => ["PX", millis(r)]],
      [1, () => ["EXAT", unixSeconds(r)]],
      [1, () => ["PXAT", unixMillis(r)]],
      [1, () => [forGetex ? "PERSIST" : "KEEPTTL"]],
    ])();
  return r.chance(0.08) ? [...one(), ...one()] : one();
}

const ex = (r: Random) => r.pick(["NX", "XX", "GT", "LT"]);

export const serverAndKeys: CommandSpec[] = [
  { name: "PING", weight: 1, gen: (r) => ["PING", ...maybe(r, 0.5, value(r))] },
  { name: "ECHO", weight: 1, gen: (r) => ["ECHO", value(r)] },
  { name: "SELECT", weight: 1, gen: (r) => ["SELECT", r.pick(["0", "1", "-1", "x", "2147483648", "00"])] },
  { name: "MOVE", weight: 1, gen: (r) => ["MOVE", key(r), r.pick(["0", "1", "x", "-2147483649"])] },
  { name: "SWAPDB", weight: 1, gen: (r) => ["SWAPDB", r.pick(["0", "1", "x"]), r.pick(["0", "1", "y"])] },
  { name: "DBSIZE", weight: 2, countsExpired: true, gen: () => ["DBSIZE"] },
  { name: "DEL", weight: 5, gen: (r) => ["DEL", ...keys(r, 1, 2)] },
  { name: "UNLINK", weight: 2, gen: (r) => ["UNLINK", ...keys(r, 1, 2)] },
  { name: "EXISTS", weight: 3, gen: (r) => ["EXISTS", ...keys(r, 1, 3)] },
  { name: "TYPE", weight: 4, gen: (r) => ["TYPE", key(r)] },
  { name: "KEYS", weight: 2, gen: (r) => ["KEYS", r.pick(PATTERNS)] },
  {
    name: "SCAN",
    weight: 2,
    scan: true,
    gen: (r) => ["SCAN", "0", ...maybe(r, 0.4, "MATCH", r.pick(PATTERNS)), ...maybe(r, 0.5, "COUNT", String(r.int(1, 4))), ...maybe(r, 0.3, "TYPE", r.pick(TYPES))],
  },
  { name: "RANDOMKEY", weight: 1, random: "keys", gen: () => ["RANDOMKEY"] },
  { name: "RENAME", weight: 3, gen: (r) => ["RENAME", key(r), key(r)] },
  { name: "RENAMENX", weight: 2, gen: (r) => ["RENAMENX", key(r), key(r)] },
  {
    name: "COPY",
    weight: 3,
    gen: (r) => ["COPY", key(r), key(r), ...maybe(r, 0.4, "REPLACE"), ...maybe(r, 0.1, "DB", r.pick(["0", "1", "-1", "x"]))],
  },
  { name: "TOUCH", weight: 1, gen: (r) => ["TOUCH", ...keys(r, 1, 3)] },
  { name: "EXPIRE", weight: 4, gen: (r) => ["EXPIRE", key(r), seconds(r), ...maybe(r, 0.3, ex(r))] },
  { name: "PEXPIRE", weight: 3, gen: (r) => ["PEXPIRE", key(r), millis(r), ...maybe(r, 0.3, ex(r))] },
  { name: "EXPIREAT", weight: 2, gen: (r) => ["EXPIREAT", key(r), unixSeconds(r), ...maybe(r, 0.3, ex(r))] },
  { name: "PEXPIREAT", weight: 2, gen: (r) => ["PEXPIREAT", key(r), unixMillis(r), ...maybe(r, 0.3, ex(r))] },
  { name: "TTL", weight: 3, gen: (r) => ["TTL", key(r)] },
  { name: "PTTL", weight: 3, gen: (r) => ["PTTL", key(r)] },
  { name: "EXPIRETIME", weight: 2, gen: (r) => ["EXPIRETIME", key(r)] },
  { name: "PEXPIRETIME", weight: 2, gen: (r) => ["PEXPIRETIME", key(r)] },
  { name: "PERSIST", weight: 2, gen: (r) => ["PERSIST", key(r)] },
  { name: "OBJECT", weight: 3, gen: (r) => ["OBJECT", "ENCODING", key(r)] },
  { name: "FLUSHDB", weight: 0.05, gen: () => ["FLUSHDB"] },
];

export const strings: CommandSpec[] = [
  { name: "GET", weight: 8, gen: (r) => ["GET", key(r)] },
  {
    name: "SET",
    weight: 10,
    gen: (r) => [
      "SET", key(r), value(r),
      ...maybe(r, 0.25, r.pick(["NX", "XX"])),
      ...maybe(r, 0.2, "GET"),
      ...(r.chance(0.4) ? expiryOption(r, false) : []),
      ...maybe(r, 0.03, r.pick(["NX", "XX", "GET", "BOGUS", "EX"])),
    ],
  },
  { name: "SETNX", weight: 2, gen: (r) => ["SETNX", key(r), value(r)] },
  { name: "SETEX", weight: 2, gen: (r) => ["SETEX", key(r), seconds(r), value(r)] },
  { name: "PSETEX", weight: 2, gen: (r) => ["PSETEX", key(r), millis(r), value(r)] },
  { name: "GETSET", weight: 2, gen: (r) => ["GETSET", key(r), value(r)] },
  { name: "GETDEL", weight: 2, gen: (r) => ["GETDEL", key(r)] },
  { name: "GETEX", weight: 3, gen: (r) => ["GETEX", key(r), ...(r.chance(0.7) ? expiryOption(r, true) : [])] },
  { name: "MGET", weight: 3, gen: (r) => ["MGET", ...keys(r, 1, 4)] },
  { name: "MSET", weight: 3, gen: (r) => ["MSET", ...pairs(r, () => key(r), () => value(r))] },
  { name: "MSETNX", weight: 2, gen: (r) => ["MSETNX", ...pairs(r, () => key(r), () => value(r))] },
  { name: "INCR", weight: 5, gen: (r) => ["INCR", key(r)] },
  { name: "DECR", weight: 3, gen: (r) => ["DECR", key(r)] },
  { name: "INCRBY", weight: 5, gen: (r) => ["INCRBY", key(r), increment(r)] },
  { name: "DECRBY", weight: 3, gen: (r) => ["DECRBY", key(r), increment(r)] },
  { name: "INCRBYFLOAT", weight: 5, gen: (r) => ["INCRBYFLOAT", key(r), float(r)] },
  { name: "APPEND", weight: 4, gen: (r) => ["APPEND", key(r), value(r)] },
  { name: "STRLEN", weight: 3, gen: (r) => ["STRLEN", key(r)] },
  { name: "GETRANGE", weight: 3, gen: (r) => ["GETRANGE", key(r), integer(r, -8, 8), integer(r, -8, 50)] },
  { name: "SUBSTR", weight: 1, gen: (r) => ["SUBSTR", key(r), integer(r, -8, 8), integer(r, -8, 50)] },
  {
    name: "LCS",
    weight: 2,
    gen: (r) => [
      "LCS",
      key(r),
      key(r),
      ...(r.chance(0.3) ? [r.pick(["LEN", "IDX", "idx"])] : []),
      ...(r.chance(0.3) ? ["MINMATCHLEN", r.pick(["0", "1", "2", "3", "-1", "x"])] : []),
      ...(r.chance(0.3) ? ["WITHMATCHLEN"] : []),
      ...(r.chance(0.05) ? [r.pick(["LEN", "FOO", "MINMATCHLEN"])] : []),
    ],
  },
  {
    name: "SETRANGE",
    weight: 3,
    gen: (r) => ["SETRANGE", key(r), r.chance(0.9) ? String(r.int(0, 20)) : r.pick(["-1", "536870912", ...INT64_EDGES]), value(r)],
  },
];

export const hashes: CommandSpec[] = [
  { name: "HSET", weight: 8, gen: (r) => ["HSET", key(r), ...pairs(r, () => member(r), () => value(r))] },
  { name: "HSETNX", weight: 2, gen: (r) => ["HSETNX", key(r), member(r), value(r)] },
  { name: "HMSET", weight: 2, gen: (r) => ["HMSET", key(r), ...pairs(r, () => member(r), () => value(r))] },
  { name: "HGET", weight: 5, gen: (r) => ["HGET", key(r), member(r)] },
  { name: "HMGET", weight: 3, gen: (r) => ["HMGET", key(r), ...members(r, 1, 3)] },
  { name: "HGETALL", weight: 3, gen: (r) => ["HGETALL", key(r)] },
  { name: "HDEL", weight: 3, gen: (r) => ["HDEL", key(r), ...members(r, 1, 2)] },
  { name: "HEXISTS", weight: 2, gen: (r) => ["HEXISTS", key(r), member(r)] },
  { name: "HLEN", weight: 2, gen: (r) => ["HLEN", key(r)] },
  { name: "HSTRLEN", weight: 2, gen: (r) => ["HSTRLEN", key(r), member(r)] },
  { name: "HKEYS", weight: 2, gen: (r) => ["HKEYS", key(r)] },
  { name: "HVALS", weight: 2, gen: (r) => ["HVALS", key(r)] },
  { name: "HINCRBY", weight: 4, gen: (r) => ["HINCRBY", key(r), member(r), increment(r)] },
  { name: "HINCRBYFLOAT", weight: 4, gen: (r) => ["HINCRBYFLOAT", key(r), member(r), float(r)] },
  {
    name: "HRANDFIELD",
    weight: 2,
    random: "fields",
    gen: (r) => ["HRANDFIELD", key(r), ...(r.chance(0.7) ? [integer(r, -6, 6), ...maybe(r, 0.5, "WITHVALUES")] : [])],
  },
  {
    name: "HSCAN",
    weight: 2,
    scan: true,
    gen: (r) => ["HSCAN", key(r), "0", ...maybe(r, 0.3, "MATCH", r.pick(["*", "a*", "?", "m[12]", "[", "\\*"])), ...maybe(r, 0.5, "COUNT", String(r.int(1, 3)))],
  },
];
