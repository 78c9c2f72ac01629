import { parseInt64 } from "../../../args";
import { type LongDouble, addLongDouble, formatLongDouble, parseLongDouble } from "../../../long-double";
import { fromBytes, toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { Hash } from "../hash";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * HINCRBY key field increment. Replicated as the HSET of the result.
 * @see https://redis.io/docs/latest/commands/hincrby/
 */
export default defineCommand({
  name: "hincrby",
  arity: 4,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, field, by]) => ({ key: k!, field: field!, by: parseInt64(by!) }),
  run: ({ db }, a) => {
    const hash = Hash.findOrCreate(db, a.key);
    const stored = hash.get(a.field);
    let current = 0n;
    if (stored !== null) {
      try {
        current = parseInt64(fromBytes(stored));
      } catch {
        throw new RedisError("ERR hash value is not an integer");
      }
    }
    const next = current + a.by;
    if (next < INT64_MIN || next > INT64_MAX) throw errors.overflow();
    hash.set([[a.field, toBytes(next.toString())]], true);
    return Number.isSafeInteger(Number(next)) ? Number(next) : next;
  },
});

/**
 * HINCRBYFLOAT key field increment. Replicated as the HSET of the result, so replicas never redo
 * the float arithmetic. @see https://redis.io/docs/latest/commands/hincrbyfloat/
 */
export const hincrbyfloat = defineCommand({
  name: "hincrbyfloat",
  arity: 4,
  flags: ["write", "denyoom"],
  keys: key(1),
  // The increment is read before the key, as Redis does (its errors come first).
  parse: ([k, field, by]) => {
    const incr = parseLongDouble(by!);
    if (incr === null) throw errors.notFloat();
    if (incr.kind === "inf") throw new RedisError("ERR value is NaN or Infinity");
    return { key: k!, field: field!, by: incr };
  },
  run: ({ db }, a) => {
    const hash = Hash.findOrCreate(db, a.key);
    const stored = hash.get(a.field);
    const current: LongDouble | null = stored === null ? { kind: "finite", negative: false, m: 0n, e: 0 } : parseLongDouble(fromBytes(stored));
    if (current === null) throw new RedisError("ERR hash value is not a float");
    const next = addLongDouble(current, a.by);
    if (next === null || next.kind === "inf") throw new RedisError("ERR increment would produce NaN or Infinity");
    const value = toBytes(formatLongDouble(next));
    hash.set([[a.field, value]], true);
    return value;
  },
});
