/**
 * The keyspace: SQLite is the source of truth, an LRU of recently used keys sits in front of it
 * (so a keyspace larger than a Durable Object's 128 MB works), and every change goes through a
 * `Change` overlay first.
 *
 * Why an overlay: a command (or a whole MULTI) reads and writes the overlay; only when it has
 * finished without error is the overlay committed to storage, the cache and the replication log
 * together. A command that fails half-way therefore changes nothing, and the effects it recorded
 * (deterministic write effects: SET ... PXAT, DEL, PEXPIREAT, PERSIST, FLUSHALL) are exactly the
 * changes that were committed, which is what replicas apply.
 */
import type { Bytes } from "../bytes";
import { ELEMENT_OVERHEAD, KEY_OVERHEAD, datasetSize, keySize } from "../sizes";
import { type Element, type Entry, type Storage, eachKey } from "../storage";
import { type PackedStrings } from "../replication/snapshot-format";
import { Change } from "./change";
import { HotCache } from "./hot-cache";

/** Element ids reserved at once (see `Keyspace.reservedEid`). */
const EID_BLOCK = 1024;

/** A deterministic write effect, as a Redis command (name first). */
export type Effect = (string | Bytes)[];

/** Roles use Redis's vocabulary: INFO prints them. */
export type Role = "master" | "slave";

export interface KeyspaceLimits {
  /** Largest string value in bytes. */
  readonly maxValueBytes: number;
  /** Budget of the hot cache, in (approximate) bytes. */
  readonly cacheBytes: number;
}

export class Keyspace {
  private readonly cache: HotCache;
  /** Number of keys, logically expired ones included (as Redis's DBSIZE counts them). */
  keyCount: number;
  /**
   * The dataset's estimated size in bytes (sizes.ts), logically expired keys included (they take
   * room until deleted): INFO `used_memory`, what `maxmemory` bounds. Kept with `keyCount`.
   */
  usedBytes: number;
  /** The next collection element id (never reused: a dropped collection's elements may linger). */
  nextEid: number;
  /**
   * Ids below this one may have been given out (meta `next_eid`): ids are reserved EID_BLOCK at a
   * time, so creating a collection or a paged string writes no meta row, and a restart goes on
   * from the reservation, skipping the ids it did not use.
   */
  private reservedEid = 1;
  /** A dropped collection's elements wait for `purge` (the storage deferred the work). */
  garbage = false;

  constructor(
    readonly storage: Storage,
    readonly limits: KeyspaceLimits,
  ) {
    this.cache = new HotCache(limits.cacheBytes);
    this.keyCount = 0;
    this.usedBytes = 0;
    this.nextEid = 1;
    this.load();
  }

  /**
   * Measures the running figures (the key count and the dataset's size) from storage, once at
   * start-up (one aggregate query over the keys): they are kept in memory and never written per
   * write, since rows written are what a write costs (each key's own size is in its row already).
   */
  private load(): void {
    this.remeasure();
    this.nextEid = this.reservedEid = Number(this.storage.meta.get("next_eid") ?? 1);
    this.garbage = this.storage.elements.purgePending();
  }

  private remeasure(): void {
    const m = this.storage.keys.measure();
    this.keyCount = m.count;
    this.usedBytes = datasetSize(m, KEY_OVERHEAD);
  }

  /** The stored entry, expired or not. */
  read(key: string): Entry | null {
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const e = this.storage.keys.get(key);
    this.cache.set(key, e);
    return e;
  }

  /**
   * Opens an overlay for one command or one MULTI, at the stream's `offset` (the master's own
   * effects are applied past it: `Change.apply`); `budget`: its request's reads so far (one
   * request's changes share one).
   */
  begin(now: number, role: Role, offset: number, budget?: { reads: number }): Change {
    return new Change(this, now, role, offset, budget);
  }

