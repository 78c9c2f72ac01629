/** Scores as Redis reads and prints them (util.c's string2d and d2string). */
import { parseFloat64 } from "../../args";
import { type Bytes, toBytes } from "../../bytes";
import { errors } from "../../errors";

/**
 * A score as Redis prints a double (util.c d2string: an integer as such, else the shortest digits
 * that read back exactly, with an exponent only for very large or small values; `inf`, `-inf`).
 * @example formatScore(1.5) === "1.5"; formatScore(1e21) === "1e+21"; formatScore(1e-7) === "1e-7"
 */
export function formatScore(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  if (Number.isInteger(n) && Math.abs(n) <= 2 ** 62) return BigInt(n).toString();
  const [mantissa, exponent] = Math.abs(n).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const e = Number(exponent); // n = d.ddd × 10^e
  const k = e - (digits.length - 1); // n = digits × 10^k
  const sign = n < 0 ? "-" : "";
  if (k >= 0 && Math.abs(e) < digits.length + 7) return sign + digits + "0".repeat(k);
  if (k < 0 && (k > -7 || Math.abs(e) < 4)) {
    const point = digits.length + k;
    return sign + (point <= 0 ? `0.${"0".repeat(-point)}${digits}` : `${digits.slice(0, point)}.${digits.slice(point)}`);
  }
  const fraction = digits.length > 1 ? `.${digits.slice(1)}` : "";
  return `${sign}${digits[0]}${fraction}e${e < 0 ? "-" : "+"}${Math.abs(e)}`;
}

/** A score as a bulk reply. */
export const scoreReply = (n: number): Bytes => toBytes(formatScore(n));

/** A score in an effect (what formatScore wrote). */
export function readScore(s: string): number {
  return s === "inf" ? Infinity : s === "-inf" ? -Infinity : Number(s);
}

/** A score, increment or weight argument, as Redis's string2d reads it. @throws `error()` (ERR value is not a valid float) */
export function parseScore(s: string, error = errors.notFloat): number {
  try {
    return parseFloat64(s);
  } catch {
    throw error();
  }
}
