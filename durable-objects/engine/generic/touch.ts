import { defineCommand, key } from "../command";

/** TOUCH key [key ...]: how many of the keys exist. @see https://redis.io/docs/latest/commands/touch/ */
export default defineCommand({
  name: "touch",
  arity: -2,
  flags: ["readonly"],
  keys: key(1, -1),
  parse: (keys) => keys,
  run: ({ db }, keys) => keys.filter((k) => db.exists(k)).length,
});
