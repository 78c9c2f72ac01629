import { defineCommand, key } from "../command";

/** TYPE key: `string`, ... or `none`. @see https://redis.io/docs/latest/commands/type/ */
export default defineCommand({
  name: "type",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => db.get(k)?.type ?? "none",
});
