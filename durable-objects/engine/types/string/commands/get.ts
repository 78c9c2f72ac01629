import { defineCommand, key } from "../../../command";

/** GET key @see https://redis.io/docs/latest/commands/get/ */
export default defineCommand({
  name: "get",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => db.getString(k),
});
