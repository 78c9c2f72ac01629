import { defineCommand, key } from "../../../command";

/** STRLEN key: length in bytes. @see https://redis.io/docs/latest/commands/strlen/ */
export default defineCommand({
  name: "strlen",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => {
    const e = db.lookupString(k);
    return e === null ? 0 : db.stringLength(e);
  },
});
