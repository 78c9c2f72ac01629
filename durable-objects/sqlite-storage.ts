/**
 * The engine's `Storage` on a Durable Object's SQLite database.
 *
 * Schema:
 * - `meta(name, value)`: the schema version, replid, key count and other node state.
 * - `keyspace(slot, key, type, encoding, value, expires_at, mod_offset, ...)`: one row per key,
 *   keyed by its position (slot, key) (v6, engine/slot.ts), a table without rowid and without a
 *   second index on the name, so writing a key is one row written. `mod_offset` is the
 *   replication offset of its last write; `type` is the RDB type code and `encoding` the value's
 *   layout. Values stay under SQLite's 2 MB row limit (strings are capped at the configured value
 *   limit, 1 MiB by default). `keyspace_expiry` indexes only the keys with a deadline.
 * - `elements(eid, field, value, score, mod_offset)`: the elements of collections (v3), one row
 *   each, keyed by the collection's element id (`keyspace.eid`, kept by RENAME) and the field
 *   (hash field, set member...), so changing or reading one element touches one row.
 *   `keyspace.count` is the collection's size. `dropped(eid)`: deleted collections whose elements
 *   are still being purged in the background (nothing refers to a dropped id).
 *   `elements_by_score(eid, score, field)` (v4): a sorted set's elements in Redis's zset order, so
 *   ranges by score or rank, ranks and counts walk only the part of the index they cover.
 *   `keyspace.bytes` (v5): a collection's estimated size, the sum over its elements (sizes.ts).
 * - `backlog(offset, frame)`: the replication log, runs of RESP frames (one per commit or push)
 *   keyed by the offset each starts at.
 *
 * Migrations are a list of steps (statements, or a function for what SQL alone cannot compute),
 * applied once each, in a transaction with the version row; an ALTER that finds its column
 * already there is skipped, so each step is idempotent.
 */
import type { Bytes } from "./engine/bytes";
import {
  type Element,
  type ElementStore,
  type Entry,
  type KeyStore,
  type LogStore,
  type MetaStore,
  type Storage,
  TYPE_CODES,
  type ValueType,
  type ZsetRange,
} from "./engine/storage";
import { ELEMENT_OVERHEAD } from "./engine/sizes";
import { type KeyPosition, SLOTS, slotOf } from "./engine/slot";

/** A migration step: a statement, or a function given the database (what SQL alone cannot compute). */
type Step = string | ((sql: SqlStorage) => void);

/** Columns of a keyspace row after the position, in the order the v6 table and `load` use them. */
const KEY_COLUMNS = "type, encoding, value, expires_at, mod_offset, eid, count, bytes";

