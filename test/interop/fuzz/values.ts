/**
 * What the generator's arguments are made of: a key space small enough that types collide
 * (WRONGTYPE paths), members and fields that repeat, and the edges of Redis's number parsers.
 */
import type { Random } from "./random.ts";

/** Eight keys: every command's keys come from here, so types collide. */
export const KEYS = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"] as const;

/** Fields and members: a few that repeat, text that is not ASCII, an empty one. */
export const MEMBERS = ["a", "b", "c", "d", "e", "f", "m1", "m2", "", "é", "a b", "10", "-3", "1.5"] as const;

/** String values: small integers (shared in Redis), floats, text, 44/45 bytes (embstr/raw). */
export const VALUES = [
  "", "v", "hello", "0", "1", "7", "-1", "42", "10000", "123456789012", "3.5", "-0.25", "1e3",
  "é", "日本語", "x".repeat(44), "y".repeat(45), "a\tb\nc", "9223372036854775806",
] as const;

/** Integers at and past int64's edges, and texts Redis's string2ll refuses. */
export const INT64_EDGES = [
  "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
  "18446744073709551615", "", "1.5", "0x10", " 1", "1 ", "+1", "-0", "007", "1e3", "abc", "0",
] as const;

/** Doubles at their edges, and texts strtod-based parsers treat differently. */
export const FLOAT_EDGES = [
  "inf", "-inf", "+inf", "Infinity", "1e308", "-1e308", "1.7976931348623157e308", "1e309", "-0", "1e-320",
  "nan", "NaN", "0.1", "3.0", ".5", "5.", "1e", " 1.5", "1.5 ", "0x1p3", "", "1e-5", "123456789.123456789",
] as const;

/** Lexicographic range bounds (ZRANGEBYLEX and friends), valid and not. */
export const LEX_BOUNDS = ["-", "+", "[a", "(a", "[c", "(m1", "[m2", "[", "(", "[é", "a", "[10", "(-3", "[1.5"] as const;

/** Glob patterns for KEYS and SCAN MATCH. */
export const PATTERNS = ["*", "k*", "k[0-3]", "k?", "*1*", "k[^0]", "k\\*", "[", "nomatch", "k[7-4]", "?"] as const;

export const TYPES = ["string", "list", "set", "zset", "hash", "stream", "nosuchtype"] as const;

export function key(r: Random): string {
  return r.pick(KEYS);
}

export function keys(r: Random, min = 1, max = 3): string[] {
  return r.some(KEYS, r.int(min, max));
}

export function member(r: Random): string {
  return r.pick(MEMBERS);
}

export function value(r: Random): string {
  return r.chance(0.15) ? r.pick(INT64_EDGES) : r.chance(0.1) ? r.pick(FLOAT_EDGES) : r.pick(VALUES);
}

/** An integer argument: mostly small, sometimes an int64 edge or something that is not one. */
export function integer(r: Random, min = -5, max = 10): string {
  return r.chance(0.08) ? r.pick(INT64_EDGES) : String(r.int(min, max));
}

/** An increment for INCRBY/HINCRBY: small, large, or an edge. */
export function increment(r: Random): string {
  return r.weighted<() => string>([
    [6, () => String(r.int(-100, 100))],
    [1, () => String(r.int(-9, 9) * 1_000_000_000_000_000_000)],
    [2, () => r.pick(INT64_EDGES)],
  ])();
}

/** A float argument (INCRBYFLOAT, ZADD, ZINCRBY): integers, decimals, exponents, edges. */
export function float(r: Random): string {
  return r.weighted<() => string>([
    [4, () => String(r.int(-10, 10))],
    [3, () => (r.int(-1000, 1000) / r.pick([4, 10, 100, 3, 7])).toString()],
    [1, () => `${r.int(1, 9)}e${r.int(-30, 30)}`],
    [1, () => String(r.int(-9, 9) * 1e17)],
    [2, () => r.pick(FLOAT_EDGES)],
  ])();
}

/** A score range bound: inclusive, exclusive, infinite, or malformed. */
export function scoreBound(r: Random): string {
  return r.weighted<() => string>([
    [5, () => String(r.int(-5, 12))],
    [2, () => `(${r.int(-5, 12)}`],
    [2, () => r.pick(["-inf", "+inf", "inf", "(-inf", "(+inf"])],
    [1, () => r.pick(["(", "((1", "1.5", "(1.5", "nan", "abc", "", "1e400", "-0", "(0x10"])],
  ])();
}

/** A relative expiry in seconds: long enough never to pass during a run, or an edge. */
export function seconds(r: Random): string {
  return r.weighted<() => string>([
    [8, () => String(r.int(1000, 100_000))],
    [1, () => r.pick(["0", "-1", "-100"])],
    [2, () => r.pick(["9223372036854775807", "9223372036854775", "9223372036854776", "9007199254740", "-9223372036854775808", "1.5", "abc", ""])],
  ])();
}

/** A relative expiry in milliseconds (never a small positive one, which would race). */
export function millis(r: Random): string {
  return r.weighted<() => string>([
    [8, () => String(r.int(1_000_000, 100_000_000))],
    [1, () => r.pick(["0", "-1"])],
    [2, () => r.pick(["9223372036854775807", "-9223372036854775808", "9223372036854775806", "9007199254740993", "1.5", "x"])],
  ])();
}

/** An absolute deadline in unix seconds: far future (2100), long past, or an edge. */
export function unixSeconds(r: Random): string {
  return r.weighted<() => string>([
    [6, () => String(4_102_444_800 + r.int(0, 100_000))],
    [2, () => r.pick(["1", "100", "0"])],
    [1, () => r.pick(["9223372036854775807", "-1", "abc", "9223372036854775"])],
  ])();
}

export function unixMillis(r: Random): string {
  return r.weighted<() => string>([
    [6, () => String(4_102_444_800_000 + r.int(0, 100_000_000))],
    [2, () => r.pick(["1", "1000", "0"])],
    [1, () => r.pick(["9223372036854775807", "-1", "x", "9223372036854775808"])],
  ])();
}
