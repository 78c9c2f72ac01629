import { defineCommand, key } from "../../../command";

/** MGET key [key ...]: nil for missing keys and for keys of other types. @see https://redis.io/docs/latest/commands/mget/ */
export default defineCommand({
  name: "mget",
  arity: -2,
  flags: ["readonly"],
  keys: key(1, -1),
  parse: (keys) => keys,
  run: ({ db }, keys) =>
    keys.map((k) => {
      const e = db.lookup(k);
      return e?.type === "string" ? db.stringValue(e) : null;
    }),
});
