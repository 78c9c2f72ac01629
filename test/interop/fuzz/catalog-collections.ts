/**
 * The generator's commands, part 2: lists, sets and sorted sets, with their STORE and CARD forms
 * and their blocking forms (with timeouts of milliseconds: an empty key answers nil on both sides
 * after waiting them; never 0, which would hold redis-server's connection for good). Multi-key commands draw their keys from the same eight, so a source is
 * often the destination, missing, or of another type.
 */
import { type CommandSpec, maybe, members, pairs } from "./catalog-basic.ts";
import type { Random } from "./random.ts";
import { LEX_BOUNDS, float, integer, key, keys, member, scoreBound } from "./values.ts";

const side = (r: Random) => r.pick(["LEFT", "RIGHT"]);
/** A blocking command's timeout: a few milliseconds, or one Redis refuses. */
const timeout = (r: Random) => (r.chance(0.85) ? r.pick(["0.001", "0.005", "0.01"]) : r.pick(["-1", "abc", "1 ", "inf", "-0.5", "nan"]));
const count = (r: Random) => (r.chance(0.85) ? String(r.int(0, 5)) : integer(r));

/** `numkeys k…`: usually right, sometimes a count that does not match the keys that follow. */
function numkeys(r: Random, min = 1, max = 3): string[] {
  const ks = keys(r, min, max);
  const n = r.chance(0.9) ? String(ks.length) : r.pick(["0", "-1", String(ks.length + 1), "x", "9223372036854775807"]);
  return [n, ...ks];
}

/** A rank index: mostly within a small collection's range, either end. */
const index = (r: Random) => (r.chance(0.9) ? String(r.int(-7, 7)) : integer(r));

/** LIMIT offset count, sometimes with an offset or count that is an edge. */
const limit = (r: Random) => ["LIMIT", r.chance(0.85) ? String(r.int(0, 3)) : integer(r), r.chance(0.85) ? String(r.int(-1, 4)) : integer(r)];

export const lists: CommandSpec[] = [
  { name: "LPUSH", weight: 6, gen: (r) => ["LPUSH", key(r), ...members(r, 1, 3)] },
  { name: "RPUSH", weight: 6, gen: (r) => ["RPUSH", key(r), ...members(r, 1, 3)] },
  { name: "LPUSHX", weight: 2, gen: (r) => ["LPUSHX", key(r), ...members(r, 1, 2)] },
  { name: "RPUSHX", weight: 2, gen: (r) => ["RPUSHX", key(r), ...members(r, 1, 2)] },
  { name: "LPOP", weight: 3, gen: (r) => ["LPOP", key(r), ...maybe(r, 0.5, count(r))] },
  { name: "RPOP", weight: 3, gen: (r) => ["RPOP", key(r), ...maybe(r, 0.5, count(r))] },
  { name: "LMPOP", weight: 2, gen: (r) => ["LMPOP", ...numkeys(r), side(r), ...maybe(r, 0.5, "COUNT", count(r))] },
  { name: "LLEN", weight: 3, gen: (r) => ["LLEN", key(r)] },
  { name: "LRANGE", weight: 4, gen: (r) => ["LRANGE", key(r), index(r), index(r)] },
  { name: "LINDEX", weight: 3, gen: (r) => ["LINDEX", key(r), index(r)] },
  { name: "LSET", weight: 2, gen: (r) => ["LSET", key(r), index(r), member(r)] },
  { name: "LINSERT", weight: 2, gen: (r) => ["LINSERT", key(r), r.chance(0.95) ? r.pick(["BEFORE", "AFTER"]) : "MIDDLE", member(r), member(r)] },
  { name: "LREM", weight: 2, gen: (r) => ["LREM", key(r), index(r), member(r)] },
  { name: "LTRIM", weight: 2, gen: (r) => ["LTRIM", key(r), index(r), index(r)] },
  {
    name: "LPOS",
    weight: 2,
    gen: (r) => [
      "LPOS", key(r), member(r),
      ...maybe(r, 0.4, "RANK", r.chance(0.8) ? String(r.int(-3, 3)) : integer(r)),
      ...maybe(r, 0.4, "COUNT", count(r)),
      ...maybe(r, 0.2, "MAXLEN", count(r)),
    ],
  },
  { name: "LMOVE", weight: 2, gen: (r) => ["LMOVE", key(r), key(r), side(r), side(r)] },
  { name: "RPOPLPUSH", weight: 1, gen: (r) => ["RPOPLPUSH", key(r), key(r)] },
];

