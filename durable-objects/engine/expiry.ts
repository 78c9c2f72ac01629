/**
 * The expiry options that SET and GETEX share, read as Redis's parseExtendedStringArgumentsOrReply
 * reads them: an option may repeat (the last value wins), but two kinds of expiry, or KEEPTTL
 * (PERSIST) with one, are a syntax error. The value is checked later, when Redis checks it:
 * SET before it looks the key up, GETEX after (a missing key answers nil whatever the value).
 */
import { parseInt64 } from "./args";
import { errors } from "./errors";

export type ExpiryOption = "EX" | "PX" | "EXAT" | "PXAT";

export type Expiry =
  | { readonly kind: "none" }
  | { readonly kind: "keep" }
  | { readonly kind: "persist" }
  /** An EX/PX/EXAT/PXAT value, unchecked; `command` names the command in its error. */
  | { readonly kind: "set"; readonly option: ExpiryOption; readonly value: string; readonly command: string };

/** Redis keeps deadlines as a long long of ms: it accepts every deadline up to this one. */
export const LLONG_MAX = 2n ** 63n - 1n;

export interface StringOptions {
  readonly condition: "NX" | "XX" | null;
  readonly get: boolean;
  readonly expiry: Expiry;
}

/**
 * SET's options (`set`) or GETEX's (`getex`), as Redis reads them: NX, XX, GET and KEEPTTL for SET,
 * PERSIST for GETEX, EX/PX/EXAT/PXAT for both.
 * @throws ERR syntax error
 */
export function parseStringOptions(args: readonly string[], command: "set" | "getex"): StringOptions {
  const set = command === "set";
  let condition: StringOptions["condition"] = null;
  let get = false;
  let keep = false; // KEEPTTL, or GETEX's PERSIST
  let expiring: { option: ExpiryOption; value: string } | null = null;
  for (let j = 0; j < args.length; j++) {
    const option = args[j]!.toUpperCase();
    const next = args[j + 1];
    if (set && (option === "NX" || option === "XX") && condition !== (option === "NX" ? "XX" : "NX")) condition = option;
    else if (set && option === "GET") get = true;
    else if (option === (set ? "KEEPTTL" : "PERSIST") && expiring === null) keep = true;
    else if (isExpiryOption(option) && !keep && (expiring === null || expiring.option === option) && next !== undefined) {
      expiring = { option, value: next };
      j++;
    } else throw errors.syntax();
  }
  const expiry: Expiry = expiring ? { kind: "set", ...expiring, command } : keep ? { kind: set ? "keep" : "persist" } : { kind: set ? "none" : "keep" };
  return { condition, get, expiry };
}

/**
 * The absolute deadline (ms) that EX/PX/EXAT/PXAT `value` names at `now`, with Redis's bounds: a
 * positive count whose milliseconds, plus `now` for EX and PX, fit a long long. Deadlines past
 * 2^53 ms (the year 287,396) are kept as the nearest double, so they may be off by a few ms: no
 * clock will reach them.
 * @throws ERR value is not an integer, or ERR invalid expire time in '<command>' command
 */
export function expiryDeadline({ option, value, command }: Extract<Expiry, { kind: "set" }>, now: number): number {
  const n = parseInt64(value);
  const seconds = option === "EX" || option === "EXAT";
  if (n <= 0n || (seconds && n > LLONG_MAX / 1000n)) throw errors.invalidExpire(command);
  const ms = seconds ? n * 1000n : n;
  const relative = option === "EX" || option === "PX";
  if (relative && ms > LLONG_MAX - BigInt(now)) throw errors.invalidExpire(command);
  return Number(relative ? ms + BigInt(now) : ms);
}

const isExpiryOption = (o: string): o is ExpiryOption => o === "EX" || o === "PX" || o === "EXAT" || o === "PXAT";
