import { defineCommand } from "../command";

/** DBSIZE @see https://redis.io/docs/latest/commands/dbsize/ */
export default defineCommand({
  name: "dbsize",
  arity: 1,
  flags: ["readonly"],
  keys: null,
  parse: () => null,
  run: ({ db }) => db.keyCount,
});
