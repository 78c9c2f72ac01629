import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { LONG_MAX, long } from "../../../args";
import { List } from "../list";

/**
 * LREM key count element: the first |count| equal elements from the head (count > 0), the tail
 * (count < 0), or all (0) → how many went. @see https://redis.io/docs/latest/commands/lrem/
 */
export default defineCommand({
  name: "lrem",
  arity: 4,
  flags: ["write"],
  keys: key(1),
  parse: ([k, count, value]) => ({ key: k!, count: long(count!, -LONG_MAX, LONG_MAX), value: toBytes(value!) }),
  run: ({ db }, a) => List.find(db, a.key)?.removeEqual(a.count, a.value) ?? 0,
});
