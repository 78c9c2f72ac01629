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
 * The tables' statements are in keys.ts and elements.ts, the migrations in migrations.ts; this
 * file holds the transactions, with the keys they buffer and defer, the backlog and meta.
 *
 * Crash invariant (SPEC §7: after a crash at any point, every acknowledged effect is applied
 * exactly once): what marks an effect applied is written in the transaction that writes its rows.
 * Each key and element row carries `mod_offset`, the offset of the effect that last wrote it, and
 * that effect's log entry is in the same transaction. Keys a transaction leaves in memory are
 * named by meta `keyspace_replay_from`, written with their log entries and deleted by the
 * transaction that stores them; a restart replays the log from there (engine/replication/sync.ts
 * `replayDeferred`), and an effect whose row already carries its offset is skipped
 * (engine/replication/effects.ts `applyEffect`), so a replay never applies one twice. test/engine/crash-recovery.test.ts
 * kills this storage at every kind of statement and checks the restarted node against a model.
 */
import type { Bytes } from "../engine/bytes";
import { type ElementTable, type Entry, type KeyTable, type LogStore, type MetaStore, type Storage, indexesOf } from "../engine/storage";
import type { DeadlineIndex } from "../engine/keyspace/deadline-index";
import type { SnapshotStore } from "../engine/replication/snapshot-format";
import type { TypeIndexes } from "../engine/types";
import { sqlElements } from "./elements";
import { asStored, sqlKeys, writeKeys } from "./keys";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations";
import { Ranks } from "./ranks";
import { type Row, type Sql, blob } from "./sql";

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
        // Rank counts a change recorded are written in its transaction, whoever forgot to settle them.
        this.ranks.flushAll();
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
      this.metaCache.clear();
      this.ranks.reset();
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
          this.writeMeta("keyspace_replay_from", from);
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
    const writes = new Map<string, Entry | null>();
    for (const [key, e] of this.deferredKeys) {
      writes.set(key, e);
      level.stored.set(key, e);
    }
    for (const [key, e] of this.pendingKeys) writes.set(key, e);
    this.deferredKeys.clear();
    this.deferredBytes = 0;
    this.pendingKeys.clear();
    writeKeys(this.sql, writes);
    if (this.replayOffset !== null && !this.replayPending) {
      this.exec("DELETE FROM meta WHERE name = 'keyspace_replay_from'");
      this.metaCache.delete("keyspace_replay_from");
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

  /**
   * Meta rows as read or written since the start (this object is their only writer): a replica
   * asks for `consistent_at` and `recount` at every push. Forgotten when a transaction rolls back.
   */
  private readonly metaCache = new Map<string, string | number | null>();

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

