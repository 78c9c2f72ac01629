import { concatBytes, toBytes } from "../bytes";
import { defineCommand, key } from "../command";

/** APPEND key value: the new length in bytes. @see https://redis.io/docs/latest/commands/append/ */
export default defineCommand({
  name: "append",
  arity: 3,
  flags: ["write"],
  keys: key(1),
  parse: ([k, value]) => ({ key: k!, value: value! }),
  run: ({ db }, a) => {
    const current = db.getString(a.key);
    const expiresAt = current === null ? null : db.get(a.key)!.expiresAt;
    const next = concatBytes([current ?? new Uint8Array(0), toBytes(a.value)]);
    db.setString(a.key, next, expiresAt);
    return next.length;
  },
});
