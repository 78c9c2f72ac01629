/**
 * Redis's `long double` for INCRBYFLOAT and HINCRBYFLOAT: the x87 80-bit extended format (a 64-bit
 * significand, exponents down to 2^-16382, subnormals below), as strtold reads it, as `+` rounds
 * it, and as `ld2string(..., LD_STR_HUMAN)` prints it (`%.17Lf`, trailing zeros dropped). A double
 * would lose what Redis keeps: 9223372036854775806 + 1e3 is 9223372036854776806 there.
 *
 * Values are exact rationals of the form ±m × 2^e (m a BigInt of at most 64 bits); every step
 * rounds to nearest, ties to even, as the hardware does.
 */

/** A finite long double ±m × 2^e, or an infinity. */
export type LongDouble = { readonly kind: "finite"; readonly negative: boolean; readonly m: bigint; readonly e: number } | { readonly kind: "inf"; readonly negative: boolean };

const BITS = 64;
/** The smallest exponent of the last significand bit: subnormals end at 2^-16445. */
const MIN_E = -16445;
/** Past (2^64 - 1) × 2^16320 a value is an infinity. */
const MAX_E = 16383 - 63;
/** Redis's MAX_LONG_DOUBLE_CHARS: no longer argument is read, no longer result written. */
const MAX_CHARS = 5 * 1024;

const bitLength = (n: bigint): number => (n === 0n ? 0 : n.toString(2).length);

/**
 * Rounds ±n × 2^e (n > 0; `sticky`: the value is a little more than that, below n's last bit) to
 * a long double: 64 significant bits, none below 2^MIN_E, ties to even; an infinity past the top.
 */
function round(negative: boolean, n: bigint, e: number, sticky = false): LongDouble {
  const drop = Math.max(bitLength(n) - BITS, MIN_E - e);
  if (drop > 0) {
    const big = BigInt(drop);
    const kept = n >> big;
    const rest = n & ((1n << big) - 1n);
    const half = 1n << (big - 1n);
    const up = rest > half || (rest === half && (sticky || (kept & 1n) === 1n));
    n = up ? kept + 1n : kept;
    e += drop;
    if (bitLength(n) > BITS) {
      n >>= 1n;
      e += 1;
    }
  }
  if (n === 0n) return { kind: "finite", negative, m: 0n, e: 0 };
  if (e > MAX_E) return { kind: "inf", negative };
  return { kind: "finite", negative, m: n, e };
}

/** The long double nearest to ±num / den × 2^e2 (num, den > 0). */
function fromRatio(negative: boolean, num: bigint, den: bigint, e2: number): LongDouble {
  // Enough quotient bits for 64 significant ones and a rounding bit, however small the value.
  const shift = Math.max(0, BITS + 3 - (bitLength(num) - bitLength(den)));
  const q = (num << BigInt(shift)) / den;
  const inexact = q * den !== num << BigInt(shift);
  return round(negative, q, e2 - shift, inexact);
}