export const sets: CommandSpec[] = [
  { name: "SADD", weight: 8, gen: (r) => ["SADD", key(r), ...members(r, 1, 4)] },
  { name: "SREM", weight: 3, gen: (r) => ["SREM", key(r), ...members(r, 1, 2)] },
  { name: "SCARD", weight: 2, gen: (r) => ["SCARD", key(r)] },
  { name: "SISMEMBER", weight: 2, gen: (r) => ["SISMEMBER", key(r), member(r)] },
  { name: "SMISMEMBER", weight: 2, gen: (r) => ["SMISMEMBER", key(r), ...members(r, 1, 3)] },
  { name: "SMEMBERS", weight: 3, gen: (r) => ["SMEMBERS", key(r)] },
  { name: "SPOP", weight: 2, randomWrite: true, gen: (r) => ["SPOP", key(r), ...maybe(r, 0.5, count(r))] },
  { name: "SRANDMEMBER", weight: 2, random: "members", gen: (r) => ["SRANDMEMBER", key(r), ...maybe(r, 0.7, integer(r, -6, 6))] },
  { name: "SMOVE", weight: 2, gen: (r) => ["SMOVE", key(r), key(r), member(r)] },
  { name: "SINTER", weight: 2, gen: (r) => ["SINTER", ...keys(r)] },
  { name: "SUNION", weight: 2, gen: (r) => ["SUNION", ...keys(r)] },
  { name: "SDIFF", weight: 2, gen: (r) => ["SDIFF", ...keys(r)] },
  { name: "SINTERSTORE", weight: 2, gen: (r) => ["SINTERSTORE", key(r), ...keys(r)] },
  { name: "SUNIONSTORE", weight: 2, gen: (r) => ["SUNIONSTORE", key(r), ...keys(r)] },
  { name: "SDIFFSTORE", weight: 2, gen: (r) => ["SDIFFSTORE", key(r), ...keys(r)] },
  { name: "SINTERCARD", weight: 2, gen: (r) => ["SINTERCARD", ...numkeys(r), ...maybe(r, 0.4, "LIMIT", count(r))] },
  {
    name: "SSCAN",
    weight: 2,
    scan: true,
    gen: (r) => ["SSCAN", key(r), "0", ...maybe(r, 0.3, "MATCH", r.pick(["*", "a*", "?", "m[12]", "[", "1*"])), ...maybe(r, 0.5, "COUNT", String(r.int(1, 3)))],
  },
];

/** ZADD's flags in random combinations (NX with XX, or GT with NX, are Redis's syntax errors). */
function zaddFlags(r: Random): string[] {
  const flags: string[] = [];
  if (r.chance(0.2)) flags.push(r.pick(["NX", "XX"]));
  if (r.chance(0.15)) flags.push(r.pick(["GT", "LT"]));
  if (r.chance(0.2)) flags.push("CH");
  if (r.chance(0.1)) flags.push("INCR");
  return flags;
}

const score = (r: Random) => (r.chance(0.85) ? String(r.int(-3, 9)) : float(r));
const lexBound = (r: Random) => r.pick(LEX_BOUNDS);
const withscores = (r: Random) => maybe(r, 0.5, "WITHSCORES");

/** ZRANGE's forms: by rank, BYSCORE or BYLEX, REV, LIMIT, WITHSCORES (some combinations invalid). */
function zrangeArgs(r: Random): string[] {
  const by = r.weighted([[4, "rank"], [3, "BYSCORE"], [2, "BYLEX"]] as const);
  const [min, max] = by === "rank" ? [index(r), index(r)] : by === "BYSCORE" ? [scoreBound(r), scoreBound(r)] : [lexBound(r), lexBound(r)];
  return [
    min, max,
    ...(by === "rank" ? [] : [by]),
    ...maybe(r, 0.3, "REV"),
    ...(r.chance(by === "rank" ? 0.05 : 0.3) ? limit(r) : []),
    ...(by === "BYLEX" && !r.chance(0.05) ? [] : withscores(r)),
  ];
}

