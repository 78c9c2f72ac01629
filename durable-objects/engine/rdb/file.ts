/**
 * An RDB file (Redis's rdbSaveRio and rdbLoadRio): `REDIS` and a 4-digit version, auxiliary
 * fields, then per database its number (SELECTDB) and size hint (RESIZEDB) and its keys (each an
 * optional deadline, LRU idle time or LFU frequency, then the value's type byte, the key and the
 * value as in value.ts), function libraries (FUNCTION2), and at the end EOF and the CRC-64 of
 * everything before it (eight zero bytes: written with rdbchecksum no).
 *
 * Written as a stream (`RdbFileWriter`: `take` hands out what was written so far, the CRC runs
 * along); read from whole bytes as a stream of keys (`rdbFileEntries`), after `rdbFileHeader` has
 * checked the magic, the version and the checksum, so a truncated or altered file is refused
 * before any key is taken from it. Flaredis has one database: keys of another are refused.
 */
import { Crc64, crc64 } from "./crc64.ts";
import { RdbError } from "./error.ts";
import { RdbReader, RdbWriter, type ValueBounds } from "./reader.ts";
import { RDB_VERSION_MAX, RDB_VERSION_PLAIN, type RdbValue, UnsupportedRdbType, readValue, writeValue } from "./value.ts";

