import { defineCommand, key } from "../../../command";
import { Zset } from "../zset";

/** ZREM key member [member ...] → how many were removed; an emptied sorted set goes. @see https://redis.io/docs/latest/commands/zrem/ */
export default defineCommand({
  name: "zrem",
  arity: -3,
  flags: ["write"],
  keys: key(1),
  parse: ([k, ...members]) => ({ key: k!, members }),
  run: ({ db }, a) => Zset.find(db, a.key)?.remove(a.members) ?? 0,
});
