import { fromBytes, toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { type LongDouble, addLongDouble, formatLongDouble, parseLongDouble } from "../../../long-double";
import { setString } from "../writes";

/**
 * INCRBYFLOAT key increment, in Redis's long double (long-double.ts): 64-bit precision, printed
 * with 17 decimals at most. Checked in Redis's order: the key's type, its value, then the
 * increment. Replicated as the resulting SET, so replicas never redo the arithmetic.
 * @see https://redis.io/docs/latest/commands/incrbyfloat/
 */
export default defineCommand({
  name: "incrbyfloat",
  arity: 3,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, by]) => ({ key: k!, by: by! }),
  run: ({ db }, a) => {
    const entry = db.get(a.key);
    if (entry !== null && entry.type !== "string") throw errors.wrongType();
    const zero: LongDouble = { kind: "finite", negative: false, m: 0n, e: 0 };
    // A paged string is longer than any number.
    const current = entry === null ? zero : entry.eid !== undefined ? null : parseLongDouble(fromBytes(entry.value));
    const by = parseLongDouble(a.by);
    if (current === null || by === null) throw errors.notFloat();
    const next = addLongDouble(current, by);
    if (next === null || next.kind === "inf") throw new RedisError("ERR increment would produce NaN or Infinity");
    const value = toBytes(formatLongDouble(next));
    setString(db, a.key, value, entry?.expiresAt ?? null, "text");
    return value;
  },
});
