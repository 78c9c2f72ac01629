/**
 * The expiry options that SET and GETEX share, parsed once into a type in which EX with PX, or
 * KEEPTTL with EX, cannot be expressed.
 */
import { parseInt64 } from "./args";
import { errors } from "./errors";

export type Expiry =
  | { readonly kind: "none" }
  | { readonly kind: "keep" }
  | { readonly kind: "persist" }
  | { readonly kind: "in"; readonly ms: bigint; readonly command: string }
  | { readonly kind: "at"; readonly ms: number };

/** Redis keeps deadlines as a long long of ms: it accepts every deadline up to this one. */
export const LLONG_MAX = 2n ** 63n - 1n;

/**
 * Parses the value of EX/PX/EXAT/PXAT with Redis's bounds (a positive count whose milliseconds,
 * and later `now` plus them, fit a long long). `command` names the command in the error text.
 * Deadlines past 2^53 ms (the year 287,396) are kept as the nearest double, so they may be off
 * by a few ms: no clock will reach them.
 * @throws ERR invalid expire time when the value is not positive or overflows
 */
export function expiryOption(option: "EX" | "PX" | "EXAT" | "PXAT", value: string, command: string): Expiry {
  const n = parseInt64(value);
  const seconds = option === "EX" || option === "EXAT";
  if (n <= 0n || (seconds && n > LLONG_MAX / 1000n)) throw errors.invalidExpire(command);
  const ms = seconds ? n * 1000n : n;
  return option === "EX" || option === "PX" ? { kind: "in", ms, command } : { kind: "at", ms: Number(ms) };
}

/**
 * The absolute deadline an expiry gives at `now`; `current` is the key's deadline before.
 * @throws ERR invalid expire time when `now` plus a relative expiry overflows, as Redis checks
 */
export function deadline(expiry: Expiry, now: number, current: number | null): number | null {
  switch (expiry.kind) {
    case "none":
    case "persist":
      return null;
    case "keep":
      return current;
    case "in":
      if (expiry.ms > LLONG_MAX - BigInt(now)) throw errors.invalidExpire(expiry.command);
      return now + Number(expiry.ms);
    case "at":
      return expiry.ms;
  }
}

export const isExpiryOption = (o: string): o is "EX" | "PX" | "EXAT" | "PXAT" =>
  o === "EX" || o === "PX" || o === "EXAT" || o === "PXAT";
