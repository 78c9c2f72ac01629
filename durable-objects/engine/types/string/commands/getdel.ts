import { defineCommand, key } from "../../../command";

/** GETDEL key @see https://redis.io/docs/latest/commands/getdel/ */
export default defineCommand({
  name: "getdel",
  arity: 2,
  flags: ["write"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => {
    const value = db.getString(k);
    if (value !== null) db.delete(k);
    return value;
  },
});
