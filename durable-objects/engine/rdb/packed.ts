/**
 * The packed encodings Redis stores small collections in, and writes into RDB as one string each
 * (read only: Flaredis writes the plain encodings, which every Redis 7 reads):
 *
 * - listpack (Redis 7): a 32-bit total length and a 16-bit count, entries, then 0xFF. An entry is
 *   its encoding byte(s) and data, then a back length (1-5 bytes) for walking backwards. Integers
 *   of 7, 13, 16, 24, 32 and 64 bits, strings with 6, 12 and 32-bit lengths.
 * - ziplist (Redis before 7): a 32-bit total length, 32-bit tail offset, 16-bit count, entries,
 *   then 0xFF; an entry is the previous entry's length (1 or 5 bytes), an encoding (strings with
 *   6, 14 and 32-bit lengths; integers of 8, 16, 24, 32 and 64 bits and 0..12 inline), its data.
 * - intset: a 32-bit element width (2, 4 or 8 bytes), a 32-bit count, the sorted integers.
 *
 * Every read is checked against the blob's end and the declared lengths: a malformed blob
 * throws RdbError. Integers come back as their decimal text, as Redis turns them into strings.
 * Listpacks are also written (`listpackOf`): streams are stored in them whatever the version.
 */
import { RdbError } from "./error.ts";

const ascii = new TextEncoder();
const intText = (n: number | bigint): Uint8Array => ascii.encode(String(n));

function view(blob: Uint8Array): DataView {
  return new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
}