/** ZUNION/ZINTER's WEIGHTS and AGGREGATE options for `n` inputs. */
function weightsAggregate(r: Random, n: number): string[] {
  return [
    ...(r.chance(0.3) ? ["WEIGHTS", ...Array.from({ length: r.chance(0.9) ? n : n + 1 }, () => (r.chance(0.8) ? String(r.int(-2, 3)) : float(r)))] : []),
    ...maybe(r, 0.3, "AGGREGATE", r.pick(["SUM", "MIN", "MAX", "AVG"])),
  ];
}

function algebra(r: Random, withScores: boolean): string[] {
  const nk = numkeys(r);
  const n = Number(nk[0]);
  return [...nk, ...(Number.isSafeInteger(n) && n > 0 ? weightsAggregate(r, n) : []), ...(withScores ? withscores(r) : [])];
}

export const zsets: CommandSpec[] = [
  { name: "ZADD", weight: 10, gen: (r) => ["ZADD", key(r), ...zaddFlags(r), ...pairs(r, () => score(r), () => member(r))] },
  { name: "ZINCRBY", weight: 3, gen: (r) => ["ZINCRBY", key(r), score(r), member(r)] },
  { name: "ZREM", weight: 3, gen: (r) => ["ZREM", key(r), ...members(r, 1, 2)] },
  { name: "ZCARD", weight: 2, gen: (r) => ["ZCARD", key(r)] },
  { name: "ZCOUNT", weight: 2, gen: (r) => ["ZCOUNT", key(r), scoreBound(r), scoreBound(r)] },
  { name: "ZLEXCOUNT", weight: 2, gen: (r) => ["ZLEXCOUNT", key(r), lexBound(r), lexBound(r)] },
  { name: "ZSCORE", weight: 3, gen: (r) => ["ZSCORE", key(r), member(r)] },
  { name: "ZMSCORE", weight: 2, gen: (r) => ["ZMSCORE", key(r), ...members(r, 1, 3)] },
  { name: "ZRANK", weight: 2, gen: (r) => ["ZRANK", key(r), member(r), ...maybe(r, 0.3, "WITHSCORE")] },
  { name: "ZREVRANK", weight: 2, gen: (r) => ["ZREVRANK", key(r), member(r), ...maybe(r, 0.3, "WITHSCORE")] },
  { name: "ZRANGE", weight: 6, gen: (r) => ["ZRANGE", key(r), ...zrangeArgs(r)] },
  { name: "ZRANGESTORE", weight: 2, gen: (r) => ["ZRANGESTORE", key(r), key(r), ...zrangeArgs(r).filter((a) => a !== "WITHSCORES")] },
  { name: "ZREVRANGE", weight: 2, gen: (r) => ["ZREVRANGE", key(r), index(r), index(r), ...withscores(r)] },
  {
    name: "ZRANGEBYSCORE",
    weight: 3,
    gen: (r) => ["ZRANGEBYSCORE", key(r), scoreBound(r), scoreBound(r), ...withscores(r), ...(r.chance(0.3) ? limit(r) : [])],
  },
  {
    name: "ZREVRANGEBYSCORE",
    weight: 2,
    gen: (r) => ["ZREVRANGEBYSCORE", key(r), scoreBound(r), scoreBound(r), ...withscores(r), ...(r.chance(0.3) ? limit(r) : [])],
  },
  { name: "ZRANGEBYLEX", weight: 3, gen: (r) => ["ZRANGEBYLEX", key(r), lexBound(r), lexBound(r), ...(r.chance(0.3) ? limit(r) : [])] },
  { name: "ZREVRANGEBYLEX", weight: 2, gen: (r) => ["ZREVRANGEBYLEX", key(r), lexBound(r), lexBound(r), ...(r.chance(0.3) ? limit(r) : [])] },
  { name: "ZPOPMIN", weight: 2, gen: (r) => ["ZPOPMIN", key(r), ...maybe(r, 0.5, count(r))] },
  { name: "ZPOPMAX", weight: 2, gen: (r) => ["ZPOPMAX", key(r), ...maybe(r, 0.5, count(r))] },
  { name: "ZMPOP", weight: 2, gen: (r) => ["ZMPOP", ...numkeys(r), r.pick(["MIN", "MAX"]), ...maybe(r, 0.5, "COUNT", count(r))] },
  {
    name: "ZRANDMEMBER",
    weight: 2,
    random: "scored",
    gen: (r) => ["ZRANDMEMBER", key(r), ...(r.chance(0.7) ? [integer(r, -6, 6), ...withscores(r)] : [])],
  },
  { name: "ZREMRANGEBYRANK", weight: 2, gen: (r) => ["ZREMRANGEBYRANK", key(r), index(r), index(r)] },
  { name: "ZREMRANGEBYSCORE", weight: 2, gen: (r) => ["ZREMRANGEBYSCORE", key(r), scoreBound(r), scoreBound(r)] },
  { name: "ZREMRANGEBYLEX", weight: 2, gen: (r) => ["ZREMRANGEBYLEX", key(r), lexBound(r), lexBound(r)] },
  { name: "ZUNION", weight: 2, gen: (r) => ["ZUNION", ...algebra(r, true)] },
  { name: "ZUNIONSTORE", weight: 2, gen: (r) => ["ZUNIONSTORE", key(r), ...algebra(r, false)] },
  { name: "ZINTER", weight: 2, gen: (r) => ["ZINTER", ...algebra(r, true)] },
  { name: "ZINTERSTORE", weight: 2, gen: (r) => ["ZINTERSTORE", key(r), ...algebra(r, false)] },
  { name: "ZINTERCARD", weight: 2, gen: (r) => ["ZINTERCARD", ...numkeys(r), ...maybe(r, 0.4, "LIMIT", count(r))] },
  { name: "ZDIFF", weight: 2, gen: (r) => ["ZDIFF", ...numkeys(r), ...withscores(r)] },
  { name: "ZDIFFSTORE", weight: 2, gen: (r) => ["ZDIFFSTORE", key(r), ...numkeys(r)] },
  {
    name: "ZSCAN",
    weight: 2,
    scan: true,
    gen: (r) => ["ZSCAN", key(r), "0", ...maybe(r, 0.3, "MATCH", r.pick(["*", "a*", "?", "m[12]", "["])), ...maybe(r, 0.5, "COUNT", String(r.int(1, 3)))],
  },
];

