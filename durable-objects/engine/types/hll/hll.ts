/**
 * HyperLogLog values in Redis's own representation (src/hyperloglog.c), so that the bytes GET
 * answers are redis-server's and an HLL moves between the two: a 16-byte header ("HYLL", the
 * encoding, 3 zero bytes, the cached cardinality little-endian with its top bit set when stale),
 * then 16,384 registers of 6 bits, sparse (run-length opcodes ZERO 00xxxxxx, XZERO 01xxxxxx
 * yyyyyyyy, VAL 1vvvvvxx) until a register passes 32 or the value passes hll-sparse-max-bytes
 * (3,000, Redis's default), then dense (12,288 bytes). Elements hash with MurmurHash64A (seed
 * 0xadc83b19); the count is Ertl's estimator as Redis computes it, step for step, so that PFCOUNT
 * answers what redis-server answers for the same adds.
 */
import type { Bytes } from "../../bytes";

export const HDR = 16;
const P = 14;
export const REGISTERS = 1 << P;
const Q = 64 - P;
const MAX = 63;
const DENSE_SIZE = HDR + (REGISTERS * 6) / 8;
const DENSE = 0;
const SPARSE = 1;
/** Redis's hll-sparse-max-bytes default: a sparse value past it (header included) turns dense. */
export const SPARSE_MAX_BYTES = 3000;
const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;
const XZERO_MAX_LEN = 16384;
const ALPHA_INF = 0.721347520444481703680;

export const NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value.";
export const CORRUPT = "INVALIDOBJ Corrupted HLL object detected";

const M64 = (1n << 64n) - 1n;
const MURMUR_M = 0xc6a4a7935bd1e995n;

/** MurmurHash64A as Redis has it (endian-neutral: 8-byte blocks read little-endian). */
export function murmur64a(data: Bytes, seed: bigint): bigint {
  const len = data.length;
  let h = (seed ^ ((BigInt(len) * MURMUR_M) & M64)) & M64;
  const blocks = len - (len & 7);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < blocks; i += 8) {
    let k = view.getBigUint64(i, true);
    k = (k * MURMUR_M) & M64;
    k ^= k >> 47n;
    k = (k * MURMUR_M) & M64;
    h ^= k;
    h = (h * MURMUR_M) & M64;
  }
  const rest = len & 7;
  if (rest > 0) {
    for (let i = rest - 1; i >= 0; i--) h ^= BigInt(data[blocks + i]!) << BigInt(8 * i);
    h = (h * MURMUR_M) & M64;
  }
  h ^= h >> 47n;
  h = (h * MURMUR_M) & M64;
  h ^= h >> 47n;
  return h;
}

/** The register an element falls in, and the length of its hash's 0...01 pattern (1 to Q + 1). */
export function patternOf(element: Bytes): { index: number; count: number } {
  let hash = murmur64a(element, 0xadc83b19n);
  const index = Number(hash & BigInt(REGISTERS - 1));
  hash = (hash >> BigInt(P)) | (1n << BigInt(Q));
  let count = 1;
  while ((hash & 1n) === 0n) {
    count++;
    hash >>= 1n;
  }
  return { index, count };
}

/** A new, empty HLL: sparse, one XZERO of every register, a cached cardinality of 0. */
export function emptyHll(): Uint8Array {
  const v = new Uint8Array(HDR + 2);
  v.set([0x48, 0x59, 0x4c, 0x4c], 0); // "HYLL"
  v[4] = SPARSE;
  v[HDR] = ((XZERO_MAX_LEN - 1) >> 8) | 0x40;
  v[HDR + 1] = (XZERO_MAX_LEN - 1) & 0xff;
  return v;
}

/**
 * A sparse value's opcodes as PFDEBUG DECODE lists them (`z:len`, `Z:len`, `v:value,len`), read
 * as they are, valid or not.
 */
export function decodeSparse(v: Bytes): string {
  const out: string[] = [];
  for (let p = HDR; p < v.length; ) {
    const b = v[p]!;
    if (isZero(b)) {
      out.push(`z:${zeroLen(b)}`);
      p++;
    } else if (isXZero(b)) {
      out.push(`Z:${xzeroLen(b, v[p + 1] ?? 0)}`);
      p += 2;
    } else {
      out.push(`v:${valValue(b)},${valLen(b)}`);
      p++;
    }
  }
  return out.join(" ");
}

