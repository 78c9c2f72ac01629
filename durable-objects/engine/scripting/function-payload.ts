/**
 * FUNCTION DUMP's payload, as Redis 7 writes and reads it (functions.c, rdb.c): per library the
 * RDB opcode FUNCTION2 (245) and its code as an RDB string, then the RDB version (10, two bytes,
 * little-endian) and a CRC-64 (Jones, as Redis's crc64.c) of all before it (eight bytes,
 * little-endian). Flaredis writes the code uncompressed; it reads what redis-server writes: plain,
 * integer-encoded and LZF-compressed strings.
 */

/** The RDB version Redis 7.0 writes; a payload of a newer one is refused, as Redis refuses it. */
const RDB_VERSION = 10;
const RDB_OPCODE_FUNCTION2 = 245;

/** Why a payload was refused, in Redis's words (FUNCTION RESTORE replies it after ERR). */
export class PayloadError extends Error {
  override readonly name = "PayloadError";
}

/** Redis's FUNCTION DUMP payload of libraries' code (each whole: shebang included). */
export function encodePayload(codes: readonly Uint8Array[]): Uint8Array {
  const heads = codes.map((code) => [RDB_OPCODE_FUNCTION2, ...lengthBytes(code.length)]);
  let size = 2 + 8;
  for (const [i, code] of codes.entries()) size += heads[i]!.length + code.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const [i, code] of codes.entries()) {
    out.set(heads[i]!, at);
    out.set(code, (at += heads[i]!.length));
    at += code.length;
  }
  out[at++] = RDB_VERSION & 0xff;
  out[at++] = RDB_VERSION >> 8;
  new DataView(out.buffer).setBigUint64(at, crc64(out.subarray(0, at)), true);
  return out;
}

/**
 * The libraries' code in a FUNCTION DUMP payload (verifyDumpPayload, then rdbFunctionLoad's
 * reading), each at most `maxBytes` (a compressed one is not inflated past it).
 * @throws PayloadError for a payload Redis would refuse, with its message
 */
export function decodePayload(payload: Uint8Array, maxBytes = Number.MAX_SAFE_INTEGER): Uint8Array[] {
  if (payload.length < 10) throw new PayloadError("DUMP payload version or checksum are wrong");
  const footer = payload.length - 10;
  const version = payload[footer]! | (payload[footer + 1]! << 8);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (version > RDB_VERSION || view.getBigUint64(footer + 2, true) !== crc64(payload.subarray(0, footer + 2)))
    throw new PayloadError("DUMP payload version or checksum are wrong");
  const codes: Uint8Array[] = [];
  const reader = { at: 0 };
  while (reader.at < footer) {
    const type = payload[reader.at++]!;
    if (type !== RDB_OPCODE_FUNCTION2) throw new PayloadError("given type is not a function");
    const code = readString(payload, reader, footer, maxBytes);
    if (code === null) throw new PayloadError("failed loading the given functions payload");
    codes.push(code);
  }
  return codes;
}

