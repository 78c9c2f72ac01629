/** Lists' argument rules, as t_list.c reads them (getLongFromObjectOrReply and its range forms). */
import { parseInt64 } from "../../args";
import { RedisError, errors } from "../../errors";
import type { End } from "./list";

export const LONG_MAX = 2n ** 63n - 1n;

/**
 * An integer in [min, max] (Redis's `long`), as a number: beyond 2^53 it is clamped, which changes
 * nothing for list indexes and counts. `message` replaces both Redis's default errors, as in Redis.
 * @throws ERR value is not an integer or out of range / value is out of range, value must between ...
 */
export function long(s: string, min = -LONG_MAX - 1n, max = LONG_MAX, message?: string): number {
  let n: bigint;
  try {
    n = parseInt64(s);
  } catch {
    throw message === undefined ? errors.notInteger() : new RedisError(`ERR ${message}`);
  }
  if (n < min || n > max) throw new RedisError(`ERR ${message ?? `value is out of range, value must between ${min} and ${max}`}`);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(n > limit ? limit : n < -limit ? -limit : n);
}

/** A count that must not be negative, with Redis's default message for it. */
export const positive = (s: string, message = "value is out of range, must be positive") => long(s, 0n, LONG_MAX, message);

/** LEFT or RIGHT (any case). @throws ERR syntax error */
export function parseEnd(s: string): End {
  const upper = s.toUpperCase();
  if (upper === "LEFT") return "left";
  if (upper === "RIGHT") return "right";
  throw errors.syntax();
}
