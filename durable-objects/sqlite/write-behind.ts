/**
 * The keys a node's transactions write, buffered within a transaction and, after it commits, kept
 * in memory for a while (deferred) instead of stored at once.
 *
 * Why: a statement costs about as much as the rows it writes (4 us for `SELECT 1`, 8 for a
 * one-row upsert, 3 a row for eleven), so the keys one transaction writes are stored in multi-row
 * statements at its end; and on the runtime's SQLite most of a written row's cost is the first
 * change of its page in a transaction (a pipeline of 100 SETs to random keys cost 1.9 ms stored at
 * once, 0.65 ms more written a second time in the same transaction), so keys written again while
 * deferred are stored once.
 *
 * INVARIANT (the crash safety of SPEC §7 rests on it): every key write of a committed transaction
 * is either stored in the keyspace table, or held here while the log entries of the effects that
 * made it are stored at or after the marker (meta `keyspace_replay_from`), which is written in the
 * first transaction that defers keys, before any is held, and deleted only in the transaction that
 * stores them all. A restart finds the marker and replays the log from it (engine/replication/
 * sync.ts `replayDeferred`), which gives every deferred key back; an effect whose row already
 * carries its offset is skipped, so none is applied twice. Hence:
 * - only a transaction that wrote keys and their log entries, and nothing else, defers its keys
 *   (any other write: `otherWrite`, and the transaction stores every key at its end): a replay
 *   must not apply an effect twice whose other rows were stored;
 * - the log is never trimmed past the marker or past the open transaction's first entry
 *   (`beforeTrim` stores the keys first);
 * - a transaction that rolls back re-defers the deferred keys it had stored (their rows were
 *   rolled back with it) and restores the marker it began with;
 * - the deferred keys, their bytes and the log written since the marker stay under DEFER_KEYS,
 *   DEFER_BYTES and DEFER_LOG_BYTES, which bounds memory and a restart's replay.
 * A nested transaction first stores every key buffered or deferred, so its rollback undoes only its
 * own writes, and forgets its own buffer when it fails.
 */
import type { Entry } from "../engine/storage";

/** What the write-behind asks of the database it sits in front of. */
export interface WriteBehindHost {
  /** Writes (null: deletes) these keys' rows, in the open transaction (the map is the host's to empty). */
  store(writes: Map<string, Entry | null>): void;
  /** Writes the marker (meta `keyspace_replay_from`), or deletes it (null), in the open transaction. */
  mark(offset: number | null): void;
  /** Runs `fn` in a transaction of the database (the storage's own `transaction`). */
  transaction(fn: () => void): void;
}

/** What one transaction's state is (see `begin`). */
export interface Level {
  /** Deferred keys this transaction stored: deferred again if it rolls back. */
  readonly stored: Map<string, Entry | null>;
  /** The replay offset when it began (its rollback restores it). */
  readonly replayFrom: number | null;
  /** Outermost only: the offset of the first log run it wrote, and whether it must store every key. */
  logStart: number | null;
  storeAll: boolean;
}

/** Bounds on the deferred keys: their number, bytes, and the log a restart replays. */
export const DEFER_KEYS = 4096;
export const DEFER_BYTES = 4 * 1024 * 1024;
export const DEFER_LOG_BYTES = 2 * 1024 * 1024;

export class WriteBehind {
  /** Open transactions, outermost first: keys written inside one are buffered. */
  private readonly levels: Level[] = [];
  /** Keys written in the open transaction and not yet stored (null: deleted), in order. */
  private readonly pendingKeys = new Map<string, Entry | null>();
  /** Keys of committed transactions not yet stored, and about their bytes. */
  private readonly deferredKeys = new Map<string, Entry | null>();
  private deferredBytes = 0;
  /** Where the log must be replayed from for the deferred keys (the marker), or null. */
  private replayOffset: number | null = null;
  /** The keys deferred before a restart are not replayed yet: the marker stays until they are. */
  private replayPending = false;
  /** The end of the last log run written. */
  private logEnd = 0;

  constructor(private readonly host: WriteBehindHost) {}

  /** A marker found stored at start: keys were deferred before a restart, and their replay is pending. */
  resume(marker: number): void {
    this.replayOffset = marker;
    this.replayPending = true;
  }

  /** See `Storage.replayFrom`. */
  get replayFrom(): number | null {
    return this.replayOffset;
  }

  /** Keys held in memory now (a metric). */
  get deferred(): number {
    return this.deferredKeys.size;
  }

  /** The replay after a restart is done: every key is stored, and the marker goes. */
  storeDeferred(): void {
    this.replayPending = false;
    this.storeAll();
  }