/** Blocking forms of list and sorted-set pops (a family of their own: `CATALOG` leaves it out, see generator.ts). */
export const blocking: CommandSpec[] = [
  { name: "BLPOP", weight: 1, blocks: true, gen: (r) => ["BLPOP", ...keys(r), timeout(r)] },
  { name: "BRPOP", weight: 1, blocks: true, gen: (r) => ["BRPOP", ...keys(r), timeout(r)] },
  { name: "BLMOVE", weight: 1, blocks: true, gen: (r) => ["BLMOVE", key(r), key(r), side(r), side(r), timeout(r)] },
  { name: "BRPOPLPUSH", weight: 1, blocks: true, gen: (r) => ["BRPOPLPUSH", key(r), key(r), timeout(r)] },
  { name: "BLMPOP", weight: 1, blocks: true, gen: (r) => ["BLMPOP", timeout(r), ...numkeys(r), side(r), ...maybe(r, 0.5, "COUNT", count(r))] },
  { name: "BZPOPMIN", weight: 1, blocks: true, gen: (r) => ["BZPOPMIN", ...keys(r), timeout(r)] },
  { name: "BZPOPMAX", weight: 1, blocks: true, gen: (r) => ["BZPOPMAX", ...keys(r), timeout(r)] },
  { name: "BZMPOP", weight: 1, blocks: true, gen: (r) => ["BZMPOP", timeout(r), ...numkeys(r), r.pick(["MIN", "MAX"]), ...maybe(r, 0.5, "COUNT", count(r))] },
];