const MIGRATIONS: readonly (readonly Step[])[] = [
  [
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID",
    `CREATE TABLE IF NOT EXISTS keyspace (
       id INTEGER PRIMARY KEY,
       key TEXT NOT NULL UNIQUE,
       type INTEGER NOT NULL,
       encoding INTEGER NOT NULL DEFAULT 0,
       value BLOB NOT NULL,
       expires_at INTEGER)`,
    "CREATE INDEX IF NOT EXISTS keyspace_expiry ON keyspace(expires_at) WHERE expires_at IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS backlog (offset INTEGER PRIMARY KEY, frame BLOB NOT NULL)",
  ],
  // v2: the replication offset at which each key was last written (see engine/replication.ts).
  [
    "ALTER TABLE keyspace ADD COLUMN mod_offset INTEGER NOT NULL DEFAULT 0",
  ],
  // v3: collections (engine/types/): a header row in keyspace, one row per element.
  [
    "ALTER TABLE keyspace ADD COLUMN eid INTEGER",
    "ALTER TABLE keyspace ADD COLUMN count INTEGER",
    `CREATE TABLE IF NOT EXISTS elements (
       eid INTEGER NOT NULL,
       field TEXT NOT NULL,
       value BLOB NOT NULL,
       score REAL,
       mod_offset INTEGER NOT NULL DEFAULT 0,
       PRIMARY KEY (eid, field)) WITHOUT ROWID`,
    "CREATE TABLE IF NOT EXISTS dropped (eid INTEGER PRIMARY KEY)",
  ],
  // v4: sorted sets (engine/types/zset/) in (score, member) order. Other collections' rows have a
  // NULL score and sit together at the start of each eid's part of the index.
  [
    "CREATE INDEX IF NOT EXISTS elements_by_score ON elements(eid, score, field)",
  ],
  // v5: each collection's estimated size (engine/sizes.ts: the sum over its elements), for the
  // dataset's estimate that maxmemory bounds; existing collections are measured once here.
  [
    "ALTER TABLE keyspace ADD COLUMN bytes INTEGER",
    `UPDATE keyspace SET bytes = (SELECT coalesce(sum(${ELEMENT_OVERHEAD} + length(CAST(field AS BLOB)) + length(value)), 0)
       FROM elements WHERE elements.eid = keyspace.eid) WHERE eid IS NOT NULL`,
  ],
  // v6: the keyspace keyed by (slot, key) without rowid (engine/slot.ts): one row written per
  // key written, where the rowid table and its UNIQUE index on the name wrote two. The slots are
  // computed here, a page of keys at a time.
  [
    `CREATE TABLE IF NOT EXISTS keyspace_v6 (
       slot INTEGER NOT NULL,
       key TEXT NOT NULL,
       type INTEGER NOT NULL,
       encoding INTEGER NOT NULL DEFAULT 0,
       value BLOB NOT NULL,
       expires_at INTEGER,
       mod_offset INTEGER NOT NULL DEFAULT 0,
       eid INTEGER,
       count INTEGER,
       bytes INTEGER,
       PRIMARY KEY (slot, key)) WITHOUT ROWID`,
    (sql) => {
      for (let after = 0; ; ) {
        const page = sql.exec<Row>(`SELECT id, key, ${KEY_COLUMNS} FROM keyspace WHERE id > ? ORDER BY id LIMIT 256`, after).toArray();
        for (const row of page) {
          after = row.id as number;
          sql.exec(
            `INSERT INTO keyspace_v6 (slot, key, ${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            slotOf(row.key as string),
            row.key,
            row.type,
            row.encoding,
            row.value,
            row.expires_at,
            row.mod_offset,
            row.eid,
            row.count,
            row.bytes,
          );
        }
        if (page.length < 256) break;
      }
    },
    "DROP TABLE keyspace",
    "ALTER TABLE keyspace_v6 RENAME TO keyspace",
    "CREATE INDEX IF NOT EXISTS keyspace_expiry ON keyspace(expires_at) WHERE expires_at IS NOT NULL",
  ],
];

/** A dropped collection up to this size is deleted at once; a larger one is purged in the background. */
const DROP_AT_ONCE = 64;

export const SCHEMA_VERSION = MIGRATIONS.length;

const TYPE_NAMES = Object.fromEntries(Object.entries(TYPE_CODES).map(([name, code]) => [code, name])) as Record<
  number,
  ValueType
>;

/** SQLite takes an ArrayBuffer for a BLOB; pass the exact bytes of a view. */
const blob = (b: Bytes): ArrayBuffer =>
  (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer : b.slice().buffer) as ArrayBuffer;

type Row = Record<string, SqlStorageValue>;

/** What the node's SQLite database has done since the node started (the runtime's own counters). */
export interface StorageUsage {
  readonly rows_read: number;
  readonly rows_written: number;
  /** Keys written and kept in memory (see `SqliteStorage.transaction`): a row each when stored. */
  readonly keys_deferred: number;
  readonly database_bytes: number;
}

export class SqliteStorage implements Storage {
  private rowsRead = 0;
  private rowsWritten = 0;
  /** The last statement's cursor: its row counts are final once the next statement runs. */
  private last: SqlStorageCursor<Row> | null = null;

  constructor(private readonly storage: DurableObjectStorage) {
    this.migrate();
    const from = this.meta.get("keyspace_replay_from");
    this.replayOffset = from === null ? null : Number(from);
    this.replayPending = from !== null;
  }

  /** Rows read and written (as SQLite Durable Objects bill them) and the database size. */
  usage(): StorageUsage {
    this.settle();
    return { rows_read: this.rowsRead, rows_written: this.rowsWritten, keys_deferred: this.deferredKeys.size, database_bytes: this.storage.sql.databaseSize };
  }

  private settle(): void {
    if (this.last === null) return;
    this.rowsRead += this.last.rowsRead;
    this.rowsWritten += this.last.rowsWritten;
    this.last = null;
  }

  /** Runs one statement; a failure names the statement. */
  private exec<T extends Row>(query: string, ...params: unknown[]): SqlStorageCursor<T> {
    this.settle();
    try {
      const cursor = this.storage.sql.exec<T>(query, ...params);
      this.last = cursor;
      return cursor;
    } catch (e) {
      throw new Error(`SQL failed: ${query.replace(/\s+/g, " ").trim()}: ${(e as Error).message}`, { cause: e });
    }
  }

  private first<T extends Row>(query: string, ...params: unknown[]): T | null {
    return (this.exec<T>(query, ...params).toArray()[0] as T | undefined) ?? null;
  }

  private migrate(): void {
    this.exec("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID");
    const current = Number(this.meta.get("schema_version") ?? 0);
    if (current > SCHEMA_VERSION) throw new Error(`storage schema ${current} is newer than this code (${SCHEMA_VERSION})`);
    this.transaction(() => {
      for (let v = current; v < SCHEMA_VERSION; v++)
        for (const step of MIGRATIONS[v]!)
          if (typeof step === "function") step(this.storage.sql);
          else if (!this.alreadyApplied(step)) this.exec(step);
      this.meta.set("schema_version", SCHEMA_VERSION);
    });
  }

  /** True for an `ALTER TABLE t ADD COLUMN c` whose column exists. */
  private alreadyApplied(statement: string): boolean {
    const m = statement.match(/^ALTER TABLE (\w+) ADD COLUMN (\w+)/);
    return m !== null && this.exec("SELECT name FROM pragma_table_info(?) WHERE name = ?", m[1], m[2]).toArray().length > 0;
  }

  /**
   * Runs `fn` in a transaction. The keys it writes are buffered (`keys`) and written in multi-row
   * statements: a statement costs about as much as the rows it writes (4 us for `SELECT 1`, 8 for
   * a one-row upsert, 3 a row for eleven), and a pipeline writes many keys.
   *
   * A transaction that wrote keys and the log entries of those writes, and nothing else, may leave
   * its keys in memory after it commits (deferred): the log holds them durably, and they are
   * stored later, together, when another transaction needs the table complete (it writes anything
   * but keys and the log, or queries the keyspace beyond one key), when the deferred keys, their
   * bytes or the log written since pass DEFER_KEYS, DEFER_BYTES or DEFER_LOG_BYTES, or before the
   * log is trimmed past them. Why: on the runtime's SQLite most of a written row's cost is the first
   * change of its page in a transaction (a pipeline of 100 SETs to random keys cost 1.9 ms stored at
   * once, 0.65 ms more written a second time in the same transaction), and keys written again
   * meanwhile are stored once. While keys are deferred, meta `keyspace_replay_from` holds the
   * offset of the first log entry they came from; a restart replays the log from there
   * (`replayFrom`).
   *
   * A nested transaction first stores every key buffered or deferred, so its rollback undoes only
   * its own writes, and forgets its own buffer when it fails; deferred keys stored by a
   * transaction that rolls back are deferred again.
   */
  transaction<T>(fn: () => T): T {
    const outer = this.levels.length === 0;
    // Stores deferred keys too: one written here while an older value of it stayed deferred would
    // read, and later be stored, as that older value.
    if (!outer) this.storeAll();
    const level: Level = { stored: new Map(), replayFrom: this.replayOffset, logStart: null, storeAll: false };
    this.levels.push(level);
    let defer = false;
    try {
      const result = this.storage.transactionSync(() => {
        const result = fn();
        if (outer) defer = this.endTransaction(level);
        else this.storeAll();
        return result;
      });
      this.levels.pop();
      if (defer) this.deferPending();
      else if (!outer) for (const [key, e] of level.stored) this.levels[this.levels.length - 1]!.stored.set(key, e);
      return result;
    } catch (e) {
      this.levels.pop();
      this.pendingKeys.clear();
      // Deferred keys this transaction stored were rolled back with it: they wait again.
      for (const [key, entry] of level.stored) this.deferKey(key, entry);
      this.replayOffset = level.replayFrom;
      throw e;
    }
  }

  /** Open transactions, outermost first (`transaction`): keys written inside one are buffered. */
  private readonly levels: Level[] = [];
  /** Keys written in the open transaction and not yet stored (null: deleted), in order. */
  private readonly pendingKeys = new Map<string, Entry | null>();
  /** Keys of committed transactions not yet stored (see `transaction`), and about their bytes. */
  private readonly deferredKeys = new Map<string, Entry | null>();
  private deferredBytes = 0;
  /** Where the log must be replayed from for the deferred keys (meta `keyspace_replay_from`), or null. */
  private replayOffset: number | null = null;
  /** The end of the last log run written. */
  private logEnd = 0;

  get replayFrom(): number | null {
    return this.replayOffset;
  }

  storeDeferred(): void {
    this.replayPending = false;
    this.storeAll();
  }

  /** The keys deferred before a restart are not replayed yet: the marker stays until they are. */
  private replayPending = false;

  /** At the end of the outermost transaction, inside it: defers its keys (true), or stores every buffered key. */
  private endTransaction(level: Level): boolean {
    if (this.pendingKeys.size === 0 && !level.storeAll) return false;
    if (!level.storeAll && level.logStart !== null && this.pendingKeys.size > 0) {
      let bytes = 0;
      for (const [key, e] of this.pendingKeys) bytes += deferredSize(key, e);
      const from = this.replayOffset ?? level.logStart;
      if (
        this.deferredKeys.size + this.pendingKeys.size <= DEFER_KEYS &&
        this.deferredBytes + bytes <= DEFER_BYTES &&
        this.logEnd - from <= DEFER_LOG_BYTES
      ) {
        if (this.replayOffset === null) {
          this.exec("INSERT INTO meta (name, value) VALUES ('keyspace_replay_from', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", from);
          this.replayOffset = from;
        }
        return true;
      }
    }
    this.storeAll();
    return false;
  }

  /** After the outermost transaction committed: its keys join the deferred ones. */
  private deferPending(): void {
    for (const [key, e] of this.pendingKeys) this.deferKey(key, e);
    this.pendingKeys.clear();
  }

  private deferKey(key: string, e: Entry | null): void {
    // A value may be a view of a whole request or push: keep only its bytes.
    const entry = e !== null && e.value.byteLength !== e.value.buffer.byteLength ? { ...e, value: e.value.slice() } : e;
    this.deferredKeys.set(key, entry);
    this.deferredBytes += deferredSize(key, entry);
  }

  /**
   * Stores every deferred and buffered key now and marks the keyspace complete, in the open
   * transaction (whose rollback defers them again) or in one of its own.
   */
  private storeAll(): void {
    if (this.deferredKeys.size === 0 && this.pendingKeys.size === 0 && (this.replayOffset === null || this.replayPending)) return;
    if (this.levels.length === 0) {
      this.transaction(() => this.storeAll());
      return;
    }
    const level = this.levels[this.levels.length - 1]!;
    const writes = new Map(this.deferredKeys);
    for (const [key, e] of this.deferredKeys) level.stored.set(key, e);
    for (const [key, e] of this.pendingKeys) writes.set(key, e);
    this.deferredKeys.clear();
    this.deferredBytes = 0;
    this.pendingKeys.clear();
    this.writeKeys(writes);
    if (this.replayOffset !== null && !this.replayPending) {
      this.exec("DELETE FROM meta WHERE name = 'keyspace_replay_from'");
      this.replayOffset = null;
    }
  }

  /**
   * A write other than a key's or the log's: the transaction then stores every key at its end (a
   * replay of the log from the deferred keys would apply its effects again); outside one, the
   * deferred keys are stored first.
   */
  private otherWrite(): void {
    if (this.levels.length > 0) this.levels[0]!.storeAll = true;
    else this.storeAll();
  }

  /** Writes `keys` and empties it: replaced rows eleven to a statement, deleted ones fifty. */
  private writeKeys(keys: Map<string, Entry | null>): void {
    if (keys.size === 0) return;
    const puts: [string, Entry][] = [];
    const deletes: string[] = [];
    for (const [key, e] of keys) if (e === null) deletes.push(key);
    else puts.push([key, e]);
    keys.clear();
    for (let i = 0; i < puts.length; i += PUT_ROWS) {
      const part = puts.slice(i, i + PUT_ROWS);
      this.exec(
        `INSERT OR REPLACE INTO keyspace (slot, key, ${KEY_COLUMNS}) VALUES ${part.map(() => "(?, ?, ?, 0, ?, ?, ?, ?, ?, ?)").join(", ")}`,
        ...part.flatMap(([key, e]) => [slotOf(key), key, ...keyValues(e)]),
      );
    }
    for (let i = 0; i < deletes.length; i += DELETE_ROWS) {
      const part = deletes.slice(i, i + DELETE_ROWS);
      this.exec(
        `DELETE FROM keyspace WHERE (slot, key) IN (VALUES ${part.map(() => "(?, ?)").join(", ")})`,
        ...part.flatMap((key) => [slotOf(key), key]),
      );
    }
  }

  /**
   * `stored` with writes buffered inside a transaction and deferred after it: reads of a key see
   * them, every other query first stores them, and the writes other than a key's mark the
   * transaction (`otherWrite`).
   */
  private buffered(stored: KeyStore): KeyStore {
    const writes = new Set<string>(["loadPacked", "deleteWrittenBefore"]);
    const storing = Object.fromEntries(
      Object.entries(stored).map(([name, method]) => [
        name,
        (...args: unknown[]) => {
          this.storeAll();
          if (writes.has(name)) this.otherWrite();
          return (method as (...a: unknown[]) => unknown)(...args);
        },
      ]),
    ) as unknown as KeyStore;
    const write = (key: string, e: Entry | null) => {
      if (this.levels.length > 0) this.pendingKeys.set(key, e);
      else this.transaction(() => this.pendingKeys.set(key, e));
    };
    return {
      ...storing,
      get: (key) => {
        let e = this.pendingKeys.get(key);
        if (e === undefined) e = this.deferredKeys.get(key);
        return e === undefined ? stored.get(key) : e && asStored(e);
      },
      put: (key, e) => write(key, e),
      delete: (key) => write(key, null),
      clear: () => {
        this.storeAll();
        this.otherWrite();
        stored.clear();
      },
    };
  }

  private readonly storedKeys: KeyStore = {
    get: (key) => {
      const row = this.first("SELECT type, value, expires_at, mod_offset, eid, count, bytes FROM keyspace WHERE slot = ? AND key = ?", slotOf(key), key);
      return row ? toEntry(row) : null;
    },
    put: (key, e) =>
      void this.exec(
        `INSERT INTO keyspace (slot, key, ${KEY_COLUMNS}) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(slot, key) DO UPDATE SET type = excluded.type, encoding = excluded.encoding,
           value = excluded.value, expires_at = excluded.expires_at, mod_offset = excluded.mod_offset,
           eid = excluded.eid, count = excluded.count, bytes = excluded.bytes`,
        slotOf(key),
        key,
        ...keyValues(e),
      ),
    // A full sync's runs (engine/sync.ts): bounds, collections and packed strings, each one
    // statement over a range of the table's own order.
    // Sizes summed as the rows come (the cursor reads no further than the loop asks).
    runEnd: (slot, afterKey, maxBytes, maxKeys) => {
      const cursor = this.exec<{ slot: number; key: string; size: number }>(
        `SELECT slot, key, length(CAST(key AS BLOB)) + length(value) + 16 AS size FROM keyspace
         WHERE ${afterKey === null ? "slot >= ?" : "(slot, key) > (?, ?)"} ORDER BY slot, key LIMIT ?`,
        ...(afterKey === null ? [slot] : [slot, afterKey]),
        maxKeys,
      );
      let end: KeyPosition | null = null;
      let size = 0;
      for (const [s, k, n] of cursor.raw() as Iterable<[number, string, number]>) {
        end = { slot: s, key: k };
        size += n;
        if (size >= maxBytes) break;
      }
      return end;
    },
    collectionsUntil: (slot, afterKey, end) => {
      const range = runRange(slot, afterKey, end);
      return this.exec(
        `SELECT slot, key, type, value, expires_at, mod_offset, eid, count, bytes FROM keyspace WHERE ${range.sql} AND eid IS NOT NULL ORDER BY slot, key`,
        ...range.params,
      )
        .toArray()
        .map((row) => ({ slot: row.slot as number, key: row.key as string, entry: toEntry(row) }));
    },
    packStrings: (slot, afterKey, end, now) => {
      const range = runRange(slot, afterKey, end);
      const row = this.first(
        `SELECT CAST(json_group_array(json_array(slot, hex(key), hex(value), expires_at)) AS BLOB) AS packed, count(*) AS n,
           coalesce(sum(length(CAST(key AS BLOB)) + length(value)), 0) AS bytes
         FROM (SELECT slot, key, value, expires_at FROM keyspace WHERE ${range.sql} AND eid IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY slot, key)`,
        ...range.params,
        now,
      )!;
      return { packed: new Uint8Array(row.packed as ArrayBuffer), count: row.n as number, bytes: row.bytes as number };
    },
    loadPacked: (packed, mod) =>
      void this.exec(
        `INSERT OR REPLACE INTO keyspace (slot, key, type, encoding, value, expires_at, mod_offset)
         SELECT value ->> 0, CAST(unhex(value ->> 1) AS TEXT), 0, 0, unhex(value ->> 2), value ->> 3, ? FROM json_each(CAST(? AS TEXT))`,
        mod,
        blob(packed),
      ),
    delete: (key) => void this.exec("DELETE FROM keyspace WHERE slot = ? AND key = ?", slotOf(key), key),
    clear: () => void this.exec("DELETE FROM keyspace"),
    deleteWrittenBefore: (offset) => void this.exec("DELETE FROM keyspace WHERE mod_offset < ?", offset),
    scan: (slot, afterKey, limit, collections = false) => {
      const only = collections ? " AND eid IS NOT NULL" : "";
      return (
        afterKey === null
          ? this.exec(`SELECT slot, key, type, value, expires_at, mod_offset, eid, count, bytes FROM keyspace WHERE slot >= ?${only} ORDER BY slot, key LIMIT ?`, slot, limit)
          : this.exec(
              `SELECT slot, key, type, value, expires_at, mod_offset, eid, count, bytes FROM keyspace WHERE (slot, key) > (?, ?)${only} ORDER BY slot, key LIMIT ?`,
              slot,
              afterKey,
              limit,
            )
      )
        .toArray()
        .map((row) => ({ slot: row.slot as number, key: row.key as string, entry: toEntry(row) }));
    },
    due: (now, limit) =>
      this.exec(
        "SELECT key FROM keyspace WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?",
        now,
        limit,
      )
        .toArray()
        .map((row) => row.key as string),
    nextDeadline: () =>
      (this.first("SELECT min(expires_at) AS at FROM keyspace WHERE expires_at IS NOT NULL")?.at as number | null) ?? null,
    random: (r) => {
      const slot = Math.min(SLOTS - 1, Math.floor(r * SLOTS));
      const row = this.first("SELECT key FROM keyspace WHERE slot >= ? ORDER BY slot LIMIT 1", slot) ?? this.first("SELECT key FROM keyspace ORDER BY slot LIMIT 1");
      return (row?.key as string | undefined) ?? null;
    },
    // The span of deadlines from the expiry index (two index ends), then the first at or after a
    // point in it: one or two rows read whatever the keyspace's size.
    randomWithDeadline: (r) => {
      const row = this.first(
        `SELECT key FROM keyspace WHERE expires_at >= (SELECT min(expires_at) FROM keyspace WHERE expires_at IS NOT NULL) +
           CAST(((SELECT max(expires_at) FROM keyspace WHERE expires_at IS NOT NULL) -
                 (SELECT min(expires_at) FROM keyspace WHERE expires_at IS NOT NULL) + 1) * ? AS INTEGER)
         ORDER BY expires_at LIMIT 1`,
        r,
      );
      return (row?.key as string | undefined) ?? null;
    },
    countWithDeadline: () =>
      this.first<{ n: number }>("SELECT count(*) AS n FROM keyspace WHERE expires_at IS NOT NULL")!.n,
    count: () => this.first<{ n: number }>("SELECT count(*) AS n FROM keyspace")!.n,
    measure: () => {
      const row = this.first<{ n: number; b: number }>(
        "SELECT count(*) AS n, coalesce(sum(length(CAST(key AS BLOB)) + CASE WHEN eid IS NULL THEN length(value) ELSE coalesce(bytes, 0) END), 0) AS b FROM keyspace",
      )!;
      return { count: row.n, bytes: row.b };
    },
  };

  readonly keys: KeyStore = this.buffered(this.storedKeys);

  private readonly storedElements: ElementStore = {
    get: (eid, field) => {
      const row = this.first("SELECT value, score, mod_offset FROM elements WHERE eid = ? AND field = ?", eid, field);
      return row ? toElement(row) : null;
    },
    put: (eid, field, e) =>
      void this.exec(
        `INSERT INTO elements (eid, field, value, score, mod_offset) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(eid, field) DO UPDATE SET value = excluded.value, score = excluded.score, mod_offset = excluded.mod_offset`,
        eid,
        field,
        blob(e.value),
        e.score,
        e.mod ?? 0,
      ),
    delete: (eid, field) => void this.exec("DELETE FROM elements WHERE eid = ? AND field = ?", eid, field),
    page: (eid, after, limit) =>
      (after === null
        ? this.exec("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? ORDER BY field LIMIT ?", eid, limit)
        : this.exec("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? AND field > ? ORDER BY field LIMIT ?", eid, after, limit)
      )
        .toArray()
        .map((row) => ({ field: row.field as string, ...toElement(row) })),
    at: (eid, index) => {
      const row = this.first("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? ORDER BY field LIMIT 1 OFFSET ?", eid, index);
      return row ? { field: row.field as string, ...toElement(row) } : null;
    },
    listPageBackward: (eid, before, limit) =>
      (before === null
        ? this.exec("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? ORDER BY field DESC LIMIT ?", eid, limit)
        : this.exec("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? AND field < ? ORDER BY field DESC LIMIT ?", eid, before, limit)
      )
        .toArray()
        .map((row) => ({ field: row.field as string, ...toElement(row) })),
    listAtFromEnd: (eid, index) => {
      const row = this.first("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? ORDER BY field DESC LIMIT 1 OFFSET ?", eid, index);
      return row ? { field: row.field as string, ...toElement(row) } : null;
    },
    count: (eid) => this.first<{ n: number }>("SELECT count(*) AS n FROM elements WHERE eid = ?", eid)!.n,
    measure: (eid) => {
      const row = this.first<{ n: number; b: number }>(
        "SELECT count(*) AS n, coalesce(sum(length(CAST(field AS BLOB)) + length(value)), 0) AS b FROM elements WHERE eid = ?",
        eid,
      )!;
      return { count: row.n, bytes: row.b };
    },
    drop: (eid) => {
      if (this.deleteElements(eid, DROP_AT_ONCE + 1) > DROP_AT_ONCE) this.exec("INSERT OR IGNORE INTO dropped (eid) VALUES (?)", eid);
    },
    purgePending: () => this.first("SELECT 1 AS x FROM dropped LIMIT 1") !== null,
    purge: (limit) => {
      let deleted = 0;
      while (deleted < limit) {
        const next = this.first<{ eid: number }>("SELECT eid FROM dropped LIMIT 1");
        if (!next) break;
        const want = limit - deleted;
        const n = this.deleteElements(next.eid, want);
        deleted += n;
        if (n < want) this.exec("DELETE FROM dropped WHERE eid = ?", next.eid);
      }
      return deleted;
    },
    deleteWrittenBefore: (eid, offset) => void this.exec("DELETE FROM elements WHERE eid = ? AND mod_offset < ?", eid, offset),
    clear: () => {
      this.exec("DELETE FROM elements");
      this.exec("DELETE FROM dropped");
    },
    // Sorted sets: each query is a range of elements_by_score (eid, score, field); an OFFSET or a
    // count walks the entries it skips or counts, so a rank costs as much as the rank is large.
    zsetRange: (eid, range, reverse, offset, limit) => {
      const where = zsetWhere(range);
      const dir = reverse ? "DESC" : "ASC";
      return this.exec(
        `SELECT field, value, score, mod_offset FROM elements WHERE eid = ?${where.sql} ORDER BY score ${dir}, field ${dir} LIMIT ? OFFSET ?`,
        eid,
        ...where.params,
        limit < 0 ? -1 : limit,
        offset,
      )
        .toArray()
        .map((row) => ({ field: row.field as string, ...toElement(row) }));
    },
    zsetCount: (eid, range) => {
      const where = zsetWhere(range);
      return this.first<{ n: number }>(`SELECT count(*) AS n FROM elements WHERE eid = ?${where.sql}`, eid, ...where.params)!.n;
    },
    zsetCountBefore: (eid, score, field) => {
      // Two index ranges (lower scores; the same score and a lower member) rather than an OR.
      const s = real(score);
      const below = this.first<{ n: number }>(`SELECT count(*) AS n FROM elements WHERE eid = ? AND score < ${s.sql}`, eid, ...s.params)!.n;
      const tied = this.first<{ n: number }>(
        `SELECT count(*) AS n FROM elements WHERE eid = ? AND score = ${s.sql} AND field < ?`,
        eid,
        ...s.params,
        field,
      )!.n;
      return below + tied;
    },
  };

  /** The elements; each write marks the transaction (`otherWrite`). */
  readonly elements: ElementStore = this.marking(this.storedElements, ["put", "delete", "drop", "purge", "deleteWrittenBefore", "clear"]);

  private marking<S extends object>(store: S, writes: readonly (keyof S & string)[]): S {
    const marked = { ...store };
    for (const name of writes) {
      const method = store[name] as (...a: unknown[]) => unknown;
      (marked as Record<string, unknown>)[name] = (...args: unknown[]) => {
        this.otherWrite();
        return method(...args);
      };
    }
    return marked;
  }

  /** Deletes up to `limit` elements of `eid`; answers how many. */
  private deleteElements(eid: number, limit: number): number {
    this.exec("DELETE FROM elements WHERE eid = ? AND field IN (SELECT field FROM elements WHERE eid = ? ORDER BY field LIMIT ?)", eid, eid, limit);
    return this.first<{ n: number }>("SELECT changes() AS n")!.n;
  }

  readonly log: LogStore = {
    append: (offset, frame) => {
      this.exec("INSERT INTO backlog (offset, frame) VALUES (?, ?)", offset, blob(frame));
      if (this.levels.length > 0) this.levels[0]!.logStart ??= offset;
      this.logEnd = offset + frame.length;
      // Log written without keys (effects that changed nothing) also lengthens a restart's replay.
      if (this.replayOffset !== null && this.logEnd - this.replayOffset > DEFER_LOG_BYTES) this.otherWrite();
    },
    bounds: () => {
      const first = this.first("SELECT offset FROM backlog ORDER BY offset LIMIT 1");
      if (!first) return null;
      const last = this.first("SELECT offset, length(frame) AS len FROM backlog ORDER BY offset DESC LIMIT 1")!;
      return { first: first.offset as number, lastOffset: last.offset as number, lastLength: last.len as number };
    },
    // The run holding `offset` is the last that starts at or before it.
    trimBefore: (offset) => {
      // The log from `replayFrom` on is what a restart needs for the deferred keys, and the open
      // transaction's own entries for the keys it would defer: trimming past them stores them.
      if (this.replayOffset !== null && offset > this.replayOffset) this.storeAll();
      const level = this.levels[0];
      if (level !== undefined && level.logStart !== null && offset > level.logStart) level.storeAll = true;
      this.exec("DELETE FROM backlog WHERE offset < (SELECT max(offset) FROM backlog WHERE offset <= ?)", offset);
    },
    clear: () => {
      this.storeAll();
      this.otherWrite();
      this.exec("DELETE FROM backlog");
    },
    read: (offset, maxBytes) => {
      const out: { offset: number; frame: Bytes }[] = [];
      let size = 0;
      const from = (this.first("SELECT max(offset) AS o FROM backlog WHERE offset <= ?", offset)?.o as number | null) ?? offset;
      for (const row of this.exec("SELECT offset, frame FROM backlog WHERE offset >= ? ORDER BY offset", from)) {
        if (out.length > 0 && size >= maxBytes) break;
        const frame = new Uint8Array(row.frame as ArrayBuffer);
        out.push({ offset: row.offset as number, frame });
        size += frame.length;
      }
      return out;
    },
  };

  readonly meta: MetaStore = {
    get: (name) => (this.first("SELECT value FROM meta WHERE name = ?", name)?.value as string | number | undefined) ?? null,
    set: (name, value) => {
      // The backlog's bookkeeping changes nothing a replay of the log would do.
      if (name !== "log_base_offset") this.otherWrite();
      this.exec("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", name, value);
    },
  };
}

/** What one transaction's storage state is (see `transaction`). */
interface Level {
  /** Deferred keys this transaction stored: deferred again if it rolls back. */
  readonly stored: Map<string, Entry | null>;
  /** The replay offset when it began (its rollback restores the stored one). */
  readonly replayFrom: number | null;
  /** Outermost only: the offset of the first log run it wrote, and whether it must store every key. */
  logStart: number | null;
  storeAll: boolean;
}

/** Bounds on the deferred keys (see `SqliteStorage.transaction`): their number, bytes, and the log a restart replays. */
const DEFER_KEYS = 4096;
const DEFER_BYTES = 4 * 1024 * 1024;
const DEFER_LOG_BYTES = 2 * 1024 * 1024;

/** About the memory a deferred key holds. */
function deferredSize(key: string, e: Entry | null): number {
  return 64 + key.length + (e === null ? 0 : e.value.byteLength);
}

/** Rows per multi-row INSERT of buffered keys (9 bound parameters each: within the 100 a statement may have). */
const PUT_ROWS = 11;
/** Keys per multi-row DELETE (2 bound parameters each). */
const DELETE_ROWS = 50;

/** An entry as reading its row back would give it. */
function asStored(e: Entry): Entry {
  const entry: Entry = { type: e.type, value: e.value, expiresAt: e.expiresAt, mod: e.mod ?? 0 };
  return e.eid === undefined ? entry : { ...entry, eid: e.eid, count: e.count as number, bytes: e.bytes ?? 0 };
}

/** The WHERE condition of the keys after (slot, afterKey) (null: from `slot` on) up to and with `end`. */
function runRange(slot: number, afterKey: string | null, end: KeyPosition): { sql: string; params: unknown[] } {
  const upper = "(slot, key) <= (?, ?)";
  return afterKey === null
    ? { sql: `slot >= ? AND ${upper}`, params: [slot, end.slot, end.key] }
    : { sql: `(slot, key) > (?, ?) AND ${upper}`, params: [slot, afterKey, end.slot, end.key] };
}

/** The bound values of a keyspace row after (slot, key), as KEY_COLUMNS lists them (the encoding is a literal 0). */
function keyValues(e: Entry): unknown[] {
  return [TYPE_CODES[e.type], blob(e.value), e.expiresAt, e.mod ?? 0, e.eid ?? null, e.count ?? null, e.eid === undefined ? null : (e.bytes ?? 0)];
}

/** A score in SQL: infinities as literals SQLite reads as such (9e999 overflows to Inf), others as a parameter. */
function real(n: number): { sql: string; params: unknown[] } {
  if (n === Infinity) return { sql: "9e999", params: [] };
  if (n === -Infinity) return { sql: "-9e999", params: [] };
  return { sql: "?", params: [n] };
}

/** The WHERE conditions (after `eid = ?`) of a sorted set's range. */
function zsetWhere(range: ZsetRange): { sql: string; params: unknown[] } {
  let sql = "";
  const params: unknown[] = [];
  const add = (cond: string, ...p: unknown[]) => {
    sql += ` AND ${cond}`;
    params.push(...p);
  };
  if (range.by === "score") {
    const { min, max } = range;
    if (!(min.value === -Infinity && !min.ex)) {
      const v = real(min.value);
      add(`score ${min.ex ? ">" : ">="} ${v.sql}`, ...v.params);
    }
    if (!(max.value === Infinity && !max.ex)) {
      const v = real(max.value);
      add(`score ${max.ex ? "<" : "<="} ${v.sql}`, ...v.params);
    }
  } else if (range.by === "lex") {
    const { min, max } = range;
    if (min === "+" || max === "-") add("0");
    if (typeof min === "object") add(`field ${min.ex ? ">" : ">="} ?`, min.value);
    if (typeof max === "object") add(`field ${max.ex ? "<" : "<="} ?`, max.value);
  }
  return { sql, params };
}

function toElement(row: Row): Element {
  return { value: new Uint8Array(row.value as ArrayBuffer), score: row.score as number | null, mod: row.mod_offset as number };
}

function toEntry(row: Row): Entry {
  const entry: Entry = {
    type: TYPE_NAMES[row.type as number]!,
    value: new Uint8Array(row.value as ArrayBuffer),
    expiresAt: row.expires_at as number | null,
    mod: row.mod_offset as number,
  };
  return row.eid === null || row.eid === undefined
    ? entry
    : { ...entry, eid: row.eid as number, count: row.count as number, bytes: (row.bytes as number | null) ?? 0 };
}
