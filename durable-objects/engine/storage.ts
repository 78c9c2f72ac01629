/**
 * The storage seam of the engine. A node uses the SQLite-backed implementation
 * (`durable-objects/sqlite/`); engine tests use `MemoryStorage` (memory-storage.ts). Both are
 * synchronous, which keeps every command (and every MULTI) atomic within one event.
 */
import type { Bytes } from "./bytes";
import type { SavedStore } from "./export/saved";
import type { DeadlineIndex } from "./keyspace/deadline-index";
import type { SnapshotStore } from "./replication/snapshot-format";
import type { KeyPosition } from "./slot";
import type { TypeIndexes } from "./types";
import type { AlgebraStore } from "./types/algebra";
import type { FieldDeadlineIndex } from "./types/hash/field-index";
import type { OrderIndex } from "./types/order";
import type { ZsetIndex } from "./types/zset/range";

/** Redis's value types; codes are the RDB type codes so a snapshot can carry them as they are. */
export const TYPE_CODES = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 15 } as const;
export type ValueType = keyof typeof TYPE_CODES;

/**
 * One key's record. `value` holds the whole value for strings; a collection keeps only a header
 * here (its element id and count) and its elements in rows of their own (`ElementStore`), so no
 * value outgrows SQLite's 2 MB row limit and changing one element never rewrites the others.
 */
export interface Entry {
  readonly type: ValueType;
  /** A string's value; empty for a collection. */
  readonly value: Bytes;
  /** Absolute deadline in ms since the epoch, or null for a key without TTL. */
  readonly expiresAt: number | null;
  /** Replication offset at which the key was last written (set by the commit; see replication/protocol.ts). */
  readonly mod?: number;
  /**
   * A collection's element id: its elements are stored under it. Allocated when the collection
   * is created, never reused, and kept by RENAME (which moves the header, not the elements).
   */
  readonly eid?: number;
  /** A collection's number of elements. */
  readonly count?: number;
  /** A collection's elements' estimated size in bytes (sizes.ts), kept by the keyspace's commit. */
  readonly bytes?: number;
  /**
   * A string's encoding where its value alone does not tell it (OBJECT ENCODING): `raw` for one
   * changed in place (APPEND to one that was there, SETRANGE), raw whatever its length or content;
   * `text` for one Redis never stores as an integer (INCRBYFLOAT's result): embstr up to 44 bytes.
   */
  readonly encoding?: StringEncoding;
  /**
   * A hash made ready for field deadlines (HEXPIRE and its kin: Redis's listpackex, which it stays):
   * no field's deadline is before this one (a lower bound, made exact by the sweep when it reaches
   * it), NO_FIELD_DEADLINE when none has one; absent for a hash never given one.
   */
  readonly fieldsExpireAt?: number;
}

export type StringEncoding = "raw" | "text";
/** The `encoding` column and a packed string's 5th element: 0 for none, else these. */
export const ENCODING_CODES = { raw: 1, text: 2 } as const;
/** The encoding a stored code stands for (0, or absent from an older master: none). */
export const encodingNamed = (code: unknown): StringEncoding | undefined => (code === 1 ? "raw" : code === 2 ? "text" : undefined);

/** One element of a collection: a hash field's value, a set member (empty value), ... */
export interface Element {
  readonly value: Bytes;
  /** A sorted set member's score, a list element's position; null for hashes and sets. */
  readonly score: number | null;
  /** Replication offset at which the element was last written (see replication/protocol.ts). */
  readonly mod?: number;
  /** A hash field's deadline in ms since the epoch (HEXPIRE); absent or null for none. */
  readonly expiresAt?: number | null;
}

/** Entry.fieldsExpireAt of a hash ready for field deadlines that has none (past every deadline a field may have). */
export const NO_FIELD_DEADLINE = Number.MAX_SAFE_INTEGER;