  /**
   * Writes a finished overlay to storage, stamping every written key with `mod`, the replication
   * offset of the commit, or (null) with the `mod` each entry carries (a replica applying the
   * stream stamps each key with the end offset of the effect that wrote it). The caller holds a
   * storage transaction and appends `change.effects` to the replication log inside it. Each
   * collection whose elements were written is settled with the storage (its rank index), unless
   * `settle` is false (a full sync's chunks: settled by the recount once consistent).
   */
  commit(change: Change, mod: number | null, settle = true): void {
    const keys = this.storage.keys;
    const elements = this.storage.elements;
    const order = this.storage.indexes.order;
    change.settle();
    let count = change.cleared ? 0 : this.keyCount;
    let used = change.cleared ? 0 : this.usedBytes;
    if (change.cleared) {
      keys.clear();
      elements.clear();
      this.cache.clear();
    }
    for (const eid of change.dropped) {
      elements.drop(eid);
      this.garbage = true;
    }
    for (const [eid, fields] of change.elements) {
      if (change.dropped.has(eid)) continue;
      // A stream is read by ID ranges only: it has no rank index.
      const header = settle ? change.headerOf(eid) : null;
      const indexed = header !== null && header.type !== "stream";
      // Unsettled (a full sync's chunk): no index is kept for it until the recount builds one.
      if (indexed) order.plan(eid, fields.size, header.count ?? 0);
      else if (!settle) order.plan(eid, Number.POSITIVE_INFINITY, 0);
      for (const [field, element] of fields) {
        if (element === null) elements.delete(eid, field);
        else elements.put(eid, field, mod === null ? element : { ...element, mod });
      }
      if (indexed) order.settle(eid, header.count ?? 0, header.type === "zset" || header.type === "list");
    }
    if (change.nextEid !== this.nextEid) {
      this.nextEid = change.nextEid;
      if (this.nextEid > this.reservedEid) {
        this.reservedEid = this.nextEid + EID_BLOCK;
        this.storage.meta.set("next_eid", this.reservedEid);
      }
    }
    for (const [key, { before, was, after }] of change.touched) {
      const sized = change.sized(after);
      const stored = sized && (mod === null ? sized : { ...sized, mod });
      if (stored) keys.put(key, stored);
      else keys.delete(key);
      count += Number(after !== null) - Number(before);
      used += keySize(key, stored) - was;
      this.cache.set(key, stored);
    }
    this.keyCount = count;
    this.usedBytes = used;
  }

  /**
   * Stores a full sync's packed strings as they are (each new to the keyspace: see `loadChunk`),
   * stamped with `mod`, without reading them first.
   */
  loadPacked(strings: { packed: PackedStrings; count: number; bytes: number }, mod: number): void {
    if (strings.count === 0) return;
    this.storage.snapshot.loadPacked(strings.packed, mod);
    this.cache.clear();
    this.keyCount += strings.count;
    this.usedBytes += strings.bytes + strings.count * KEY_OVERHEAD;
  }

  /**
   * A FLUSHALL replayed during a full sync, at `offset`: deletes the keys and the elements last
   * written before it (a collection whose header goes loses every element; see replication/protocol.ts).
   */
  deleteWrittenBefore(offset: number): void {
    const { keys, elements } = this.storage;
    for (const { entry } of eachKey(keys, 256, true)) {
      if (entry.eid === undefined) continue;
      if ((entry.mod ?? 0) < offset) elements.drop(entry.eid);
      else elements.deleteWrittenBefore(entry.eid, offset);
    }
    keys.deleteWrittenBefore(offset);
    this.garbage = true;
    this.recount();
  }

  /** An element of collection `eid` as stored. */
  element(eid: number, field: string): Element | null {
    return this.storage.elements.get(eid, field);
  }

  /** Forgets cached state after a failed storage transaction; storage is the truth. */
  reset(): void {
    this.cache.clear();
    this.load();
  }

  /**
   * Recounts the keys and the dataset's size from storage (after a bulk change such as a full
   * sync), from the collections' stored sizes (see `measureCollection`).
   */
  recount(): void {
    this.cache.clear();
    this.remeasure();
  }

  /** A collection's exact count and size from its element rows (a full sync's recount). */
  measureCollection(eid: number): { count: number; bytes: number } {
    const m = this.storage.elements.measure(eid);
    return { count: m.count, bytes: datasetSize(m, ELEMENT_OVERHEAD) };
  }

  get cacheBytes(): number {
    return this.cache.size;
  }
}
