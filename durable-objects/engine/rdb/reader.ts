/**
 * RDB's primitive encodings (Redis's rdb.c): lengths, strings (raw, as small integers, LZF
 * compressed), doubles (as text and binary) and millisecond times; read with every bound checked
 * (a malformed or truncated input throws RdbError, never reads past its end) and written.
 *
 * Lengths: the first byte's top two bits say how: 00 six bits, 01 fourteen bits (big-endian with
 * the next byte), 0x80 a 32-bit and 0x81 a 64-bit big-endian length after it; 11 a special
 * encoding (of a string) in the low six bits: an 8, 16 or 32-bit little-endian integer, or LZF.
 */
import { RdbError } from "./error.ts";
import { lzfCompress, lzfDecompress } from "./lzf.ts";

export { RdbError };

const RDB_6BITLEN = 0;
const RDB_14BITLEN = 1;
const RDB_32BITLEN = 0x80;
const RDB_64BITLEN = 0x81;
const RDB_ENCVAL = 3;
const ENC_INT8 = 0;
const ENC_INT16 = 1;
const ENC_INT32 = 2;
const ENC_LZF = 3;

const ascii = new TextEncoder();

/**
 * What one value read may hold, whatever its input claims: its strings' bytes (decompressed) and
 * its elements. A DUMP payload is small but LZF and packed encodings expand it; the bounds keep a
 * hostile one from allocating more than a Durable Object's memory before it is refused.
 */
export interface ValueBounds {
  readonly bytes: number;
  readonly elements: number;
}

/** RESTORE's and an import's bounds per value: a request's strings (limits.ts), half a million elements. */
export const VALUE_BOUNDS: ValueBounds = { bytes: 32 * 1024 * 1024, elements: 500_000 };

export class RdbReader {
  pos: number;
  readonly bytes: Uint8Array;
  readonly end: number;
  readonly bounds: ValueBounds;
  private bytesLeft: number;
  private elementsLeft: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length, bounds: ValueBounds = VALUE_BOUNDS) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.bounds = bounds;
    this.bytesLeft = bounds.bytes;
    this.elementsLeft = bounds.elements;
  }

  /** A new value begins: its bounds start again. */
  startValue(): void {
    this.bytesLeft = this.bounds.bytes;
    this.elementsLeft = this.bounds.elements;
  }

  /** Elements the value may still have. */
  get elementsAllowed(): number {
    return this.elementsLeft;
  }

  /** `n` more elements of the value. @throws RdbError past its bound */
  elements(n: number): void {
    if (n > this.elementsLeft) throw new RdbError(`a value of more than ${this.bounds.elements} elements`);
    this.elementsLeft -= n;
  }

  /** `n` more bytes of the value's strings. @throws RdbError past its bound */
  private spend(n: number): void {
    if (n > this.bytesLeft) throw new RdbError(`a value of more than ${this.bounds.bytes} bytes`);
    this.bytesLeft -= n;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new RdbError("unexpected end of data");
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A little-endian unsigned 64-bit number (a millisecond time), exact up to 2^53. */
  u64le(): number {
    const b = this.take(8);
    const view = new DataView(b.buffer, b.byteOffset, 8);
    const value = view.getBigUint64(0, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbError("time out of range");
    return Number(value);
  }

  /** A little-endian signed 64-bit millisecond time where -1 means "never" (a consumer's active time). */
  i64le(): number {
    const b = this.take(8);
    const value = new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true);
    if (value === -1n) return -1;
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbError("time out of range");
    return Number(value);
  }

  /** An 8-byte IEEE double, little-endian (ZSET_2's scores). */
  binaryDouble(): number {
    const b = this.take(8);
    return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
  }

  /** A double as text (old ZSET scores): a length byte, 253 NaN, 254 +inf, 255 -inf. */
  textDouble(): number {
    const n = this.u8();
    if (n === 253) return Number.NaN;
    if (n === 254) return Number.POSITIVE_INFINITY;
    if (n === 255) return Number.NEGATIVE_INFINITY;
    return parseDouble(this.take(n));
  }

  /** A length, or a special encoding's number (`encoded` true). */
  lengthOrEncoding(): { value: number; encoded: boolean } {
    const first = this.u8();
    const kind = (first & 0xc0) >> 6;
    if (kind === RDB_ENCVAL) return { value: first & 0x3f, encoded: true };
    if (kind === RDB_6BITLEN) return { value: first & 0x3f, encoded: false };
    if (kind === RDB_14BITLEN) return { value: ((first & 0x3f) << 8) | this.u8(), encoded: false };
    if (first === RDB_32BITLEN) {
      const b = this.take(4);
      return { value: new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false), encoded: false };
    }
    if (first === RDB_64BITLEN) {
      const b = this.take(8);
      const value = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbError("length out of range");
      return { value: Number(value), encoded: false };
    }
    throw new RdbError(`unknown length encoding 0x${first.toString(16)}`);
  }

  /** A length of up to 64 bits as a bigint (a stream ID's half; 2^64-1 is "none" in places). */
  lengthBig(): bigint {
    const first = this.bytes[this.pos];
    if (first === RDB_64BITLEN) {
      this.pos++;
      const b = this.take(8);
      return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
    }
    return BigInt(this.length());
  }

  /** A length (a special encoding here is malformed). */
  length(): number {
    const { value, encoded } = this.lengthOrEncoding();
    if (encoded) throw new RdbError("encoded value where a length was expected");
    return value;
  }

  /** A string: raw, an integer (as its decimal text) or LZF-compressed. */
  string(): Uint8Array {
    const { value, encoded } = this.lengthOrEncoding();
    if (!encoded) {
      this.spend(value);
      return this.take(value);
    }
    if (value === ENC_INT8) return ascii.encode(String((this.u8() << 24) >> 24));
    if (value === ENC_INT16) {
      const b = this.take(2);
      return ascii.encode(String(new DataView(b.buffer, b.byteOffset, 2).getInt16(0, true)));
    }
    if (value === ENC_INT32) {
      const b = this.take(4);
      return ascii.encode(String(new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true)));
    }
    if (value === ENC_LZF) {
      const compressed = this.length();
      const length = this.length();
      this.spend(length);
      return lzfDecompress(this.take(compressed), length);
    }
    throw new RdbError(`unknown string encoding ${value}`);
  }
}