/** The deadlines the expiry must come back for: a key's own, and a hash's fields' bound. */
export const deadlinesOf = (e: Entry): number[] =>
  e.fieldsExpireAt === undefined || e.fieldsExpireAt === NO_FIELD_DEADLINE
    ? e.expiresAt === null ? [] : [e.expiresAt]
    : e.expiresAt === null ? [e.fieldsExpireAt] : [e.expiresAt, e.fieldsExpireAt];

/** True when `e` is a hash field whose deadline is at or before `now`: gone for every read. */
export const elementExpired = (e: Element, now: number): boolean => e.expiresAt != null && e.expiresAt <= now;

export interface ElementRow extends Element {
  /** The hash field, set or sorted-set member (a list: its position's sortable name). */
  readonly field: string;
}

/** A stored key with its position (slot.ts). */
export interface KeyRow extends KeyPosition {
  readonly entry: Entry;
}


/**
 * The keys: one record each, in (slot, key) order. What only the expiry asks (keys by deadline:
 * keyspace/deadline-index.ts) and what only a full sync asks (runs of keys, packed strings:
 * replication/snapshot-format.ts) are seams of their own.
 */
export interface KeyStore {
  get(key: string): Entry | null;
  /** Inserts or replaces (a key's position is its slot and name: slot.ts). */
  put(key: string, entry: Entry): void;
  delete(key: string): void;
  clear(): void;
  /** Deletes the keys last written before `offset` (FLUSHALL replayed during a full sync). */
  deleteWrittenBefore(offset: number): void;
  /**
   * Keys in (slot, key) order from slot `slot` on (of that slot, only those after `afterKey` when
   * given), at most `limit`. `scan(0, null, n)` starts at the first key. `collections`: only
   * the keys that hold a collection (the others are skipped by the storage, not read).
   */
  scan(slot: number, afterKey: string | null, limit: number, collections?: boolean): KeyRow[];
  /**
   * A key drawn with `r` and `within` (each in [0, 1)): the first key at or after the point `r` of
   * the way from the first key's slot to the last's names a hash slot; the answer is the first key
   * of that hash slot at or after the point `within` of its span (wrapping to its first). Null when
   * empty. (Two draws: a hash tag's keys share one hash slot, a narrow span a single draw would
   * almost always meet at its first key.)
   */
  random(r: number, within: number): string | null;
  /** An exact count; the engine keeps its own running count and uses this only to seed it. */
  count(): number;
  /**
   * The number of keys and the sum of their UTF-8 bytes and their values' bytes (a collection's
   * `bytes`): the dataset's size without its overheads. Used only to seed or recount it.
   */
  measure(): { count: number; bytes: number };
}

/**
 * The elements of every collection, by element id and field, in field (byte) order. The queries
 * of one type or another (a list's or sorted set's order, a sorted set's ranges, set algebra, a
 * hash's field deadlines) are each type's seam (types/index.ts `TypeIndexes`).
 */
export interface ElementStore {
  get(eid: number, field: string): Element | null;
  put(eid: number, field: string, element: Element): void;
  delete(eid: number, field: string): void;
  /** Elements of `eid` after `field` (null: from the first), in field order, at most `limit`. */
  page(eid: number, after: string | null, limit: number): ElementRow[];
  count(eid: number): number;
  /** The number of elements of `eid` and the sum of their fields' UTF-8 bytes and values' bytes. */
  measure(eid: number): { count: number; bytes: number };
  /**
   * Drops every element of `eid`. The storage may defer the work (see `purge`): nothing refers
   * to a dropped id any more, so its elements are invisible at once.
   */
  drop(eid: number): void;
  /** Deletes up to `limit` elements of dropped collections; answers how many it deleted. */
  purge(limit: number): number;
  /** Dropped collections still have elements to purge (after a restart, the purge goes on). */
  purgePending(): boolean;
  /** Deletes the elements of `eid` last written before `offset` (a DEL replayed during a full sync). */
  deleteWrittenBefore(eid: number, offset: number): void;
  clear(): void;
  /** Copies every element of `from` as collection `into`, each stamped `mod` (COPY); false where the storage does not. */
  copyElements(from: number, into: number, mod: number): boolean;
}