/** Whether `v` is an HLL as Redis's isHLLObjectOrReply checks it (header only). */
export function isHll(v: Bytes): boolean {
  if (v.length < HDR || v[0] !== 0x48 || v[1] !== 0x59 || v[2] !== 0x4c || v[3] !== 0x4c) return false;
  if (v[4]! > SPARSE) return false;
  return v[4] !== DENSE || v.length === DENSE_SIZE;
}

const isZero = (b: number) => (b & 0xc0) === 0;
const isXZero = (b: number) => (b & 0xc0) === 0x40;
const isVal = (b: number) => (b & 0x80) !== 0;
const zeroLen = (b: number) => (b & 0x3f) + 1;
const xzeroLen = (b0: number, b1: number) => (((b0 & 0x3f) << 8) | b1) + 1;
const valValue = (b: number) => ((b >> 2) & 0x1f) + 1;
const valLen = (b: number) => (b & 0x3) + 1;
const valByte = (value: number, len: number) => (((value - 1) << 2) | (len - 1)) | 0x80;

/** A dense register (the byte after the last reads as 0, as Redis's sds terminator). */
export function getDense(v: Bytes, reg: number): number {
  const bit = reg * 6;
  const byte = HDR + (bit >> 3);
  const fb = bit & 7;
  const b0 = v[byte]!;
  const b1 = v[byte + 1] ?? 0;
  return ((b0 >> fb) | (b1 << (8 - fb))) & MAX;
}

export function setDense(v: Uint8Array, reg: number, value: number): void {
  const bit = reg * 6;
  const byte = HDR + (bit >> 3);
  const fb = bit & 7;
  v[byte] = (v[byte]! & ~(MAX << fb)) | ((value << fb) & 0xff);
  if (byte + 1 < v.length) v[byte + 1] = (v[byte + 1]! & ~(MAX >> (8 - fb))) | (value >> (8 - fb));
}

/** An HLL being changed: its bytes, replaced whole when its sparse part grows, shrinks or turns dense. */
export class Hll {
  constructor(public bytes: Uint8Array) {}

  get dense(): boolean {
    return this.bytes[4] === DENSE;
  }

  invalidateCache(): void {
    this.bytes[15] = this.bytes[15]! | 0x80;
  }

  /** Adds an element: 1 when a register grew, 0 when none did, -1 for a corrupted sparse value. */
  add(element: Bytes): number {
    const { index, count } = patternOf(element);
    return this.set(index, count);
  }

  /** Raises register `index` to `count`: as `add`. */
  set(index: number, count: number): number {
    if (this.dense) {
      if (count <= getDense(this.bytes, index)) return 0;
      setDense(this.bytes, index, count);
      return 1;
    }
    return this.sparseSet(index, count);
  }

  /** Redis's hllSparseSet: the opcode covering `index` split in up to 5 bytes, then neighbours merged. */
  private sparseSet(index: number, count: number): number {
    if (count > VAL_MAX_VALUE) return this.promote(index, count);
    // Located on the bytes as they are: most adds change nothing, and copy nothing.
    const v = this.bytes;
    let p = HDR;
    let first = 0;
    let span = 0;
    let prev = -1;
    while (p < v.length) {
      let oplen = 1;
      if (isZero(v[p]!)) span = zeroLen(v[p]!);
      else if (isVal(v[p]!)) span = valLen(v[p]!);
      else {
        span = xzeroLen(v[p]!, v[p + 1] ?? 0);
        oplen = 2;
      }
      if (index <= first + span - 1) break;
      prev = p;
      p += oplen;
      first += span;
    }
    if (span === 0 || p >= v.length) return -1;
    const op = v[p]!;
    if (isVal(op) && valValue(op) >= count) return 0;
    const s = Array.from(v.subarray(HDR));
    p -= HDR;
    if (prev >= 0) prev -= HDR;
    const zero = isZero(op);
    const xzero = isXZero(op);
    const runlen = zero ? zeroLen(op) : xzero ? xzeroLen(op, s[p + 1] ?? 0) : valLen(op);
    let changed = false;
    if (isVal(op) && runlen === 1) {
      s[p] = valByte(count, 1);
      changed = true;
    }
    if (!changed && zero && runlen === 1) {
      s[p] = valByte(count, 1);
      changed = true;
    }
    if (!changed) {
      const seq: number[] = [];
      const last = first + span - 1;
      const zeros = (len: number) => {
        if (len > ZERO_MAX_LEN) seq.push(((len - 1) >> 8) | 0x40, (len - 1) & 0xff);
        else seq.push(len - 1);
      };
      if (zero || xzero) {
        if (index !== first) zeros(index - first);
        seq.push(valByte(count, 1));
        if (index !== last) zeros(last - index);
      } else {
        const current = valValue(op);
        if (index !== first) seq.push(valByte(current, index - first));
        seq.push(valByte(count, 1));
        if (index !== last) seq.push(valByte(current, last - index));
      }
      const oldlen = xzero ? 2 : 1;
      if (seq.length - oldlen > 0 && HDR + s.length + seq.length - oldlen > SPARSE_MAX_BYTES) return this.promote(index, count);
      s.splice(p, oldlen, ...seq);
    }
    // Merge neighbouring VAL opcodes of one value, scanning up to 5 opcodes from the one before.
    let q = prev >= 0 ? prev : 0;
    let scan = 5;
    while (q < s.length && scan-- > 0) {
      if (isXZero(s[q]!)) {
        q += 2;
        continue;
      }
      if (isZero(s[q]!)) {
        q++;
        continue;
      }
      if (q + 1 < s.length && isVal(s[q + 1]!)) {
        const v1 = valValue(s[q]!);
        if (v1 === valValue(s[q + 1]!)) {
          const len = valLen(s[q]!) + valLen(s[q + 1]!);
          if (len <= VAL_MAX_LEN) {
            s[q + 1] = valByte(v1, len);
            s.splice(q, 1);
            continue;
          }
        }
      }
      q++;
    }
    const next = new Uint8Array(HDR + s.length);
    next.set(this.bytes.subarray(0, HDR));
    next.set(s, HDR);
    this.bytes = next;
    this.invalidateCache();
    return 1;
  }

