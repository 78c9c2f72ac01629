/** What the SQLite stores share: a statement runner that counts rows (see `SqliteStorage.exec`), and how bytes are bound. */
import { type Bytes, fromBytes, toBytes } from "../engine/bytes";

export type Row = Record<string, SqlStorageValue>;

export interface Sql {
  /** Runs one statement; a failure names the statement. */
  exec<T extends Row>(query: string, ...params: unknown[]): SqlStorageCursor<T>;
  /** The statement's first row, or null. */
  first<T extends Row>(query: string, ...params: unknown[]): T | null;
}

/** SQLite takes an ArrayBuffer for a BLOB; pass the exact bytes of a view. */
export const blob = (b: Bytes): ArrayBuffer =>
  (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer : b.slice().buffer) as ArrayBuffer;

/**
 * A key, field or member (a binary string, engine/bytes.ts) as SQLite binds it: a BLOB of its
 * bytes, so SQLite orders them as Redis does (memcmp) and any byte may be in them (schema v10).
 */
export const bin = (s: string): ArrayBuffer => toBytes(s).buffer as ArrayBuffer;

/** A key, field or member column read back as a binary string (`bin`'s inverse). */
export function str(v: SqlStorageValue | undefined): string {
  if (v instanceof ArrayBuffer) return fromBytes(new Uint8Array(v));
  throw new Error(`flaredis: a key or field column holds ${typeof v}, not a BLOB`);
}

/**
 * A LIMIT or OFFSET as SQLite binds it: an integer (a count past 2^53, a client's
 * 9223372036854775807 read as a double, binds as REAL, which LIMIT refuses: SQLITE_MISMATCH);
 * negative for no limit.
 */
export const count = (n: number): number => (n < 0 ? -1 : Math.min(Math.trunc(n), Number.MAX_SAFE_INTEGER));