/**
 * Every stored key in (slot, key) order, read a page at a time (a key written meanwhile may be
 * missed or seen, as SCAN's; the callers hold the storage or need no more).
 */
export function* eachKey(keys: KeyStore, page = 256, collections = false): Generator<KeyRow> {
  for (let slot = 0, after: string | null = null; ; ) {
    const rows = keys.scan(slot, after, page, collections);
    for (const row of rows) yield row;
    if (rows.length < page) return;
    ({ slot, key: after } = rows[rows.length - 1]!);
  }
}

/**
 * The replication backlog: the effect stream, stored as runs of whole RESP frames, one row per
 * commit (or per push a replica applies), keyed by the offset the run starts at. A run is cut
 * where it would pass LOG_ROW_BYTES, so no row nears the storage's row limit.
 */
export interface LogStore {
  /** Stores a run of frames that starts just after `offset`. */
  append(offset: number, frames: Bytes): void;
  /** The first run's start, and the last run's start and length, or null when the log is empty. */
  bounds(): { first: number; lastOffset: number; lastLength: number } | null;
  /** Drops every run that ends at or before `offset` (the run holding it stays). */
  trimBefore(offset: number): void;
  clear(): void;
  /** Runs from the one holding `offset` on, in order, until about `maxBytes` are read. */
  read(offset: number, maxBytes: number): { offset: number; frame: Bytes }[];
}

/** Bytes at which a run of the backlog is cut into another row (a single larger frame is a row of its own). */
export const LOG_ROW_BYTES = 1024 * 1024;

export interface MetaStore {
  get(name: string): string | number | null;
  set(name: string, value: string | number): void;
  /** Removes a row (a deleted function library's). */
  delete(name: string): void;
}

/**
 * What an implementation's stores answer, seams and their extensions together (SQLite's and
 * MemoryStorage each keep one object per table); the engine sees each through its seam.
 */
export type KeyTable = KeyStore & DeadlineIndex & SnapshotStore;
export type ElementTable = ElementStore & OrderIndex & ZsetIndex & AlgebraStore & FieldDeadlineIndex;

/** Each type's queries, answered by an implementation's element table. */
export const indexesOf = (table: ElementTable): TypeIndexes => ({ order: table, zset: table, algebra: table, hashFields: table });

export interface Storage {
  readonly keys: KeyStore;
  /** The keys by deadline (the expiry's sweep, volatile eviction, INFO's `expires`). */
  readonly deadlines: DeadlineIndex;
  /** A full sync's reads and writes of runs of keys. */
  readonly snapshot: SnapshotStore;
  readonly elements: ElementStore;
  /** Each type's own queries over the elements. */
  readonly indexes: TypeIndexes;
  readonly log: LogStore;
  readonly meta: MetaStore;
  /** What an export in progress keeps of the keyspace as it began (export/saved.ts). */
  readonly saved: SavedStore;
  /** Runs `fn` so that all of its writes land, or none. */
  transaction<T>(fn: () => T): T;
  /**
   * The log offset from which the stored keyspace lacks writes that a storage keeps in memory
   * after their transaction committed (their effects are in the log, which the storage keeps from
   * there on), or null when the stored keyspace is complete. After a restart the engine replays
   * the log from there (`replayDeferred` in replication/sync.ts) before it serves anything.
   */
  readonly replayFrom: number | null;
  /** Stores the keys kept in memory now (in the open transaction, if any): `replayFrom` is then null. */
  storeDeferred(): void;
}

/** Fields compare as their bytes (memcmp, as Redis and SQLite's BLOBs compare): binary strings compare so as they are. */
export const compareFields = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