/** A score or number as Redis's strtod reads it from RDB text; malformed text throws. */
export function parseDouble(text: Uint8Array): number {
  const s = new TextDecoder().decode(text);
  const lower = s.toLowerCase();
  if (lower === "inf" || lower === "+inf" || lower === "infinity" || lower === "+infinity") return Number.POSITIVE_INFINITY;
  if (lower === "-inf" || lower === "-infinity") return Number.NEGATIVE_INFINITY;
  if (lower === "nan" || lower === "-nan") return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) throw new RdbError("malformed double");
  return Number(s);
}

/** Builds RDB bytes (see the file's comment): a growing buffer. */
export class RdbWriter {
  private buffer = new Uint8Array(256);
  private size = 0;

  private reserve(n: number): void {
    if (this.size + n <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.size + n) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.size));
    this.buffer = grown;
  }

  u8(b: number): this {
    this.reserve(1);
    this.buffer[this.size++] = b;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.size);
    this.size += bytes.length;
    return this;
  }

  length(n: number): this {
    if (n < 1 << 6) return this.u8((RDB_6BITLEN << 6) | n);
    if (n < 1 << 14) return this.u8((RDB_14BITLEN << 6) | (n >> 8)).u8(n & 0xff);
    if (n <= 0xffffffff) {
      const b = new Uint8Array(5);
      b[0] = RDB_32BITLEN;
      new DataView(b.buffer).setUint32(1, n, false);
      return this.raw(b);
    }
    const b = new Uint8Array(9);
    b[0] = RDB_64BITLEN;
    new DataView(b.buffer).setBigUint64(1, BigInt(n), false);
    return this.raw(b);
  }

  /** A length of up to 64 bits. */
  lengthBig(n: bigint): this {
    return n <= 0xffffffffn ? this.length(Number(n)) : this.u8(RDB_64BITLEN).raw(bigEndian64(n));
  }

  /**
   * A string as Redis's rdbSaveRawString writes one (rdbcompression yes): a canonical integer of
   * up to 11 characters that fits 32 bits as that integer, one of more than 20 bytes LZF-compressed
   * when that takes at most its length less 4 bytes, else raw.
   */
  string(bytes: Uint8Array): this {
    if (bytes.length <= 11) {
      const n = canonicalInt32(bytes);
      if (n !== null) {
        if (n >= -128 && n <= 127) return this.u8(0xc0 | ENC_INT8).u8(n & 0xff);
        if (n >= -32768 && n <= 32767) return this.u8(0xc0 | ENC_INT16).u16le(n & 0xffff);
        const b = new Uint8Array(4);
        new DataView(b.buffer).setInt32(0, n, true);
        return this.u8(0xc0 | ENC_INT32).raw(b);
      }
    }
    if (bytes.length > 20) {
      const compressed = lzfCompress(bytes, bytes.length - 4);
      if (compressed !== null) return this.u8(0xc0 | ENC_LZF).length(compressed.length).length(bytes.length).raw(compressed);
    }
    return this.length(bytes.length).raw(bytes);
  }

  binaryDouble(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, true);
    return this.raw(b);
  }

  u64le(n: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    return this.raw(b);
  }

  u16le(n: number): this {
    return this.u8(n & 0xff).u8((n >> 8) & 0xff);
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.size);
  }
}

/** The 32-bit integer `bytes` spell exactly as Redis prints it (no sign on 0, no leading zero), or null. */
function canonicalInt32(bytes: Uint8Array): number | null {
  const negative = bytes[0] === 0x2d;
  const first = negative ? 1 : 0;
  if (bytes.length === first || (bytes[first] === 0x30 && (bytes.length > 1))) return null;
  let n = 0;
  for (let i = first; i < bytes.length; i++) {
    const d = bytes[i]! - 0x30;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  n = negative ? -n : n;
  return n >= -2147483648 && n <= 2147483647 ? n : null;
}

/** `n` (unsigned, at most 64 bits) as 8 bytes, big-endian. */
export function bigEndian64(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, false);
  return b;
}
