import { defineCommand, key } from "../command";

/** EXISTS key [key ...]: a key named twice counts twice. @see https://redis.io/docs/latest/commands/exists/ */
export default defineCommand({
  name: "exists",
  arity: -2,
  flags: ["readonly"],
  keys: key(1, -1),
  parse: (keys) => keys,
  run: ({ db }, keys) => keys.filter((k) => db.exists(k)).length,
});
