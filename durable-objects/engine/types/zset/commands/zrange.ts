import { parseInteger } from "../../../args";
import { type Command, type Reply, defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import type { ZsetRange } from "../range";
import { Zset, membersReply, parseLexRange, parseScoreRange, rankWindow } from "../zset";

/** What a ZRANGE-family call asks for, parsed once. */
type Query =
  | { readonly by: "rank"; readonly start: number; readonly stop: number }
  | { readonly by: "score" | "lex"; readonly range: ZsetRange; readonly offset: number; readonly limit: number };

interface Args {
  readonly key: string;
  readonly query: Query;
  readonly reverse: boolean;
  readonly withScores: boolean;
}

interface StoreArgs extends Args {
  readonly dest: string;
}

/** What a command fixes before its options are read (ZRANGE fixes nothing; ZREVRANGEBYSCORE both). */
interface Fixed {
  readonly by: "rank" | "score" | "lex" | null;
  readonly reverse: boolean | null;
  readonly store: boolean;
}

/**
 * `src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]` as Redis's
 * zrangeGenericCommand reads it: options a command fixes, or REV, BYSCORE or BYLEX given twice,
 * are syntax errors; the options are read before the range; with REV a score or lex range is
 * given max first.
 */
function parseRange([src, first, second, ...options]: readonly string[], fixed: Fixed): Args {
  let by = fixed.by;
  let reverse = fixed.reverse;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = 0; j < options.length; j++) {
    const option = options[j]!.toUpperCase();
    const left = options.length - j - 1;
    if (!fixed.store && option === "WITHSCORES") withScores = true;
    else if (option === "LIMIT" && left >= 2) {
      offset = parseInteger(options[j + 1]!);
      limit = parseInteger(options[j + 2]!);
      j += 2;
    } else if (reverse === null && option === "REV") reverse = true;
    else if (by === null && option === "BYLEX") by = "lex";
    else if (by === null && option === "BYSCORE") by = "score";
    else throw errors.syntax();
  }
  const rangeBy = by ?? "rank";
  const rev = reverse ?? false;
  if (limit !== -1 && rangeBy === "rank")
    throw new RedisError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  if (withScores && rangeBy === "lex") throw new RedisError("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  const [min, max] = rev && rangeBy !== "rank" ? [second!, first!] : [first!, second!];
  const query: Query =
    rangeBy === "rank"
      ? { by: "rank", start: parseInteger(min), stop: parseInteger(max) }
      : { by: rangeBy, range: rangeBy === "score" ? parseScoreRange(min, max) : parseLexRange(min, max), offset, limit };
  return { key: src!, query, reverse: rev, withScores };
}

/** The members a query covers, with their scores. */
function select(zset: Zset, a: Args) {
  const q = a.query;
  if (q.by === "rank") {
    const window = rankWindow(q.start, q.stop, zset.length);
    return window === null ? [] : zset.range({ by: "all" }, a.reverse, window.offset, window.limit);
  }
  // A negative offset finds nothing (Redis walks past the end); a negative count means all.
  if (q.offset < 0 || q.offset >= zset.length) return [];
  return zset.range(q.range, a.reverse, q.offset, q.limit);
}

function rangeCommand(name: string, arity: number, fixed: Omit<Fixed, "store">): Command<Args> {
  return defineCommand<Args>({
    name,
    arity,
    flags: ["readonly"],
    keys: key(1),
    parse: (args) => parseRange(args, { ...fixed, store: false }),
    run: ({ db }, a): Reply => {
      const zset = Zset.find(db, a.key);
      return zset === null ? [] : membersReply(select(zset, a), a.withScores);
    },
  });
}

/**
 * ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]: by rank, score
 * or member, from the index (ZRANGE 0 9 reads ten entries whatever the set's size).
 * @see https://redis.io/docs/latest/commands/zrange/
 */
export default rangeCommand("zrange", -4, { by: null, reverse: null });

/** ZREVRANGE key start stop [WITHSCORES] @see https://redis.io/docs/latest/commands/zrevrange/ */
export const zrevrange = rangeCommand("zrevrange", -4, { by: "rank", reverse: true });
/** ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] @see https://redis.io/docs/latest/commands/zrangebyscore/ */
export const zrangebyscore = rangeCommand("zrangebyscore", -4, { by: "score", reverse: false });
/** ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] @see https://redis.io/docs/latest/commands/zrevrangebyscore/ */
export const zrevrangebyscore = rangeCommand("zrevrangebyscore", -4, { by: "score", reverse: true });
/** ZRANGEBYLEX key min max [LIMIT offset count] @see https://redis.io/docs/latest/commands/zrangebylex/ */
export const zrangebylex = rangeCommand("zrangebylex", -4, { by: "lex", reverse: false });
/** ZREVRANGEBYLEX key max min [LIMIT offset count] @see https://redis.io/docs/latest/commands/zrevrangebylex/ */
export const zrevrangebylex = rangeCommand("zrevrangebylex", -4, { by: "lex", reverse: true });

/**
 * ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] → the size of dst,
 * written whole (an empty result deletes it). Replicated as DEL dst and ZADDs of the result.
 * @see https://redis.io/docs/latest/commands/zrangestore/
 */
export const zrangestore = defineCommand<StoreArgs>({
  name: "zrangestore",
  arity: -5,
  flags: ["write", "denyoom"],
  keys: key(1, 2),
  parse: ([dest, ...rest]) => ({ dest: dest!, ...parseRange(rest, { by: null, reverse: null, store: true }) }),
  run: ({ db }, a) => {
    const zset = Zset.find(db, a.key);
    const rows = zset === null ? [] : select(zset, a);
    return Zset.store(db, a.dest, rows.map((r) => ({ field: r.field, score: r.score ?? 0 })));
  },
});
