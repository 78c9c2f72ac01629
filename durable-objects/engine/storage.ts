/**
 * The storage seam of the engine. A node uses the SQLite-backed implementation
 * (`durable-objects/sqlite/`); engine tests use `MemoryStorage` (memory-storage.ts). Both are
 * synchronous, which keeps every command (and every MULTI) atomic within one event.
 */
import { type Bytes, fromBytes, toBytes } from "./bytes";
import type { KeyPosition } from "./slot";

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

/** A hash field and its deadline. */
export interface FieldDeadline {
  readonly field: string;
  readonly expiresAt: number;
}

/** True when `e` is a hash field whose deadline is at or before `now`: gone for every read. */
export const elementExpired = (e: Element, now: number): boolean => e.expiresAt != null && e.expiresAt <= now;

export interface ElementRow extends Element {
  /** The hash field, set or sorted-set member (a list: its position's sortable name). */
  readonly field: string;
}

/** One end of a sorted set's score range; `ex` leaves the bound itself out (Redis's `(1.5`). */
export interface ScoreBound {
  readonly value: number;
  readonly ex: boolean;
}

/** One end of a sorted set's lexicographic range: a member (`ex` for `(a`, else `[a`), or `-` / `+`. */
export type LexBound = { readonly value: string; readonly ex: boolean } | "-" | "+";

/** The elements of a sorted set a query covers: all of them, a score range or a member range. */
export type ZsetRange =
  | { readonly by: "all" }
  | { readonly by: "score"; readonly min: ScoreBound; readonly max: ScoreBound }
  | { readonly by: "lex"; readonly min: LexBound; readonly max: LexBound };

/**
 * The elements of every collection, by element id and field, in field (byte) order. A sorted set's
 * elements (member = field, `score`) are also ordered by (score, member), Redis's zset order: the
 * `zset*` queries answer by score and by rank in that order without reading the whole set.
 */
export interface ElementStore {
  get(eid: number, field: string): Element | null;
  put(eid: number, field: string, element: Element): void;
  delete(eid: number, field: string): void;
  /** Elements of `eid` after `field` (null: from the first), in field order, at most `limit`. */
  page(eid: number, after: string | null, limit: number): ElementRow[];
  /** Lists (read from the tail): elements of `eid` before `field` (null: from the last), in descending field order, at most `limit`. */
  listPageBackward(eid: number, before: string | null, limit: number): ElementRow[];
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
  /**
   * Sorted sets: the elements of `eid` within `range` in (score, field) order (reversed when
   * `reverse`), the first `offset` skipped, at most `limit` (negative: all). Its cost grows with
   * `offset + limit`, not with the set.
   */
  zsetRange(eid: number, range: ZsetRange, reverse: boolean, offset: number, limit: number): ElementRow[];
  /** Sorted sets: how many elements of `eid` lie within `range`. */
  zsetCount(eid: number, range: ZsetRange): number;
  /**
   * Order statistics, in the collection's order: by (score, field) when `byScore` (sorted sets,
   * lists), else by field. Each reads about as many rows as the logarithm of the collection's size
   * (the SQLite storage keeps a rank index for a large collection; see `settle`).
   * `rank`: how many elements of `eid` come before `key`.
   */
  rank(eid: number, key: OrderKey, byScore: boolean): number;
  /** The elements at `ranks` (ascending, repeats allowed), one per rank, in that order. */
  select(eid: number, ranks: readonly number[], byScore: boolean): ElementRow[];
  /** Up to `limit` elements from `key` on (with it), in order, or from `key` down when `reverse`. */
  scan(eid: number, key: OrderKey, reverse: boolean, limit: number, byScore: boolean): ElementRow[];
  /**
   * The elements whose value is `value`, in order (from the last when `reverse`), the first `skip`
   * left out, at most `limit` (negative: all), none at or past `bound` (null: none). The storage
   * compares them itself (LPOS): none of the others is read out.
   */
  match(eid: number, value: Bytes, reverse: boolean, skip: number, limit: number, bound: OrderKey | null, byScore: boolean): ElementRow[];
  /** Before a change writes `writes` elements of `eid` (which has about `count`). */
  plan(eid: number, writes: number, count: number): void;
  /** After a change wrote elements of `eid`, which now has `count`: the storage keeps its indexes for it. */
  settle(eid: number, count: number, byScore: boolean): void;
  /**
   * Set algebra done by the storage itself (SQLite: one statement, see sqlite/algebra.ts), or null
   * where it does not (the engine computes it: types/algebra.ts, whose semantics this follows).
   */
  combine(spec: Combine): Combined | null;
  /**
   * Hash fields of `eid` with a deadline after `after` (null: any) and at or before `until` (null:
   * any), earliest first, at most `limit`: as many rows read as returned.
   */
  fieldDeadlines(eid: number, after: number | null, until: number | null, limit: number): FieldDeadline[];
  /** Copies every element of `from` as collection `into`, each stamped `mod` (COPY); false where the storage does not. */
  copyElements(from: number, into: number, mod: number): boolean;
}

