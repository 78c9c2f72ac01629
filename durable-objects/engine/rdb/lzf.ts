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

/**
 * The hash table and an output buffer, shared by every call (one at a time: it is synchronous):
 * an entry holds a position plus the call's `base`, so entries of earlier calls (below it) read as
 * empty and the table is never filled again for a short value; the buffer is kept up to 1 MiB.
 */
const table = new Int32Array(1 << HASH_BITS);
let base = 1;
let scratch = new Uint8Array(1024);
/** The largest output buffer kept between calls (a larger one is made for its call alone). */
const SCRATCH_KEPT = 1024 * 1024;

/** Compresses `input` into at most `max` bytes; null when it does not fit (not worth it). */
export function lzfCompress(input: Uint8Array, max: number): Uint8Array | null {
  const n = input.length;
  if (max <= 0) return null;
  if (base + n + 1 >= 0x40000000) {
    table.fill(0);
    base = 1;
  }
  const b = base;
  base += n + 1;
  let out = scratch;
  if (out.length < max) {
    out = new Uint8Array(max);
    if (max <= SCRATCH_KEPT) scratch = out;
  }
  let op = 0;
  let literals = 0; // where the pending literal run starts
  let ip = 0;
  for (;;) {
    let len = 0;
    let distance = 0;
    for (; ip + 2 < n; ip++) {
      const h = Math.imul((input[ip]! << 16) | (input[ip + 1]! << 8) | input[ip + 2]!, 2654435761) >>> (32 - HASH_BITS);
      const ref = table[h]! - b;
      table[h] = ip + b;
      distance = ip - ref;
      if (ref >= 0 && distance <= MAX_DISTANCE && input[ref] === input[ip] && input[ref + 1] === input[ip + 1] && input[ref + 2] === input[ip + 2]) {
        len = 3;
        const longest = Math.min(MAX_MATCH, n - ip);
        while (len < longest && input[ref + len] === input[ip + len]) len++;
        break;
      }
    }
    const end = len === 0 ? n : ip;
    // The literals before the match (or the input's end), in runs of at most 32.
    for (let at = literals; at < end; at += MAX_LITERALS) {
      const run = Math.min(MAX_LITERALS, end - at);
      if (op + 1 + run > max) return null;
      out[op++] = run - 1;
      out.set(input.subarray(at, at + run), op);
      op += run;
    }
    if (len === 0) return out.slice(0, op);
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
    for (let i = ip + 1; i < ip + len && i + 2 < n; i++)
      table[Math.imul((input[i]! << 16) | (input[i + 1]! << 8) | input[i + 2]!, 2654435761) >>> (32 - HASH_BITS)] = i + b;
    ip += len;
    literals = ip;
  }
}