/** The elements of a listpack, in order (at most `max`). */
export function listpackEntries(blob: Uint8Array, max = Number.POSITIVE_INFINITY): Uint8Array[] {
  if (blob.length < 7) throw new RdbError("listpack too short");
  const v = view(blob);
  if (v.getUint32(0, true) !== blob.length) throw new RdbError("listpack length mismatch");
  const declared = v.getUint16(4, true);
  const out: Uint8Array[] = [];
  let p = 6;
  const need = (n: number) => {
    if (p + n > blob.length - 1) throw new RdbError("listpack entry out of bounds");
  };
  for (;;) {
    need(0);
    const b = blob[p]!;
    if (b === 0xff) break;
    if (out.length >= max) throw new RdbError(`more than ${max} elements`);
    const start = p;
    if ((b & 0x80) === 0) {
      out.push(intText(b & 0x7f));
      p += 1;
    } else if ((b & 0xc0) === 0x80) {
      const len = b & 0x3f;
      need(1 + len);
      out.push(blob.subarray(p + 1, p + 1 + len));
      p += 1 + len;
    } else if ((b & 0xe0) === 0xc0) {
      need(2);
      const u = ((b & 0x1f) << 8) | blob[p + 1]!;
      out.push(intText(u >= 1 << 12 ? u - (1 << 13) : u));
      p += 2;
    } else if ((b & 0xf0) === 0xe0) {
      need(2);
      const len = ((b & 0x0f) << 8) | blob[p + 1]!;
      need(2 + len);
      out.push(blob.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    } else if (b === 0xf0) {
      need(5);
      const len = v.getUint32(p + 1, true);
      need(5 + len);
      out.push(blob.subarray(p + 5, p + 5 + len));
      p += 5 + len;
    } else if (b === 0xf1) {
      need(3);
      out.push(intText(v.getInt16(p + 1, true)));
      p += 3;
    } else if (b === 0xf2) {
      need(4);
      const u = blob[p + 1]! | (blob[p + 2]! << 8) | (blob[p + 3]! << 16);
      out.push(intText((u << 8) >> 8));
      p += 4;
    } else if (b === 0xf3) {
      need(5);
      out.push(intText(v.getInt32(p + 1, true)));
      p += 5;
    } else if (b === 0xf4) {
      need(9);
      out.push(intText(v.getBigInt64(p + 1, true)));
      p += 9;
    } else throw new RdbError(`listpack encoding 0x${b.toString(16)}`);
    // The back length: the entry's size (encoding and data) in 7-bit groups.
    const size = p - start;
    const backlen = size <= 127 ? 1 : size < 16383 ? 2 : size < 2097151 ? 3 : size < 268435455 ? 4 : 5;
    need(backlen);
    p += backlen;
  }
  if (p !== blob.length - 1) throw new RdbError("listpack trailing bytes");
  // 65535: "unknown", the count did not fit in 16 bits.
  if (declared !== 65535 && declared !== out.length) throw new RdbError("listpack count mismatch");
  return out;
}

/** The elements of a ziplist, in order (at most `max`). */
export function ziplistEntries(blob: Uint8Array, max = Number.POSITIVE_INFINITY): Uint8Array[] {
  if (blob.length < 11) throw new RdbError("ziplist too short");
  const v = view(blob);
  if (v.getUint32(0, true) !== blob.length) throw new RdbError("ziplist length mismatch");
  const declared = v.getUint16(8, true);
  const out: Uint8Array[] = [];
  let p = 10;
  const need = (n: number) => {
    if (p + n > blob.length - 1) throw new RdbError("ziplist entry out of bounds");
  };
  for (;;) {
    need(0);
    if (blob[p] === 0xff) break;
    if (out.length >= max) throw new RdbError(`more than ${max} elements`);
    // The previous entry's length: one byte, or 0xFE and four.
    p += blob[p] === 0xfe ? 5 : 1;
    need(1);
    const b = blob[p]!;
    const kind = b >> 6;
    if (kind === 0) {
      const len = b & 0x3f;
      need(1 + len);
      out.push(blob.subarray(p + 1, p + 1 + len));
      p += 1 + len;
    } else if (kind === 1) {
      need(2);
      const len = ((b & 0x3f) << 8) | blob[p + 1]!;
      need(2 + len);
      out.push(blob.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    } else if (b === 0x80) {
      need(5);
      const len = v.getUint32(p + 1, false);
      need(5 + len);
      out.push(blob.subarray(p + 5, p + 5 + len));
      p += 5 + len;
    } else if (b === 0xc0) {
      need(3);
      out.push(intText(v.getInt16(p + 1, true)));
      p += 3;
    } else if (b === 0xd0) {
      need(5);
      out.push(intText(v.getInt32(p + 1, true)));
      p += 5;
    } else if (b === 0xe0) {
      need(9);
      out.push(intText(v.getBigInt64(p + 1, true)));
      p += 9;
    } else if (b === 0xf0) {
      need(4);
      const u = blob[p + 1]! | (blob[p + 2]! << 8) | (blob[p + 3]! << 16);
      out.push(intText((u << 8) >> 8));
      p += 4;
    } else if (b === 0xfe) {
      need(2);
      out.push(intText((blob[p + 1]! << 24) >> 24));
      p += 2;
    } else if (b >= 0xf1 && b <= 0xfd) {
      out.push(intText((b & 0x0f) - 1));
      p += 1;
    } else throw new RdbError(`ziplist encoding 0x${b.toString(16)}`);
  }
  if (p !== blob.length - 1) throw new RdbError("ziplist trailing bytes");
  if (declared !== 65535 && declared !== out.length) throw new RdbError("ziplist count mismatch");
  return out;
}

/** The members of an intset, as decimal text (at most `max`). */
export function intsetMembers(blob: Uint8Array, max = Number.POSITIVE_INFINITY): Uint8Array[] {
  if (blob.length < 8) throw new RdbError("intset too short");
  const v = view(blob);
  const width = v.getUint32(0, true);
  const count = v.getUint32(4, true);
  if ((width !== 2 && width !== 4 && width !== 8) || blob.length !== 8 + width * count) throw new RdbError("intset length mismatch");
  if (count > max) throw new RdbError(`more than ${max} elements`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const at = 8 + i * width;
    out.push(intText(width === 2 ? v.getInt16(at, true) : width === 4 ? v.getInt32(at, true) : v.getBigInt64(at, true)));
  }
  return out;
}

/**
 * A listpack of `items`: bigints in the smallest integer encoding, byte strings as strings
 * (Redis reads either form of a field; the stream's own numbers must be integers).
 */
export function listpackOf(items: readonly (Uint8Array | bigint)[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const item of items) {
    const head = typeof item === "bigint" ? integerEntry(item) : stringEntry(item);
    parts.push(head, backlen(head.length));
  }
  const size = 6 + parts.reduce((n, p) => n + p.length, 0) + 1;
  const out = new Uint8Array(size);
  const v = view(out);
  v.setUint32(0, size, true);
  v.setUint16(4, Math.min(items.length, 65535), true);
  let at = 6;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  out[at] = 0xff;
  return out;
}

function integerEntry(n: bigint): Uint8Array {
  if (n >= 0n && n <= 127n) return Uint8Array.of(Number(n));
  if (n >= -4096n && n <= 4095n) {
    const u = Number(n < 0n ? n + 8192n : n);
    return Uint8Array.of(0xc0 | (u >> 8), u & 0xff);
  }
  const b = new Uint8Array(9);
  const v = view(b);
  if (n >= -32768n && n <= 32767n) {
    b[0] = 0xf1;
    v.setInt16(1, Number(n), true);
    return b.subarray(0, 3);
  }
  if (n >= -8388608n && n <= 8388607n) {
    const u = Number(n < 0n ? n + 16777216n : n);
    return Uint8Array.of(0xf2, u & 0xff, (u >> 8) & 0xff, (u >> 16) & 0xff);
  }
  if (n >= -2147483648n && n <= 2147483647n) {
    b[0] = 0xf3;
    v.setInt32(1, Number(n), true);
    return b.subarray(0, 5);
  }
  b[0] = 0xf4;
  v.setBigInt64(1, n, true);
  return b;
}

function stringEntry(s: Uint8Array): Uint8Array {
  let head: number[];
  if (s.length < 64) head = [0x80 | s.length];
  else if (s.length < 4096) head = [0xe0 | (s.length >> 8), s.length & 0xff];
  else head = [0xf0, s.length & 0xff, (s.length >>> 8) & 0xff, (s.length >>> 16) & 0xff, (s.length >>> 24) & 0xff];
  const out = new Uint8Array(head.length + s.length);
  out.set(head);
  out.set(s, head.length);
  return out;
}

/** The back length of an entry of `l` bytes (listpack.c's lpEncodeBacklen). */
function backlen(l: number): Uint8Array {
  if (l <= 127) return Uint8Array.of(l);
  if (l < 16383) return Uint8Array.of(l >> 7, (l & 127) | 128);
  if (l < 2097151) return Uint8Array.of(l >> 14, ((l >> 7) & 127) | 128, (l & 127) | 128);
  if (l < 268435455) return Uint8Array.of(l >> 21, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128, (l & 127) | 128);
  return Uint8Array.of(l >>> 28, ((l >>> 21) & 127) | 128, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128, (l & 127) | 128);
}
