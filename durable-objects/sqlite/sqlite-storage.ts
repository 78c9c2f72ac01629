/**
 * The engine's `Storage` on a Durable Object's SQLite database.
 *
 * Schema:
 * - `meta(name, value)`: the schema version, replid, key count and other node state.
 * - `keyspace(slot, key, type, encoding, value, expires_at, mod_offset, ...)`: one row per key,
 *   keyed by its position (slot, key) (v6, engine/slot.ts), a table without rowid and without a
 *   second index on the name, so writing a key is one row written. `mod_offset` is the
 *   replication offset of its last write; `type` is the RDB type code and `encoding` the value's
 *   layout. Values stay under SQLite's 2 MB row limit (a string longer than 1 MiB is kept in
 *   `pages`). `keyspace_expiry` indexes only the keys with a deadline.
 * - `elements(eid, field, value, score, mod_offset)`: the elements of collections (v3), one row
 *   each, keyed by the collection's element id (`keyspace.eid`, kept by RENAME) and the field
 *   (hash field, set member...), so changing or reading one element touches one row.
 *   `keyspace.count` is the collection's size. `dropped(eid)`: deleted collections whose elements
 *   are still being purged in the background (nothing refers to a dropped id).
 *   `elements_by_score(eid, score, field)` (v4): a sorted set's elements in Redis's zset order, so
 *   ranges by score or rank, ranks and counts walk only the part of the index they cover.
 *   `keyspace.bytes` (v5): a collection's estimated size, the sum over its elements (sizes.ts).
 * - `pages(eid, field, ...)` (v9): the pages of strings longer than 1 MiB (engine/keyspace/page-layout.ts),
 *   under negative element ids, with the elements' columns and without their score index.
 * - `backlog(offset, frame)`: the replication log, runs of RESP frames (one per commit or push)
 *   keyed by the offset each starts at.
 *
 * The tables' statements are in keys.ts and elements.ts, the migrations in migrations.ts, the keys
 * a transaction buffers and defers in write-behind.ts; this file holds the transactions, the
 * backlog and meta.
 *
 * Crash invariant (SPEC §7: after a crash at any point, every acknowledged effect is applied
 * exactly once): what marks an effect applied is written in the transaction that writes its rows.
 * Each key and element row carries `mod_offset`, the offset of the effect that last wrote it, and
 * that effect's log entry is in the same transaction. Keys a transaction leaves in memory are
 * named by meta `keyspace_replay_from`, written with their log entries and deleted by the
 * transaction that stores them (write-behind.ts states the invariant); a restart replays the log from there (engine/replication/sync.ts
 * `replayDeferred`), and an effect whose row already carries its offset is skipped
 * (engine/replication/effects.ts `applyDecoded`), so a replay never applies one twice. test/engine/crash-recovery.test.ts
 * kills this storage at every kind of statement and checks the restarted node against a model.
 */
