import { formatFloat, parseFloat64 } from "../args";
import { fromBytes, toBytes } from "../bytes";
import { defineCommand, key } from "../command";
import { RedisError, errors } from "../errors";

/**
 * INCRBYFLOAT key increment. Replicated as the resulting SET, so replicas never redo the float
 * arithmetic. @see https://redis.io/docs/latest/commands/incrbyfloat/
 */
export default defineCommand({
  name: "incrbyfloat",
  arity: 3,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, by]) => ({ key: k!, by: parseFloat64(by!) }),
  run: ({ db }, a) => {
    const entry = db.get(a.key);
    if (entry !== null && entry.type !== "string") throw errors.wrongType();
    const current = entry === null ? 0 : parseFloat64(fromBytes(entry.value));
    const next = current + a.by;
    if (!Number.isFinite(next)) throw new RedisError("ERR increment would produce NaN or Infinity");
    const value = toBytes(formatFloat(next));
    db.setString(a.key, value, entry?.expiresAt ?? null);
    return value;
  },
});
