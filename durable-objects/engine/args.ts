/** Strict argument parsing with Redis's rules and error texts. */
import { type Bytes, fromBytes } from "./bytes";
import { RedisError, errors } from "./errors";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER = /^(0|-?[1-9][0-9]*)$/;

/** A signed 64-bit integer as Redis's string2ll reads it (no sign `+`, no leading zeros, no `-0`, no spaces). */
export function parseInt64(s: string): bigint {
  if (s.length > 20 || !INTEGER.test(s)) throw errors.notInteger();
  const n = BigInt(s);
  if (n < INT64_MIN || n > INT64_MAX) throw errors.notInteger();
  return n;
}

/** Whether string2ll reads `s` whole: a set member intset keeps, a string Redis stores as `int`. */
export function isInt64(s: string): boolean {
  if (s.length > 20 || !INTEGER.test(s)) return false;
  const n = BigInt(s);
  return n >= INT64_MIN && n <= INT64_MAX;
}

/**
 * `parseInt64` as a JS number, for indexes, offsets and counts: the whole 64-bit range is taken, as
 * Redis takes a long long (`GETRANGE k 0 9223372036854775807`); past 2^53 a value is only
 * approximately itself, which for an index or a count means "more than there is" just the same.
 */
export function parseInteger(s: string): number {
  return Number(parseInt64(s));
}

export const LONG_MAX = 2n ** 63n - 1n;

/**
 * An integer in [min, max] (Redis's getRangeLongFromObjectOrReply), as a number: beyond 2^53 it is clamped, which changes
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

const ULONG_MAX = 2n ** 64n - 1n;

/**
 * A SCAN-family cursor as Redis 7.4 reads it (parseScanCursorOrReply: string2ull): an int64 written
 * as Redis writes one (string2ll) is taken when not negative; anything else as strtoull reads it,
 * base 10: leading spaces, a sign, digits (leading zeros too), a negative wrapping round 2^64, so
 * that only one past int64's range gets through.
 * @throws ERR invalid cursor for "", a negative int64, a trailing byte, or more than 64 bits
 *   (unless `wide`: see scan-cursor.ts)
 */
export function parseScanCursor(s: string, wide = false): bigint {
  const invalid = () => new RedisError("ERR invalid cursor");
  if (/^(0|-?[1-9][0-9]*)$/.test(s)) {
    const n = BigInt(s);
    if (n < 0n && n >= -(2n ** 63n)) throw invalid();
    if (n >= 0n && n < 2n ** 63n) return n;
  }
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (m === null) throw invalid();
  const n = BigInt(m[2]!);
  // HSCAN, SSCAN and ZSCAN (`wide`) take back the cursors they give, which name a field and pass 64 bits.
  if (n > ULONG_MAX && (!wide || m[1] === "-")) throw invalid();
  return m[1] === "-" && n !== 0n ? ULONG_MAX + 1n - n : n;
}

/** The integer stored in a string value. @throws ERR value is not an integer */
export function storedInt64(value: Bytes | null): bigint {
  return value === null ? 0n : parseInt64(fromBytes(value));
}

/** C's isspace(): what strtod skips before a number. */
const SPACE = /^[ \t\n\v\f\r]*/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const INFINITY = /^[+-]?inf(inity)?$/i;
const NAN = /^[+-]?nan(\([0-9A-Za-z_]*\))?$/i;

/**
 * A whole string as glibc's strtod reads it (Redis 7's doubles): leading spaces skipped; decimal,
 * hexadecimal (`0x10`, `0x1.8p3`), `inf`/`infinity`, `nan`. `erange` when the value overflowed to
 * an infinity or underflowed to zero (strtod's ERANGE). Null when strtod would stop short of the
 * end (`1e`, `0x`, `1 `), or read nothing from a non-empty string.
 */
export function strtod(s: string): { value: number; erange: boolean } | null {
  const text = s.slice(SPACE.exec(s)![0].length);
  if (DECIMAL.test(text)) {
    const value = Number(text);
    const erange = !Number.isFinite(value) || (value === 0 && /[1-9]/.test(text.replace(/[eE].*$/, "")));
    return { value, erange };
  }
  if (INFINITY.test(text)) return { value: text.startsWith("-") ? -Infinity : Infinity, erange: false };
  if (NAN.test(text)) return { value: NaN, erange: false };
  const hex = HEX.exec(text);
  if (hex === null) return null;
  const [, sign, int = "", frac = "", exp = "0"] = hex;
  if (int === "" && frac === "") return null; // "0x": strtod reads the 0 and stops at the x
  const value = hexValue(BigInt(`0x${int}${frac}`), Number(exp) - 4 * frac.length);
  const erange = !Number.isFinite(value) || (value === 0 && /[1-9a-fA-F]/.test(int + frac));
  return { value: sign === "-" ? -value : value, erange };
}

/** m × 2^e rounded to the nearest double (ties to even), subnormals included. */
function hexValue(m: bigint, e: number): number {
  if (m === 0n) return 0;
  if (!Number.isSafeInteger(e)) return e > 0 ? Infinity : 0;
  const top = m.toString(2).length - 1 + e; // the exponent of m's leading bit
  if (top > 1023) return Infinity;
  const ulp = Math.max(top - 52, -1074); // the exponent of the last bit a double keeps there
  const drop = ulp - e;
  if (drop <= 0) return Number(m) * 2 ** e;
  if (drop > m.toString(2).length + 1) return 0;
  const shift = BigInt(drop);
  let kept = m >> shift;
  const rest = m & ((1n << shift) - 1n);
  const half = 1n << (shift - 1n);
  if (rest > half || (rest === half && (kept & 1n) === 1n)) kept += 1n;
  return Number(kept) * 2 ** ulp;
}

/**
 * A double argument as Redis's string2d reads it (scores, increments, weights): the whole string,
 * no leading space, not NaN, not past the doubles nor underflowing to zero (`inf` itself is fine).
 * @throws ERR value is not a valid float
 */
export function parseFloat64(s: string): number {
  const read = s.length === 0 || SPACE.exec(s)![0].length > 0 ? null : strtod(s);
  if (read === null || read.erange || Number.isNaN(read.value)) throw errors.notFloat();
  return read.value;
}
/** Case-insensitive option cursor over argv, for commands with flags like SET's. */
export class Options {
  private at = 0;
  constructor(private readonly args: readonly string[]) {}
  get done(): boolean {
    return this.at >= this.args.length;
  }
  /** The next token, upper-cased. */
  next(): string {
    return this.args[this.at++]!.toUpperCase();
  }
  /** The value after an option; syntax error if there is none. */
  value(): string {
    if (this.at >= this.args.length) throw errors.syntax();
    return this.args[this.at++]!;
  }
}