/** An RDB length's bytes (rdbSaveLen). */
function lengthBytes(n: number): number[] {
  if (n < 1 << 6) return [n];
  if (n < 1 << 14) return [0x40 | (n >> 8), n & 0xff];
  return [0x80, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** An RDB length (rdbLoadLen) from `r.at` on: its value, or its special encoding (`encoded`), or null past `end`. */
function readLength(p: Uint8Array, r: { at: number }, end: number): { value: number; encoded: boolean } | null {
  if (r.at >= end) return null;
  const first = p[r.at++]!;
  const kind = first >> 6;
  if (kind === 0) return { value: first & 0x3f, encoded: false };
  if (kind === 3) return { value: first & 0x3f, encoded: true };
  if (kind === 1) return r.at < end ? { value: ((first & 0x3f) << 8) | p[r.at++]!, encoded: false } : null;
  const bytes = first === 0x80 ? 4 : first === 0x81 ? 8 : 0;
  if (bytes === 0 || r.at + bytes > end) return null;
  let value = 0;
  for (let i = 0; i < bytes; i++) value = value * 256 + p[r.at++]!;
  return { value, encoded: false };
}

/** An RDB string (rdbGenericLoadStringObject): plain, an integer (as its decimal text) or LZF-compressed; null when malformed or past `maxBytes`. */
function readString(p: Uint8Array, r: { at: number }, end: number, maxBytes: number): Uint8Array | null {
  const length = readLength(p, r, end);
  if (length === null) return null;
  if (!length.encoded) {
    if (r.at + length.value > end || length.value > maxBytes) return null;
    return p.slice(r.at, (r.at += length.value));
  }
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const integer = (bytes: number, read: (at: number) => number) => {
    if (r.at + bytes > end) return null;
    const n = read(r.at);
    r.at += bytes;
    return new TextEncoder().encode(String(n));
  };
  switch (length.value) {
    case 0:
      return integer(1, (at) => view.getInt8(at));
    case 1:
      return integer(2, (at) => view.getInt16(at, true));
    case 2:
      return integer(4, (at) => view.getInt32(at, true));
    case 3: {
      const compressed = readLength(p, r, end);
      const size = readLength(p, r, end);
      if (compressed === null || size === null || compressed.encoded || size.encoded || r.at + compressed.value > end || size.value > maxBytes) return null;
      const out = lzfDecompress(p.subarray(r.at, r.at + compressed.value), size.value);
      r.at += compressed.value;
      return out;
    }
    default:
      return null;
  }
}

/** LZF's decompression (liblzf's lzf_d.c, which Redis uses): null when the data does not make exactly `size` bytes. */
function lzfDecompress(input: Uint8Array, size: number): Uint8Array | null {
  const out = new Uint8Array(size);
  let i = 0;
  let o = 0;
  while (i < input.length) {
    const ctrl = input[i++]!;
    if (ctrl < 32) {
      // A literal run of ctrl + 1 bytes.
      const n = ctrl + 1;
      if (o + n > size || i + n > input.length) return null;
      out.set(input.subarray(i, i + n), o);
      i += n;
      o += n;
    } else {
      // A back reference: length (ctrl >> 5) + 2, or 7 + the next byte + 2; offset from the low bits and a byte.
      let n = ctrl >> 5;
      if (n === 7) {
        if (i >= input.length) return null;
        n += input[i++]!;
      }
      n += 2;
      if (i >= input.length) return null;
      const from = o - ((ctrl & 0x1f) << 8) - 1 - input[i++]!;
      if (from < 0 || o + n > size) return null;
      for (let k = 0; k < n; k++) out[o + k] = out[from + k]!;
      o += n;
    }
  }
  return o === size ? out : null;
}

/** CRC-64/Jones, reflected, as Redis's crc64.c computes it: two 32-bit halves per table entry. */
const [CRC_HI, CRC_LO] = (() => {
  const hi = new Uint32Array(256);
  const lo = new Uint32Array(256);
  // The Jones polynomial 0xad93d23594c935a9, bit-reversed for the reflected form.
  const polyHi = 0x95ac9329;
  const polyLo = 0xac4bc9b5;
  for (let n = 0; n < 256; n++) {
    let h = 0;
    let l = n;
    for (let k = 0; k < 8; k++) {
      const bit = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h >>>= 1;
      if (bit) {
        h = (h ^ polyHi) >>> 0;
        l = (l ^ polyLo) >>> 0;
      }
    }
    hi[n] = h;
    lo[n] = l;
  }
  return [hi, lo];
})();

export function crc64(bytes: Uint8Array): bigint {
  let hi = 0;
  let lo = 0;
  for (const b of bytes) {
    const i = (lo ^ b) & 0xff;
    lo = (((lo >>> 8) | ((hi & 0xff) << 24)) ^ CRC_LO[i]!) >>> 0;
    hi = ((hi >>> 8) ^ CRC_HI[i]!) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}