  /** Turns a sparse value dense (header and cached cardinality kept). @returns false when it is corrupted */
  toDense(): boolean {
    if (this.dense) return true;
    const registers = this.registers();
    if (registers === null) return false;
    const next = new Uint8Array(DENSE_SIZE);
    next.set(this.bytes.subarray(0, HDR));
    next[4] = DENSE;
    for (let i = 0; i < REGISTERS; i++) if (registers[i]) setDense(next, i, registers[i]!);
    this.bytes = next;
    return true;
  }

  private promote(index: number, count: number): number {
    if (!this.toDense()) return -1;
    setDense(this.bytes, index, Math.max(count, getDense(this.bytes, index)));
    return 1;
  }

  /** Every register's value, or null for a corrupted sparse value (its runs do not cover them exactly). */
  registers(): Uint8Array | null {
    const out = new Uint8Array(REGISTERS);
    if (this.dense) {
      for (let i = 0; i < REGISTERS; i++) out[i] = getDense(this.bytes, i);
      return out;
    }
    const v = this.bytes;
    let i = 0;
    for (let p = HDR; p < v.length; ) {
      const b = v[p]!;
      if (isZero(b)) {
        i += zeroLen(b);
        p++;
      } else if (isXZero(b)) {
        i += xzeroLen(b, v[p + 1] ?? 0);
        p += 2;
      } else {
        const len = valLen(b);
        // A run past the last register: corrupted, even after runs that covered them all (as
        // Redis since its fix of CVE-2025-32023, which the reference 7.0.15 carries).
        if (i + len > REGISTERS) return null;
        out.fill(valValue(b), i, i + len);
        i += len;
        p++;
      }
    }
    return i === REGISTERS ? out : null;
  }

  /** The cached cardinality, or null when stale. */
  cached(): bigint | null {
    if ((this.bytes[15]! & 0x80) !== 0) return null;
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + 8, 8).getBigUint64(0, true);
  }
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime: number;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime: number;
  let y = 1.0;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (zPrime !== z);
  return z / 3;
}

/** Redis's hllCount over a histogram of register values. */
function estimate(histogram: readonly number[]): number {
  const m = REGISTERS;
  let z = m * tau((m - histogram[Q + 1]!) / m);
  for (let j = Q; j >= 1; --j) {
    z += histogram[j]!;
    z *= 0.5;
  }
  z += m * sigma(histogram[0]! / m);
  return Math.round((ALPHA_INF * m * m) / z);
}

/**
 * The cardinality of one HLL value, or null for a corrupted sparse one (its runs do not cover the
 * registers exactly, which is when Redis's histogram of the runs finds it invalid too).
 */
export function countOf(v: Bytes): number | null {
  const registers = new Hll(v).registers();
  return registers === null ? null : countOfRegisters(registers);
}

/** The cardinality of the union of registers `max`. */
export function countOfRegisters(max: Uint8Array): number {
  const histogram = new Array<number>(64).fill(0);
  for (const r of max) histogram[r]!++;
  return estimate(histogram);
}
