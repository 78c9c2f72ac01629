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