/**
 * A string as Redis's string2ld reads it (strtold, the whole string, no leading space): decimal
 * or hexadecimal (`0x10`, `0x1.8p3`), `inf`/`infinity`; null for anything else, NaN, and values
 * that overflow or underflow to zero (strtold's ERANGE).
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= MAX_CHARS) return null;
  const m = /^([+-]?)(?:(inf(?:inity)?)|0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?|(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?)$/i.exec(s);
  if (m === null) return null;
  const negative = m[1] === "-";
  if (m[2] !== undefined) return { kind: "inf", negative };
  let value: LongDouble;
  if (m[3] !== undefined || m[4] !== undefined) {
    const int = m[3] ?? "";
    const frac = m[4] ?? "";
    if (int === "" && frac === "") return null;
    const exp = Number(m[5] ?? "0");
    if (!Number.isSafeInteger(exp)) return null;
    const digits = BigInt(`0x${int}${frac}` === "0x" ? "0" : `0x${int}${frac}`);
    if (digits === 0n) return { kind: "finite", negative, m: 0n, e: 0 };
    const e2 = exp - 4 * frac.length;
    if (e2 > 2 * MAX_CHARS * 4 + 20000) return null; // overflow
    value = e2 < MIN_E - 4 * MAX_CHARS - 100 ? { kind: "finite", negative, m: 0n, e: 0 } : round(negative, digits, e2);
  } else {
    const int = m[6] ?? "";
    const frac = m[7] ?? "";
    if (int === "" && frac === "") return null;
    const exp = Number(m[8] ?? "0");
    if (!Number.isSafeInteger(exp)) return null;
    const digits = BigInt(`${int}${frac}`.replace(/^0+(?=.)/, "") || "0");
    if (digits === 0n) return { kind: "finite", negative, m: 0n, e: 0 };
    const e10 = exp - frac.length;
    // Decimal exponents past these are an infinity or zero whatever the digits (at most 5k of them).
    if (e10 + `${digits}`.length > 4933) return null;
    if (e10 + `${digits}`.length < -4952) return null;
    value = e10 >= 0 ? round(negative, digits * 10n ** BigInt(e10), 0) : fromRatio(negative, digits, 10n ** BigInt(-e10), 0);
  }
  if (value.kind === "inf") return null; // ERANGE: HUGE_VAL
  if (value.m === 0n) return null; // ERANGE: underflow to zero
  return value;
}

/** a + b, rounded; an infinity when it overflows; null for NaN (inf + -inf). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.kind === "inf" || b.kind === "inf") {
    if (a.kind === "inf" && b.kind === "inf" && a.negative !== b.negative) return null;
    return a.kind === "inf" ? a : b;
  }
  const e = Math.min(a.e, b.e);
  const x = (a.negative ? -a.m : a.m) << BigInt(a.e - e);
  const y = (b.negative ? -b.m : b.m) << BigInt(b.e - e);
  const sum = x + y;
  // An exact zero sum is +0 (round to nearest), unless both were -0.
  if (sum === 0n) return { kind: "finite", negative: a.negative && b.negative && a.m === 0n && b.m === 0n, m: 0n, e: 0 };
  return round(sum < 0n, sum < 0n ? -sum : sum, e);
}

/** The long double of a JS number (a double: exact). */
export function longDoubleOf(n: number): LongDouble {
  if (!Number.isFinite(n)) return { kind: "inf", negative: n < 0 };
  if (n === 0) return { kind: "finite", negative: Object.is(n, -0), m: 0n, e: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, n);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const m = exponent === 0 ? fraction : fraction | (1n << 52n);
  const e = (exponent === 0 ? 1 : exponent) - 1075;
  return { kind: "finite", negative: n < 0, m, e };
}

/**
 * As Redis's ld2string(LD_STR_HUMAN) prints a finite value: `%.17Lf` (the exact value rounded to
 * 17 decimals, ties to even), trailing zeros and a trailing point dropped, `-0` as `0`.
 * @example formatLongDouble(parseLongDouble("10.6")!) === "10.6"
 */
export function formatLongDouble(v: LongDouble): string {
  if (v.kind === "inf") return v.negative ? "-inf" : "inf";
  const scale = 10n ** 17n;
  let scaled: bigint;
  if (v.e >= 0) scaled = (v.m << BigInt(v.e)) * scale;
  else {
    const den = 1n << BigInt(-v.e);
    const num = v.m * scale;
    scaled = num / den;
    const rest = num - scaled * den;
    const twice = rest * 2n;
    if (twice > den || (twice === den && (scaled & 1n) === 1n)) scaled += 1n;
  }
  const digits = scaled.toString().padStart(18, "0");
  const int = digits.slice(0, -17);
  const frac = digits.slice(-17).replace(/0+$/, "");
  const text = frac === "" ? int : `${int}.${frac}`;
  return v.negative && text !== "0" ? `-${text}` : text;
}
