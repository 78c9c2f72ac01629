/** What the SQLite stores share: a statement runner that counts rows (see `SqliteStorage.exec`), and how bytes are bound. */
import type { Bytes } from "../engine/bytes";

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
 * A LIMIT or OFFSET as SQLite binds it: an integer (a count past 2^53, a client's
 * 9223372036854775807 read as a double, binds as REAL, which LIMIT refuses: SQLITE_MISMATCH);
 * negative for no limit.
 */
export const count = (n: number): number => (n < 0 ? -1 : Math.min(Math.trunc(n), Number.MAX_SAFE_INTEGER));
