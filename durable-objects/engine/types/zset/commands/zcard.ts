import { defineCommand, key } from "../../../command";
import { Zset, parseLexRange, parseScoreRange } from "../zset";

/** ZCARD key @see https://redis.io/docs/latest/commands/zcard/ */
export default defineCommand({
  name: "zcard",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => Zset.find(db, k)?.length ?? 0,
});

/** ZCOUNT key min max: members with a score in the range, counted over the index. @see https://redis.io/docs/latest/commands/zcount/ */
export const zcount = defineCommand({
  name: "zcount",
  arity: 4,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, min, max]) => ({ key: k!, range: parseScoreRange(min!, max!) }),
  run: ({ db }, a) => Zset.find(db, a.key)?.count(a.range) ?? 0,
});

/** ZLEXCOUNT key min max: members in the lexicographic range. @see https://redis.io/docs/latest/commands/zlexcount/ */
export const zlexcount = defineCommand({
  name: "zlexcount",
  arity: 4,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, min, max]) => ({ key: k!, range: parseLexRange(min!, max!) }),
  run: ({ db }, a) => Zset.find(db, a.key)?.count(a.range) ?? 0,
});
