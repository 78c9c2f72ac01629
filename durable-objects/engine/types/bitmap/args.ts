/** The arguments the bitmap commands share, parsed as Redis's bitops.c parses them, with its error texts. */
import { parseInt64 } from "../../args";
import { RedisError } from "../../errors";
import { PROTO_MAX_BULK_LEN } from "../../limits";
import type { FieldType } from "./bits";

/**
 * A bit offset (SETBIT, GETBIT, BITFIELD): a 64-bit integer, not negative, within
 * proto-max-bulk-len bytes. With `fieldBits`, `#N` is N fields of that width (BITFIELD).
 */
export function bitOffset(s: string, fieldBits = 0): number {
  const error = () => new RedisError("ERR bit offset is not an integer or out of range");
  const byFields = fieldBits > 0 && s.startsWith("#");
  let n: bigint;
  try {
    n = parseInt64(byFields ? s.slice(1) : s);
  } catch {
    throw error();
  }
  if (byFields) n = BigInt.asIntN(64, n * BigInt(fieldBits));
  if (n < 0n || n >> 3n >= BigInt(PROTO_MAX_BULK_LEN)) throw error();
  return Number(n);
}

/** A BITFIELD type: i1..i64 or u1..u63. */
export function fieldType(s: string): FieldType {
  const error = () => new RedisError("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
  const signed = s[0] === "i";
  if (!signed && s[0] !== "u") throw error();
  let bits: bigint;
  try {
    bits = parseInt64(s.slice(1));
  } catch {
    throw error();
  }
  if (bits < 1n || bits > (signed ? 64n : 63n)) throw error();
  return { signed, bits: Number(bits) };
}

/** BITCOUNT's and BITPOS's unit: BYTE or BIT (any case); true for bits. */
export function bitUnit(s: string): boolean {
  const u = s.toLowerCase();
  if (u === "bit") return true;
  if (u === "byte") return false;
  throw new RedisError("ERR syntax error");
}
