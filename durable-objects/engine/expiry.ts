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
  | { readonly kind: "in"; readonly ms: number }
  | { readonly kind: "at"; readonly ms: number };

/** Largest deadline Redis accepts, in ms (it rejects what would overflow a long long). */
const MAX_MS = 2 ** 53 - 1;

/**
 * Parses the value of EX/PX/EXAT/PXAT. `command` names the command in Redis's error text.
 * @throws ERR invalid expire time when the value is not positive or overflows
 */
export function expiryOption(option: "EX" | "PX" | "EXAT" | "PXAT", value: string, command: string): Expiry {
  const n = parseInt64(value);
  if (n <= 0n) throw errors.invalidExpire(command);
  const ms = option === "EX" || option === "EXAT" ? n * 1000n : n;
  if (ms > BigInt(MAX_MS)) throw errors.invalidExpire(command);
  return option === "EX" || option === "PX" ? { kind: "in", ms: Number(ms) } : { kind: "at", ms: Number(ms) };
}

/** The absolute deadline an expiry gives at `now`; `current` is the key's deadline before. */
export function deadline(expiry: Expiry, now: number, current: number | null): number | null {
  switch (expiry.kind) {
    case "none":
    case "persist":
      return null;
    case "keep":
      return current;
    case "in":
      return now + expiry.ms;
    case "at":
      return expiry.ms;
  }
}

export const isExpiryOption = (o: string): o is "EX" | "PX" | "EXAT" | "PXAT" =>
  o === "EX" || o === "PX" || o === "EXAT" || o === "PXAT";
