/**
 * Bits of string values as Redis numbers them: bit 0 is the most significant bit of byte 0. What
 * the bitmap commands compute (counts, first positions, bit operations, integer fields), on bytes
 * alone; the commands read and write the strings. @see https://redis.io/docs/latest/develop/data-types/bitmaps/
 */
import type { Bytes } from "../../bytes";

/** The bit at `offset` (0 past the end). */
export function bitAt(value: Bytes, offset: number): 0 | 1 {
  const byte = Math.floor(offset / 8);
  if (byte >= value.length) return 0;
  return ((value[byte]! >> (7 - (offset % 8))) & 1) as 0 | 1;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x !== 0; x >>= 1) n += x & 1;
  return n;
});

/** Set bits from bit `from` to bit `to`, both included (within the value). */
export function countBits(value: Bytes, from: number, to: number): number {
  let n = 0;
  for (let bit = from; bit <= to && bit % 8 !== 0; bit++) n += bitAt(value, bit);
  const first = Math.ceil(from / 8);
  const last = Math.floor((to + 1) / 8); // bytes [first, last) are whole
  for (let i = first; i < last; i++) n += POPCOUNT[value[i]!]!;
  if (last >= first) for (let bit = Math.max(last * 8, from); bit <= to; bit++) n += bitAt(value, bit);
  return n;
}

/** The first bit equal to `bit` from bit `from` to bit `to` (both included), or -1. */
export function firstBit(value: Bytes, bit: 0 | 1, from: number, to: number): number {
  const skip = bit === 1 ? 0x00 : 0xff; // a byte with no such bit
  let at = from;
  while (at <= to) {
    if (at % 8 === 0 && at + 7 <= to && value[at / 8] === skip) {
      at += 8;
      continue;
    }
    if (bitAt(value, at) === bit) return at;
    at++;
  }
  return -1;
}

/**
 * A range of a string as BITCOUNT and BITPOS read `start` and `end` (negative from the end; in
 * bytes, or in bits with `bits`), clamped to the value: [first bit, last bit], or null when empty.
 */
export function bitRange(length: number, start: number, end: number, bits: boolean): [number, number] | null {
  const total = bits ? length * 8 : length;
  if (start < 0) start = Math.max(total + start, 0);
  if (end < 0) end = Math.max(total + end, 0);
  if (end >= total) end = total - 1;
  if (start > end) return null;
  return bits ? [start, end] : [start * 8, end * 8 + 7];
}

export type BitOp = "AND" | "OR" | "XOR" | "NOT" | "DIFF" | "DIFF1" | "ANDOR" | "ONE";

/**
 * BITOP's result over `sources` (a missing key is empty; shorter ones are zero-padded): as long as
 * the longest. DIFF is the first without any other, DIFF1 any other without the first, ANDOR the
 * first with any other, ONE the bits set in exactly one source (Redis 8.2).
 */
export function bitop(op: BitOp, sources: readonly Bytes[]): Bytes {
  const length = Math.max(0, ...sources.map((s) => s.length));
  const out = new Uint8Array(length);
  const at = (s: Bytes, i: number) => (i < s.length ? s[i]! : 0);
  for (let i = 0; i < length; i++) {
    const first = at(sources[0]!, i);
    let acc = op === "NOT" ? ~first & 0xff : first;
    let others = 0;
    let common = 0;
    for (let k = 1; k < sources.length; k++) {
      const b = at(sources[k]!, i);
      if (op === "AND") acc &= b;
      else if (op === "OR") acc |= b;
      else if (op === "XOR") acc ^= b;
      else if (op === "ONE") {
        common |= acc & b;
        acc = (acc ^ b) & ~common & 0xff;
      } else others |= b;
    }
    out[i] = op === "DIFF" ? first & ~others & 0xff : op === "DIFF1" ? ~first & others & 0xff : op === "ANDOR" ? first & others : acc;
  }
  return out;
}

/** A BITFIELD integer type: signed (i1..i64) or unsigned (u1..u63). */
export interface FieldType {
  readonly signed: boolean;
  readonly bits: number;
}

export type Overflow = "WRAP" | "SAT" | "FAIL";

/** The field of `type` at bit `offset`, as an unsigned integer of its width (zeros past the end). */
function readUnsigned(value: Bytes, offset: number, bits: number): bigint {
  let n = 0n;
  for (let i = 0; i < bits; i++) n = (n << 1n) | BigInt(bitAt(value, offset + i));
  return n;
}

/** The field's value: sign-extended for a signed type. */
export function readField(value: Bytes, offset: number, type: FieldType): bigint {
  const u = readUnsigned(value, offset, type.bits);
  return type.signed ? BigInt.asIntN(type.bits, u) : u;
}

/** Writes the low `type.bits` bits of `n` at bit `offset` of `value` (long enough). */
export function writeField(value: Uint8Array, offset: number, type: FieldType, n: bigint): void {
  const u = BigInt.asUintN(type.bits, n);
  for (let i = 0; i < type.bits; i++) {
    const bit = Number((u >> BigInt(type.bits - 1 - i)) & 1n);
    const at = offset + i;
    const byte = Math.floor(at / 8);
    const mask = 1 << (7 - (at % 8));
    value[byte] = bit ? value[byte]! | mask : value[byte]! & ~mask;
  }
}

const i64 = (n: bigint) => BigInt.asIntN(64, n);

/**
 * `value + incr` for a field of `type` (SET checks its value with `incr` 0), as Redis's
 * checkSignedBitfieldOverflow and checkUnsignedBitfieldOverflow decide it, their 64-bit
 * arithmetic included: the result, or null when it overflows with FAIL. An unsigned `value` is
 * the 64-bit pattern of a signed one (SET u8 -1 is 2^64 - 1: past the top, so SAT gives 255).
 */
export function addField(value: bigint, incr: bigint, type: FieldType, overflow: Overflow): bigint | null {
  const { bits } = type;
  const wrap = () => (type.signed ? BigInt.asIntN(bits, value + incr) : BigInt.asUintN(bits, value + incr));
  if (type.signed) {
    const max = bits === 64 ? 2n ** 63n - 1n : (1n << BigInt(bits - 1)) - 1n;
    const min = -max - 1n;
    const maxIncr = i64(max - value);
    const minIncr = i64(min - value);
    const high = value > max || (bits !== 64 && incr > maxIncr) || (value >= 0n && incr > 0n && incr > maxIncr);
    const low = !high && (value < min || (bits !== 64 && incr < minIncr) || (value < 0n && incr < 0n && incr < minIncr));
    if (!high && !low) return value + incr;
    return overflow === "FAIL" ? null : overflow === "WRAP" ? wrap() : high ? max : min;
  }
  const max = (1n << BigInt(bits)) - 1n;
  const high = value > max || (incr > 0n && incr > i64(max - value));
  const low = !high && incr < 0n && incr < i64(-value);
  if (!high && !low) return value + incr;
  return overflow === "FAIL" ? null : overflow === "WRAP" ? wrap() : high ? max : 0n;
}