  /** The value written to `key` and not stored yet (null: deleted), or undefined for none. */
  read(key: string): Entry | null | undefined {
    const e = this.pendingKeys.get(key);
    return e === undefined ? this.deferredKeys.get(key) : e;
  }

  /** A key written: buffered in the open transaction (or in one of its own). */
  write(key: string, e: Entry | null): void {
    if (this.levels.length > 0) this.pendingKeys.set(key, e);
    else this.host.transaction(() => this.pendingKeys.set(key, e));
  }

  /**
   * A write other than a key's or the log's: the transaction then stores every key at its end (a
   * replay of the log from the deferred keys would apply its effects again); outside one, the
   * deferred keys are stored first.
   */
  otherWrite(): void {
    if (this.levels.length > 0) this.levels[0]!.storeAll = true;
    else this.storeAll();
  }

  /** A run of the log written at `offset`, ending at `end`. */
  logAppended(offset: number, end: number): void {
    if (this.levels.length > 0) this.levels[0]!.logStart ??= offset;
    this.logEnd = end;
    // Log written without keys (effects that changed nothing) also lengthens a restart's replay.
    if (this.replayOffset !== null && this.logEnd - this.replayOffset > DEFER_LOG_BYTES) this.otherWrite();
  }

  /**
   * Before the log is trimmed up to `offset`: the log from the marker on is what a restart needs for
   * the deferred keys, and the open transaction's own entries for the keys it would defer:
   * trimming past them stores them.
   */
  beforeTrim(offset: number): void {
    if (this.replayOffset !== null && offset > this.replayOffset) this.storeAll();
    const level = this.levels[0];
    if (level !== undefined && level.logStart !== null && offset > level.logStart) level.storeAll = true;
  }

  /** A transaction begins (nested: every key is stored first, so its rollback undoes only its own writes). */
  begin(): Level {
    // Stores deferred keys too: one written here while an older value of it stayed deferred would
    // read, and later be stored, as that older value.
    if (this.levels.length > 0) this.storeAll();
    const level: Level = { stored: new Map(), replayFrom: this.replayOffset, logStart: null, storeAll: false };
    this.levels.push(level);
    return level;
  }

  /**
   * The end of `level`'s transaction, inside it: the outermost one defers its keys (true) when it
   * may (see the invariant), else every buffered and deferred key is stored.
   */
  finish(level: Level): boolean {
    if (this.levels[0] !== level) {
      this.storeAll();
      return false;
    }
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
          this.host.mark(from);
          this.replayOffset = from;
        }
        return true;
      }
    }
    this.storeAll();
    return false;
  }

  /** After `level`'s transaction committed; `defer`: `finish`'s answer. */
  committed(level: Level, defer: boolean): void {
    this.levels.pop();
    if (defer) {
      for (const [key, e] of this.pendingKeys) this.deferKey(key, e);
      this.pendingKeys.clear();
    } else if (this.levels.length > 0) for (const [key, e] of level.stored) this.levels[this.levels.length - 1]!.stored.set(key, e);
  }

  /** After `level`'s transaction rolled back: its buffer is forgotten, the keys it stored are deferred again. */
  rolledBack(level: Level): void {
    this.levels.pop();
    this.pendingKeys.clear();
    // Deferred keys this transaction stored were rolled back with it: they wait again.
    for (const [key, entry] of level.stored) this.deferKey(key, entry);
    this.replayOffset = level.replayFrom;
  }

  /**
   * Stores every deferred and buffered key now and deletes the marker, in the open transaction
   * (whose rollback defers them again) or in one of its own.
   */
  storeAll(): void {
    if (this.deferredKeys.size === 0 && this.pendingKeys.size === 0 && (this.replayOffset === null || this.replayPending)) return;
    if (this.levels.length === 0) {
      this.host.transaction(() => this.storeAll());
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
    this.host.store(writes);
    if (this.replayOffset !== null && !this.replayPending) {
      this.host.mark(null);
      this.replayOffset = null;
    }
  }

  private deferKey(key: string, e: Entry | null): void {
    // A value may be a view of a whole request or push: keep only its bytes.
    const entry = e !== null && e.value.byteLength !== e.value.buffer.byteLength ? { ...e, value: e.value.slice() } : e;
    this.deferredKeys.set(key, entry);
    this.deferredBytes += deferredSize(key, entry);
  }
}

/** About the memory a deferred key holds. */
function deferredSize(key: string, e: Entry | null): number {
  return 64 + key.length + (e === null ? 0 : e.value.byteLength);
}
