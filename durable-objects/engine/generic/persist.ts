import { defineCommand, key } from "../command";

/** PERSIST key: 1 when a TTL was removed. @see https://redis.io/docs/latest/commands/persist/ */
export default defineCommand({
  name: "persist",
  arity: 2,
  flags: ["write"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => (db.get(k)?.expiresAt != null ? Number(db.setDeadline(k, null)) : 0),
});
