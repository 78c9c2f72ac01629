/**
 * FUNCTION DUMP's payload, as Redis 7 writes and reads it (functions.c, rdb.c): per library the
 * RDB opcode FUNCTION2 (245) and its code as an RDB string, then the RDB version (10, two bytes,
 * little-endian) and a CRC-64 (Jones, as Redis's crc64.c) of all before it (eight bytes,
 * little-endian). Flaredis writes the code uncompressed; it reads what redis-server writes: plain,
 * integer-encoded and LZF-compressed strings.
 */

import { RdbError } from "../rdb/error";
import { payloadVerified, withFooter } from "../rdb/payload";
import { RdbReader, RdbWriter } from "../rdb/reader";

/** The RDB version Redis 7.0 writes; a payload of a newer one is refused, as Redis refuses it. */
const RDB_VERSION = 10;
const RDB_OPCODE_FUNCTION2 = 245;

/** Why a payload was refused, in Redis's words (FUNCTION RESTORE replies it after ERR). */
export class PayloadError extends Error {
  override readonly name = "PayloadError";
}

/** Redis's FUNCTION DUMP payload of libraries' code (each whole: shebang included). */
export function encodePayload(codes: readonly Uint8Array[]): Uint8Array {
  const w = new RdbWriter();
  for (const code of codes) w.u8(RDB_OPCODE_FUNCTION2).string(code);
  return withFooter(w, RDB_VERSION);
}

/**
 * The libraries' code in a FUNCTION DUMP payload (verifyDumpPayload, then rdbFunctionLoad's
 * reading), each at most `maxBytes` (a compressed one is not inflated past it).
 * @throws PayloadError for a payload Redis would refuse, with its message
 */
export function decodePayload(payload: Uint8Array, maxBytes = Number.MAX_SAFE_INTEGER): Uint8Array[] {
  if (!payloadVerified(payload, RDB_VERSION)) throw new PayloadError("DUMP payload version or checksum are wrong");
  const codes: Uint8Array[] = [];
  const r = new RdbReader(payload, 0, payload.length - 10, { bytes: maxBytes, elements: 0 });
  while (!r.done) {
    if (r.u8() !== RDB_OPCODE_FUNCTION2) throw new PayloadError("given type is not a function");
    r.startValue();
    try {
      codes.push(r.string().slice());
    } catch (e) {
      if (e instanceof RdbError) throw new PayloadError("failed loading the given functions payload");
      throw e;
    }
  }
  return codes;
}
