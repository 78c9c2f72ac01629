import { defineCommand, key } from "../../../command";
import { Hash } from "../hash";

/** HDEL key field [field ...] → how many were removed; an emptied hash goes. @see https://redis.io/docs/latest/commands/hdel/ */
export default defineCommand({
  name: "hdel",
  arity: -3,
  flags: ["write"],
  keys: key(1),
  parse: ([k, ...fields]) => ({ key: k!, fields }),
  run: ({ db }, a) => Hash.find(db, a.key)?.delete(a.fields) ?? 0,
});
