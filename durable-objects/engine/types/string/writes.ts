/**
 * The string type's writes, each checked against Redis's and Flaredis's size limits, then made by
 * applying its effect (effects.ts) as a replica applies it (`Change.apply`): SET's whole value,
 * APPEND's suffix, SETRANGE's bytes, never more of the value than the change (a value past
 * WRITE_EFFECT_BYTES is written, and logged, in parts). Strings are stored by the keyspace itself,
 * inline or in pages (keyspace/pages.ts). INCRBY and its family: `incrementBy`.
 */
import { storedInt64 } from "../../args";
import { type Bytes, toBytes } from "../../bytes";
import type { Context } from "../../command";
import { errors } from "../../errors";
import type { Change } from "../../keyspace";
import { INLINE_MAX, WRITE_EFFECT_BYTES } from "../../keyspace/page-layout";
import type { StringEncoding } from "../../storage";
import { append, set, setArgs, setrange } from "./effects";

/**
 * Sets a string value with an absolute deadline (null: none); a past deadline deletes.
 * `encoding` "text": a value Redis keeps as written, never as an integer (INCRBYFLOAT's).
 * A value past WRITE_EFFECT_BYTES is a SET of its start and SETRANGEs of the rest.
 */
export function setString(db: Change, key: string, value: Bytes, expiresAt: number | null, encoding?: StringEncoding): void {
  db.checkSize(value.length);
  if (expiresAt !== null && expiresAt <= db.now) {
    db.delete(key);
    return;
  }
  db.apply(set, key, setArgs(value.subarray(0, WRITE_EFFECT_BYTES), expiresAt, encoding));
  writeRange(db, key, WRITE_EFFECT_BYTES, value.subarray(WRITE_EFFECT_BYTES));
}

/**
 * Appends to the string at `key` (created when missing), keeping its deadline: an APPEND, so the
 * log grows by the suffix, not by the value (a paged result: a SETRANGE at the old end, which a
 * replica may apply twice). @returns the new length
 * @throws WRONGTYPE, or ERR when the value would pass the size limit
 */
export function appendString(db: Change, key: string, suffix: Bytes): number {
  const current = db.lookupString(key);
  const length = current === null ? 0 : db.stringLength(current);
  db.checkSize(length + suffix.length);
  const end = length + suffix.length;
  if (end <= INLINE_MAX) db.apply(append, key, suffix);
  else writeRange(db, key, length, suffix);
  return end;
}

/**
 * Overwrites bytes of the string at `key` from `offset` (zero-padded, created when missing),
 * keeping its deadline: a SETRANGE. @returns the new length
 * @throws WRONGTYPE, or ERR when the value would pass the size limit
 */
export function setRange(db: Change, key: string, offset: number, bytes: Bytes): number {
  const current = db.lookupString(key);
  const length = current === null ? 0 : db.stringLength(current);
  if (bytes.length === 0) return length;
  const end = Math.max(length, offset + bytes.length);
  db.checkSize(end);
  writeRange(db, key, offset, bytes);
  return end;
}

/** Writes `bytes` at `offset` as SETRANGEs of at most WRITE_EFFECT_BYTES each. */
function writeRange(db: Change, key: string, offset: number, bytes: Bytes): void {
  for (let at = 0; at < bytes.length; at += WRITE_EFFECT_BYTES) db.apply(setrange, key, { offset: offset + at, bytes: bytes.subarray(at, at + WRITE_EFFECT_BYTES) });
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** INCRBY and its family: adds `delta` to the integer at `key`, keeping its TTL. */
export function incrementBy(ctx: Context, key: string, delta: bigint): number | bigint {
  const entry = ctx.db.get(key); // a write: no keyspace hit or miss, as in Redis
  if (entry !== null && entry.type !== "string") throw errors.wrongType();
  // A paged string is longer than any integer.
  if (entry?.eid !== undefined) throw errors.notInteger();
  const current = storedInt64(entry?.value ?? null);
  const next = current + delta;
  if (next < INT64_MIN || next > INT64_MAX) throw errors.overflow();
  setString(ctx.db, key, toBytes(next.toString()), entry?.expiresAt ?? null);
  return Number.isSafeInteger(Number(next)) ? Number(next) : next;
}