/** A union, intersection or difference of stored collections (see types/algebra.ts). */
export interface Combine {
  readonly op: "union" | "inter" | "diff";
  /** Each input: its collection (null: a missing key, the empty set), weight, whether it has scores (a sorted set), size. */
  readonly inputs: readonly { readonly eid: number | null; readonly weight: number; readonly scored: boolean; readonly size: number }[];
  readonly aggregate: "sum" | "min" | "max";
  /** A set's members (no scores) or a sorted set's (with them). */
  readonly result: "set" | "zset";
  /** Written as collection `eid`, each element stamped `mod`; else read back (or counted). */
  readonly into?: { readonly eid: number; readonly mod: number };
  /** At most this many (0 or absent: all). */
  readonly limit?: number;
  readonly countOnly?: boolean;
}

/** A combination's size, its elements' bytes (written), and its rows (read; sorted sets in (score, member) order, sets by member). */
export interface Combined {
  readonly count: number;
  readonly bytes: number;
  readonly rows: ElementRow[] | null;
}

/** A position in a collection's order: (score, field); the score is 0 where the order is by field. */
export interface OrderKey {
  readonly score: number;
  readonly field: string;
}

/** The order key of an element in a collection ordered by score (sorted sets, lists) or by field. */
export const orderKey = (field: string, score: number | null, byScore: boolean): OrderKey => ({ score: byScore ? (score ?? 0) : 0, field });

/** Compares order keys: by score, then by field's bytes. */
export function compareKeys(a: OrderKey, b: OrderKey): number {
  return a.score < b.score ? -1 : a.score > b.score ? 1 : compareFields(a.field, b.field);
}

/** True when (score, field) lies within `range`. */
export function inZsetRange(range: ZsetRange, score: number, field: string): boolean {
  if (range.by === "all") return true;
  if (range.by === "score") {
    const { min, max } = range;
    return (min.ex ? score > min.value : score >= min.value) && (max.ex ? score < max.value : score <= max.value);
  }
  const { min, max } = range;
  const aboveMin = min === "-" ? true : min === "+" ? false : min.ex ? compareFields(field, min.value) > 0 : compareFields(field, min.value) >= 0;
  const belowMax = max === "+" ? true : max === "-" ? false : max.ex ? compareFields(field, max.value) < 0 : compareFields(field, max.value) <= 0;
  return aboveMin && belowMax;
}

/** Redis's zset order: by score, then by member bytes. */
export function compareZset(a: { score: number | null; field: string }, b: { score: number | null; field: string }): number {
  const x = a.score ?? 0;
  const y = b.score ?? 0;
  return x < y ? -1 : x > y ? 1 : compareFields(a.field, b.field);
}

