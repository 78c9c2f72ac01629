import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { appendString } from "../writes";

/** APPEND key value: the new length in bytes. @see https://redis.io/docs/latest/commands/append/ */
export default defineCommand({
  name: "append",
  arity: 3,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, value]) => ({ key: k!, value: toBytes(value!) }),
  run: ({ db }, a) => appendString(db, a.key, a.value),
});