import type { Bytes } from "../engine/bytes";
import { type ElementTable, type KeyTable, type LogStore, type MetaStore, type Storage, indexesOf } from "../engine/storage";
import type { DeadlineIndex } from "../engine/keyspace/deadline-index";
import type { SnapshotStore } from "../engine/replication/snapshot-format";
import type { TypeIndexes } from "../engine/types";
import type { SavedStore } from "../engine/export/saved";
import { sqlElements } from "./elements";
import { asStored, sqlKeys, writeKeys } from "./keys";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations";
import { Ranks } from "./ranks";
import { sqlSaved } from "./saved";
import { type Row, type Sql, blob } from "./sql";
import { WriteBehind } from "./write-behind";

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
    if (from !== null) this.writeBehind.resume(Number(from));
  }

  /** The keys written, buffered in a transaction and kept in memory after it (write-behind.ts). */
  private readonly writeBehind = new WriteBehind({
    store: (writes) => writeKeys(this.sql, writes),
    mark: (offset) => {
      if (offset !== null) this.writeMeta("keyspace_replay_from", offset);
      else {
        this.exec("DELETE FROM meta WHERE name = 'keyspace_replay_from'");
        this.metaCache.delete("keyspace_replay_from");
      }
    },
    transaction: (fn) => this.transaction(fn),
  });

  /** Rows read and written (as SQLite Durable Objects bill them) and the database size. */
  usage(): StorageUsage {
    this.settle();
    return { rows_read: this.rowsRead, rows_written: this.rowsWritten, keys_deferred: this.writeBehind.deferred, database_bytes: this.storage.sql.databaseSize };
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
   * Runs `fn` in a transaction. The keys it writes are buffered, stored in multi-row statements at
   * its end or kept in memory after it commits (write-behind.ts, whose invariant the crash safety
   * rests on); a failure rolls back the database and forgets what the transaction left in memory.
   */
  transaction<T>(fn: () => T): T {
    const level = this.writeBehind.begin();
    let defer = false;
    try {
      const result = this.storage.transactionSync(() => {
        const result = fn();
        // Rank counts a change recorded are written in its transaction, whoever forgot to settle them.
        this.ranks.flushAll();
        defer = this.writeBehind.finish(level);
        return result;
      });
      this.writeBehind.committed(level, defer);
      return result;
    } catch (e) {
      this.metaCache.clear();
      this.ranks.reset();
      this.writeBehind.rolledBack(level);
      throw e;
    }
  }

  get replayFrom(): number | null {
    return this.writeBehind.replayFrom;
  }

  storeDeferred(): void {
    this.writeBehind.storeDeferred();
  }

  private otherWrite(): void {
    this.writeBehind.otherWrite();
  }

  private storeAll(): void {
    this.writeBehind.storeAll();
  }

  /**
   * `stored` with writes buffered inside a transaction and deferred after it: reads of a key see
   * them, every other query first stores them, and the writes other than a key's mark the
   * transaction (`otherWrite`).
   */
  private buffered(stored: KeyTable): KeyTable {
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
    ) as unknown as KeyTable;
    return {
      ...storing,
      get: (key) => {
        const e = this.writeBehind.read(key);
        return e === undefined ? stored.get(key) : e && asStored(e);
      },
      put: (key, e) => this.writeBehind.write(key, e),
      delete: (key) => this.writeBehind.write(key, null),
      clear: () => {
        this.storeAll();
        this.otherWrite();
        stored.clear();
      },
    };
  }

  /** Statements run through `exec` (counted), for the stores. */
  private readonly sql: Sql = { exec: (q, ...p) => this.exec(q, ...p), first: (q, ...p) => this.first(q, ...p) };

  readonly keys: KeyTable = this.buffered(sqlKeys(this.sql));
  readonly deadlines: DeadlineIndex = this.keys;
  readonly snapshot: SnapshotStore = this.keys;

  /** The rank index of large collections (ranks.ts), kept by the element store's writes. */
  private readonly ranks = new Ranks(this.sql);

  /** The elements; each write marks the transaction (`otherWrite`). */
  readonly elements: ElementTable = this.marking(sqlElements(this.sql, this.ranks), [
    "put",
    "delete",
    "drop",
    "purge",
    "deleteWrittenBefore",
    "clear",
    "plan",
    "settle",
    "copyElements",
  ]);

  readonly indexes: TypeIndexes = indexesOf(this.elements);

  private marking(store: ElementTable, writes: readonly (keyof ElementTable)[]): ElementTable {
    // A combination writes only when it has a destination.
    const marked: ElementTable = {
      ...store,
      combine: (spec) => {
        if (spec.into) this.otherWrite();
        return store.combine(spec);
      },
    };
    for (const name of writes) {
      const method = store[name] as (...a: unknown[]) => unknown;
      (marked as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        this.otherWrite();
        return method(...args);
      };
    }
    return marked;
  }

  readonly log: LogStore = {
    append: (offset, frame) => {
      this.exec("INSERT INTO backlog (offset, frame) VALUES (?, ?)", offset, blob(frame));
      this.writeBehind.logAppended(offset, offset + frame.length);
    },
    bounds: () => {
      const first = this.first("SELECT offset FROM backlog ORDER BY offset LIMIT 1");
      if (!first) return null;
      const last = this.first("SELECT offset, length(frame) AS len FROM backlog ORDER BY offset DESC LIMIT 1")!;
      return { first: first.offset as number, lastOffset: last.offset as number, lastLength: last.len as number };
    },
    // The run holding `offset` is the last that starts at or before it.
    trimBefore: (offset) => {
      this.writeBehind.beforeTrim(offset);
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

  /**
   * Meta rows as read or written since the start (this object is their only writer): a replica
   * asks for `consistent_at` and `recount` at every push. Forgotten when a transaction rolls back.
   */
  private readonly metaCache = new Map<string, string | number | null>();

  /** An export's saved values: rows of their own, written in the transaction that changes the key. */
  readonly saved: SavedStore = sqlSaved(this.sql);

  readonly meta: MetaStore = {
    get: (name) => {
      const cached = this.metaCache.get(name);
      if (cached !== undefined) return cached;
      const value = (this.first("SELECT value FROM meta WHERE name = ?", name)?.value as string | number | undefined) ?? null;
      this.metaCache.set(name, value);
      return value;
    },
    set: (name, value) => {
      // The backlog's bookkeeping changes nothing a replay of the log would do.
      if (name !== "log_base_offset") this.otherWrite();
      this.writeMeta(name, value);
    },
    delete: (name) => {
      this.otherWrite();
      this.exec("DELETE FROM meta WHERE name = ?", name);
      this.metaCache.delete(name);
    },
  };

  private writeMeta(name: string, value: string | number): void {
    this.exec("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", name, value);
    this.metaCache.set(name, value);
  }
}
