/** Strict argument parsing with Redis's rules and error texts. */
import { type Bytes, fromBytes } from "./bytes";
import { errors } from "./errors";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** A signed 64-bit integer as Redis's string2ll reads it (no sign `+`, no leading zeros, no spaces). */
export function parseInt64(s: string): bigint {
  if (s.length > 20 || !INTEGER.test(s)) throw errors.notInteger();
  const n = BigInt(s);
  if (n < INT64_MIN || n > INT64_MAX) throw errors.notInteger();
  return n;
}

/**
 * `parseInt64` as a JS number, for indexes, offsets and counts: the whole 64-bit range is taken, as
 * Redis takes a long long (`GETRANGE k 0 9223372036854775807`); past 2^53 a value is only
 * approximately itself, which for an index or a count means "more than there is" just the same.
 */
export function parseInteger(s: string): number {
  return Number(parseInt64(s));
}

/** The integer stored in a string value. @throws ERR value is not an integer */
export function storedInt64(value: Bytes | null): bigint {
  return value === null ? 0n : parseInt64(fromBytes(value));
}

const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?inf(inity)?$/i;

/** A float as Redis's strtold reads it; `inf` allowed. */
export function parseFloat64(s: string): number {
  if (FLOAT.test(s)) return Number(s);
  if (INFINITY.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
  throw errors.notFloat();
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
