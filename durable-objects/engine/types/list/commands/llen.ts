import { defineCommand, key } from "../../../command";
import { List } from "../list";

/** LLEN key @see https://redis.io/docs/latest/commands/llen/ */
export default defineCommand({
  name: "llen",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => List.find(db, k)?.length ?? 0,
});