/**
 * String keys as a full sync ships them: the UTF-8 bytes of a JSON array of `[slot, key, value,
 * expiresAt, encoding]`, the key's bytes and the value in hex (any bytes, NUL included),
 * expiresAt null for none, encoding as ENCODING_CODES (Entry.encoding; 0 or absent: none). Both ends are SQLite's own JSON and hex functions, so a million keys cross
 * without a million objects; bytes rather than a string, so no chunk is a string on the heap.
 */
export type PackedStrings = Bytes;

/** Packs string keys (MemoryStorage; SQLite packs in SQL). */
export function packStrings(rows: readonly KeyRow[]): PackedStrings {
  return toBytes(JSON.stringify(rows.map((r) => [r.slot, toHex(toBytes(r.key)), toHex(r.entry.value), r.entry.expiresAt, r.entry.encoding ? ENCODING_CODES[r.entry.encoding] : 0])));
}

/** Unpacks string keys, each stamped with `mod`. */
export function unpackStrings(packed: PackedStrings, mod: number): { key: string; entry: Entry }[] {
  return (JSON.parse(fromBytes(packed)) as [number, string, string, number | null, number?][]).map(([, key, value, expiresAt, code]) => {
    const encoding = encodingNamed(code);
    const entry: Entry = { type: "string", value: fromHex(value), expiresAt, mod };
    return { key: fromBytes(fromHex(key)), entry: encoding ? { ...entry, encoding } : entry };
  });
}

/** Bytes in hex (upper case, as SQLite's hex() writes them; its unhex() reads them back). */
export const toHex = (b: Bytes): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();
const fromHex = (h: string): Bytes => Uint8Array.from({ length: h.length / 2 }, (_, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16));

/** A stored key with its position (slot.ts). */
export interface KeyRow extends KeyPosition {
  readonly entry: Entry;
}


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
   * A full sync's next run of keys after position (slot, afterKey) (key null: from the first):
   * the position of its last key, the run holding about `maxBytes` of names and values and at
   * most `maxKeys` keys; null when no key follows.
   */
  runEnd(slot: number, afterKey: string | null, maxBytes: number, maxKeys: number): KeyPosition | null;
  /** The collections (their headers) after (slot, afterKey) up to and with position `end`, in order. */
  collectionsUntil(slot: number, afterKey: string | null, end: KeyPosition): KeyRow[];
  /**
   * The strings after (slot, afterKey) up to and with `end` that are live at `now`, packed as a
   * full sync ships them (`PackedStrings`), with how many there are and their names' and
   * values' bytes. The storage packs them itself: no row becomes an object on the way.
   */
  packStrings(slot: number, afterKey: string | null, end: KeyPosition, now: number): { packed: PackedStrings; count: number; bytes: number };
  /** Stores packed strings (new keys, or replacing those of the same names), each stamped with `mod`. */
  loadPacked(packed: PackedStrings, mod: number): void;
  /** Keys whose deadline is at or before `now`, earliest first. */
  due(now: number, limit: number): string[];
  /** Hashes whose `fieldsExpireAt` is at or before `now`, earliest first. */
  dueFieldKeys(now: number, limit: number): string[];
  /** The earliest key deadline or hash `fieldsExpireAt`, or null. */
  nextDeadline(): number | null;
  /** The first key at or after slot `r * SLOTS` (`r` in [0, 1)), wrapping around; null when empty. */
  random(r: number): string | null;
  /**
   * A key with a deadline, picked at a random point `r` in [0, 1) of the span of deadlines, ends
   * included (the first at or after it), or null when no key has one. Volatile eviction samples
   * with it.
   */
  randomWithDeadline(r: number): string | null;
  countWithDeadline(): number;
  /** An exact count; the engine keeps its own running count and uses this only to seed it. */
  count(): number;
  /**
   * The number of keys and the sum of their UTF-8 bytes and their values' bytes (a collection's
   * `bytes`): the dataset's size without its overheads. Used only to seed or recount it.
   */
  measure(): { count: number; bytes: number };
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

export interface Storage {
  readonly keys: KeyStore;
  readonly elements: ElementStore;
  readonly log: LogStore;
  readonly meta: MetaStore;
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
