import { parseInteger } from "../../../args";
import { defineCommand, key } from "../../../command";
import type { ZsetRange } from "../range";
import { Zset, parseLexRange, parseScoreRange, rankWindow } from "../zset";

/**
 * ZREMRANGEBYRANK key start stop → how many were removed. Replicated as ZREM of them, or DEL when
 * every member goes. @see https://redis.io/docs/latest/commands/zremrangebyrank/
 */
export default defineCommand({
  name: "zremrangebyrank",
  arity: 4,
  flags: ["write"],
  keys: key(1),
  parse: ([k, start, stop]) => ({ key: k!, start: parseInteger(start!), stop: parseInteger(stop!) }),
  run: ({ db }, a) => {
    const zset = Zset.find(db, a.key);
    const window = zset && rankWindow(a.start, a.stop, zset.length);
    return window ? zset!.removeRange({ by: "all" }, window.offset, window.limit) : 0;
  },
});

const byRange = (name: string, parse: (min: string, max: string) => ZsetRange) =>
  defineCommand({
    name,
    arity: 4,
    flags: ["write"],
    keys: key(1),
    parse: ([k, min, max]) => ({ key: k!, range: parse(min!, max!) }),
    run: ({ db }, a) => Zset.find(db, a.key)?.removeRange(a.range, 0, -1) ?? 0,
  });

/** ZREMRANGEBYSCORE key min max → how many were removed (ZREM, or DEL when all go). @see https://redis.io/docs/latest/commands/zremrangebyscore/ */
export const zremrangebyscore = byRange("zremrangebyscore", parseScoreRange);
/** ZREMRANGEBYLEX key min max → how many were removed (ZREM, or DEL when all go). @see https://redis.io/docs/latest/commands/zremrangebylex/ */
export const zremrangebylex = byRange("zremrangebylex", parseLexRange);
