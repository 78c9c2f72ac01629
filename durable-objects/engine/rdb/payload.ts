/**
 * DUMP's payload (Redis's createDumpPayload and verifyDumpPayload): a value in RDB's object
 * encoding (value.ts), the RDB version as two little-endian bytes, then the CRC-64 of all that
 * (crc64.ts) as eight little-endian bytes. RESTORE refuses a payload of a version newer than it
 * reads or with a wrong checksum before it reads anything else.
 */
import { crc64 } from "./crc64.ts";
import { RdbError } from "./error.ts";
import { RdbReader, RdbWriter, type ValueBounds } from "./reader.ts";
import { RDB_VERSION_MAX, type RdbValue, readValue, writeValue } from "./value.ts";

/** The payload of `value` (the lowest RDB version that holds it: 10, or 12 for field deadlines). */
export function dumpPayload(value: RdbValue): Uint8Array {
  const w = new RdbWriter();
  return withFooter(w, writeValue(w, value));
}

/** What `w` wrote, with the footer: `version`, then the CRC-64 of all before it. */
export function withFooter(w: RdbWriter, version: number): Uint8Array {
  w.u16le(version);
  const body = w.finish();
  const out = new Uint8Array(body.length + 8);
  out.set(body);
  out.set(crc64(body).bytes(), body.length);
  return out;
}

/**
 * Whether `payload`'s version is at most `maxVersion` and its checksum is right (Redis's
 * verifyDumpPayload; its RDB_VERSION is the newest version it reads).
 */
export function payloadVerified(payload: Uint8Array, maxVersion: number = RDB_VERSION_MAX): boolean {
  if (payload.length < 10) return false;
  const footer = payload.length - 10;
  const version = payload[footer]! | (payload[footer + 1]! << 8);
  if (version > maxVersion) return false;
  const expected = crc64(payload.subarray(0, payload.length - 8)).bytes();
  for (let i = 0; i < 8; i++) if (payload[payload.length - 8 + i] !== expected[i]) return false;
  return true;
}

/**
 * The value in a verified payload. @throws RdbError when it is malformed (or holds more than the
 * type byte and the value before its footer)
 */
export function readPayload(payload: Uint8Array, bounds?: ValueBounds): RdbValue {
  const r = new RdbReader(payload, 0, payload.length - 10, bounds);
  const value = readValue(r.u8(), r);
  if (!r.done) throw new RdbError("trailing bytes after the value");
  return value;
}
