/**
 * LZF (liblzf's format, which Redis uses for compressed RDB strings): a stream of
 * literal runs (a control byte below 32: that many plus one bytes follow) and back references
 * (length from the control byte's top 3 bits, plus a byte when they are all set; distance from
 * its low 5 bits and the next byte). Every read and copy is checked against the input and the
 * declared output length: a malformed input throws, it never reads or writes out of bounds.
 * Compression finds earlier occurrences of each 3 bytes through a hash table of their last
 * position, as liblzf does (its output may differ from liblzf's: any valid stream decodes).
 */
import { RdbError } from "./error.ts";

/** Decompresses `input` into exactly `length` bytes. @throws RdbError when it does not */
export function lzfDecompress(input: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (ip + run > input.length || op + run > length) throw new RdbError("LZF literal run out of bounds");
      out.set(input.subarray(ip, ip + run), op);
      ip += run;
      op += run;
      continue;
    }
    let len = ctrl >> 5;
    if (len === 7) {
      if (ip >= input.length) throw new RdbError("LZF truncated back reference");
      len += input[ip++]!;
    }
    if (ip >= input.length) throw new RdbError("LZF truncated back reference");
    const ref = op - ((ctrl & 0x1f) << 8) - 1 - input[ip++]!;
    len += 2;
    if (ref < 0 || op + len > length) throw new RdbError("LZF back reference out of bounds");
    // Byte by byte: a reference may overlap the bytes it produces (a run).
    for (let i = 0; i < len; i++) out[op++] = out[ref + i]!;
  }
  if (op !== length) throw new RdbError("LZF output shorter than declared");
  return out;
}

/** Bits of the compressor's hash table of 3-byte sequences. */
const HASH_BITS = 14;
/** The farthest back a reference reaches (13 bits), and the longest match one carries. */
const MAX_DISTANCE = 8192;
const MAX_MATCH = 264;
const MAX_LITERALS = 32;

/** Compresses `input` into at most `max` bytes; null when it does not fit (not worth it). */
export function lzfCompress(input: Uint8Array, max: number): Uint8Array | null {
  const n = input.length;
  const out = new Uint8Array(Math.max(0, max));
  const last = new Int32Array(1 << HASH_BITS).fill(-1);
  let op = 0;
  let literals = 0; // where the pending literal run starts
  const emitLiterals = (end: number): boolean => {
    for (let at = literals; at < end; at += MAX_LITERALS) {
      const run = Math.min(MAX_LITERALS, end - at);
      if (op + 1 + run > max) return false;
      out[op++] = run - 1;
      out.set(input.subarray(at, at + run), op);
      op += run;
    }
    return true;
  };
  const hashAt = (i: number) => (((input[i]! << 16) | (input[i + 1]! << 8) | input[i + 2]!) * 2654435761) >>> (32 - HASH_BITS);
  let ip = 0;
  while (ip + 2 < n) {
    const h = hashAt(ip);
    const ref = last[h]!;
    last[h] = ip;
    const distance = ip - ref;
    if (ref < 0 || distance > MAX_DISTANCE || input[ref] !== input[ip] || input[ref + 1] !== input[ip + 1] || input[ref + 2] !== input[ip + 2]) {
      ip++;
      continue;
    }
    let len = 3;
    const longest = Math.min(MAX_MATCH, n - ip);
    while (len < longest && input[ref + len] === input[ip + len]) len++;
    if (!emitLiterals(ip)) return null;
    const l = len - 2;
    const off = distance - 1;
    if (op + (l < 7 ? 2 : 3) > max) return null;
    if (l < 7) out[op++] = (l << 5) | (off >> 8);
    else {
      out[op++] = (7 << 5) | (off >> 8);
      out[op++] = l - 7;
    }
    out[op++] = off & 0xff;
    // The positions inside the match are remembered too: later repeats find them.
    for (let i = ip + 1; i < ip + len && i + 2 < n; i++) last[hashAt(i)] = i;
    ip += len;
    literals = ip;
  }
  if (!emitLiterals(n)) return null;
  return out.slice(0, op);
}