const OP = {
  SLOT_INFO: 244,
  FUNCTION2: 245,
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

const ascii = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** One key of a file, with what the file says of it. */
export interface RdbFileKey {
  readonly key: Uint8Array;
  readonly value: RdbValue;
  /** Its deadline (ms since the epoch), or null. */
  readonly expiresAt: number | null;
  /** OBJECT IDLETIME when saved (an LRU policy), in seconds. */
  readonly idleSeconds?: number;
  /** OBJECT FREQ when saved (an LFU policy). */
  readonly frequency?: number;
}

export type RdbFileEntry = { readonly kind: "key"; readonly entry: RdbFileKey } | { readonly kind: "function"; readonly code: Uint8Array };

/** Writes an RDB file as a stream of bytes (see the file's comment). */
export class RdbFileWriter {
  private w = new RdbWriter();
  private readonly crc = new Crc64();
  private readonly version: number;

  /**
   * The header, the auxiliary fields and database 0's number and size hint. `version` is the
   * file's: 10 (Redis 7.0 loads it), or 12 when a hash has field deadlines (Redis 7.4).
   */
  constructor(version: number, aux: readonly (readonly [string, string])[], keys: number, expiring: number) {
    this.version = version;
    if (version < RDB_VERSION_PLAIN || version > RDB_VERSION_MAX) throw new Error(`flaredis: RDB version ${version} is not written`);
    this.w.raw(ascii.encode(`REDIS${String(version).padStart(4, "0")}`));
    for (const [name, value] of aux) this.w.u8(OP.AUX).string(ascii.encode(name)).string(ascii.encode(value));
    this.w.u8(OP.SELECTDB).length(0);
    this.w.u8(OP.RESIZEDB).length(keys).length(expiring);
  }

  /** One key. @throws Error when its value needs a newer RDB version than the file's */
  key(key: Uint8Array, value: RdbValue, expiresAt: number | null): void {
    if (expiresAt !== null) this.w.u8(OP.EXPIRETIME_MS).u64le(expiresAt);
    // The type byte, the key, then the value: written whole, then the key put in its place.
    const v = new RdbWriter();
    const needs = writeValue(v, value);
    if (needs > this.version) throw new Error(`flaredis: a value needs RDB version ${needs}, the file is ${this.version}`);
    const bytes = v.finish();
    this.w.u8(bytes[0]!).string(key).raw(bytes.subarray(1));
  }

  /**
   * One key from its DUMP payload: the payload's type byte and value go in as they are (its
   * version and CRC do not: the file has its own). @throws Error for a payload newer than the file
   */
  dumped(key: Uint8Array, payload: Uint8Array, expiresAt: number | null): void {
    const version = payload.length < 11 ? Number.POSITIVE_INFINITY : payload[payload.length - 10]! | (payload[payload.length - 9]! << 8);
    if (version > this.version) throw new Error(`flaredis: a DUMP payload of RDB version ${version} in a file of version ${this.version}`);
    if (expiresAt !== null) this.w.u8(OP.EXPIRETIME_MS).u64le(expiresAt);
    this.w.u8(payload[0]!).string(key).raw(payload.subarray(1, payload.length - 10));
  }

  /** A function library's code (FUNCTION2). */
  functionLibrary(code: Uint8Array): void {
    this.w.u8(OP.FUNCTION2).string(code);
  }

  /** Bytes written since the last take (the CRC runs over them). */
  take(): Uint8Array {
    const bytes = this.w.finish();
    this.w = new RdbWriter();
    this.crc.update(bytes);
    return bytes;
  }

  /** EOF and the checksum: the file's last bytes. */
  end(): Uint8Array {
    const rest = this.take();
    const eof = Uint8Array.of(OP.EOF);
    this.crc.update(eof);
    const out = new Uint8Array(rest.length + 9);
    out.set(rest);
    out.set(eof, rest.length);
    out.set(this.crc.bytes(), rest.length + 1);
    return out;
  }
}

/** What a file says of itself: its version and auxiliary fields; it checks the magic, the version and the checksum. */
export function rdbFileHeader(bytes: Uint8Array): { version: number; aux: Map<string, string>; body: number } {
  if (bytes.length < 9 || text(bytes.subarray(0, 5)) !== "REDIS") throw new RdbError("not an RDB file (no REDIS magic)");
  const digits = text(bytes.subarray(5, 9));
  if (!/^\d{4}$/.test(digits)) throw new RdbError("not an RDB file (no version)");
  const version = Number(digits);
  if (version < 1 || version > RDB_VERSION_MAX) throw new RdbError(`RDB version ${version} is not read (at most ${RDB_VERSION_MAX})`);
  // From version 5 on, a checksum follows EOF (zeros: none was computed).
  if (version >= 5) {
    if (bytes.length < 9 + 1 + 8 || bytes[bytes.length - 9] !== OP.EOF) throw new RdbError("truncated RDB file (no EOF and checksum at its end)");
    const stored = bytes.subarray(bytes.length - 8);
    if (stored.some((b) => b !== 0)) {
      const computed = crc64(bytes.subarray(0, bytes.length - 8)).bytes();
      if (!computed.every((b, i) => b === stored[i])) throw new RdbError("RDB file checksum mismatch (altered or truncated)");
    }
  }
  const aux = new Map<string, string>();
  const r = new RdbReader(bytes, 9, bytes.length);
  while (!r.done && bytes[r.pos] === OP.AUX) {
    r.u8();
    aux.set(text(r.string()), text(r.string()));
  }
  return { version, aux, body: r.pos };
}

/**
 * The file's keys and function libraries in order, read as they are asked for (one in memory at a
 * time). Call `rdbFileHeader` first: this reads from its `body`. @throws RdbError
 */
export function* rdbFileEntries(bytes: Uint8Array, body: number, version: number, bounds?: ValueBounds): Generator<RdbFileEntry> {
  const end = version >= 5 ? bytes.length - 8 : bytes.length;
  const r = new RdbReader(bytes, body, end, bounds);
  let db = 0;
  let expiresAt: number | null = null;
  let idleSeconds: number | undefined;
  let frequency: number | undefined;
  for (;;) {
    const op = r.u8();
    switch (op) {
      case OP.EOF:
        if (!r.done) throw new RdbError("bytes after EOF");
        return;
      case OP.AUX:
        r.startValue();
        r.string();
        r.string();
        continue;
      case OP.SELECTDB:
        db = r.length();
        continue;
      case OP.RESIZEDB:
        r.length();
        r.length();
        continue;
      case OP.SLOT_INFO:
        r.length();
        r.length();
        r.length();
        continue;
      case OP.EXPIRETIME_MS:
        expiresAt = r.u64le();
        continue;
      case OP.EXPIRETIME: {
        const b = r.take(4);
        expiresAt = new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true) * 1000;
        continue;
      }
      case OP.IDLE:
        idleSeconds = r.length();
        continue;
      case OP.FREQ:
        frequency = r.u8();
        continue;
      case OP.FUNCTION2:
        r.startValue();
        yield { kind: "function", code: r.string() };
        continue;
      case OP.FUNCTION_PRE_GA:
      case OP.MODULE_AUX:
        throw new UnsupportedRdbType(op);
      default: {
        r.startValue();
        const key = r.string();
        if (db !== 0) throw new RdbError(`a key in database ${db}: Flaredis has one database (0)`);
        const value = readValue(op, r);
        yield { kind: "key", entry: { key, value, expiresAt, ...(idleSeconds !== undefined ? { idleSeconds } : {}), ...(frequency !== undefined ? { frequency } : {}) } };
        expiresAt = null;
        idleSeconds = undefined;
        frequency = undefined;
      }
    }
  }
}
