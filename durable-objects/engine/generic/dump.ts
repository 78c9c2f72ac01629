import { defineCommand, key } from "../command";
import { dumpPayload } from "../rdb/payload";
import { serializedValue } from "./serialized";

/**
 * DUMP key @see https://redis.io/docs/latest/commands/dump/
 * The value in Redis's serialization (engine/rdb/): RDB version 10, which every Redis 7 restores,
 * or 12 (Redis 7.4) for a hash with field deadlines; the key's own deadline is not in it.
 */
export default defineCommand({
  name: "dump",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => {
    const value = serializedValue(db, k);
    return value === null ? null : dumpPayload(value);
  },
});
