/** Reading HLL values from the keyspace and writing them back as the bytes they changed. */
import type { Bytes } from "../../bytes";
import type { Change } from "../../keyspace";
import { RedisError } from "../../errors";
import { NOT_HLL, isHll } from "./hll";
import { setRange, setString } from "../string/writes";

/** The HLL at `key`, or null when missing. @throws WRONGTYPE for another type or a string that is not an HLL */
export function readHll(db: Change, key: string): Bytes | null {
  const e = db.lookupString(key);
  if (e === null) return null;
  // A string stored in pages (past 1 MiB) is far longer than any HLL: refused unread, as Redis refuses it.
  if (e.eid !== undefined) throw new RedisError(NOT_HLL);
  const v = db.stringValue(e);
  if (!isHll(v)) throw new RedisError(NOT_HLL);
  return v;
}

/**
 * Stores `after` at `key`, which held `before` (null: created): as a SETRANGE from the first byte
 * that changed when it did not shrink (a dense register, or a sparse value's tail), else whole,
 * keeping the key's deadline. A value left as it was is only made raw, as Redis unshares it.
 */
export function writeHll(db: Change, key: string, before: Bytes | null, after: Uint8Array): void {
  if (before === null) {
    setString(db, key, after, null, "raw");
    return;
  }
  if (after.length < before.length) {
    setString(db, key, after, db.get(key)?.expiresAt ?? null, "raw");
    return;
  }
  let first = 0;
  while (first < before.length && before[first] === after[first]) first++;
  if (first === after.length) {
    if (db.get(key)?.encoding !== "raw") setRange(db, key, 0, after.subarray(0, 1));
    return;
  }
  let last = after.length - 1;
  if (after.length === before.length) while (last > first && before[last] === after[last]) last--;
  setRange(db, key, first, after.slice(first, last + 1));
}

/**
 * What PFCOUNT of one key writes, as Redis's does (and propagates): the value made raw and, when
 * the header said stale, `count` stored there (bytes 8-15, little-endian, top bit clear). A
 * replica writes nothing: when a master would have, it marks the read for the master (`forMaster`).
 */
export function cacheCount(db: Change, key: string, v: Bytes, count: number | null): void {
  if (count === null && db.peek(key)?.encoding === "raw") return; // a fresh count in a raw value: nothing to write
  if (db.role !== "master") {
    db.forMaster = true;
    return;
  }
  const after = v.slice();
  if (count !== null) new DataView(after.buffer, after.byteOffset + 8, 8).setBigUint64(0, BigInt(count), true);
  writeHll(db, key, v, after);
}
