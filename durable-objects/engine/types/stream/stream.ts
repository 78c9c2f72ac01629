/**
 * The stream type (Redis's t_stream.c): entries by ID, consumer groups with their consumers and
 * pending entries lists, stored as layout.ts says. Every read is an ordered range of the element
 * store from a position, so XRANGE, XREAD and XPENDING read as many rows as they answer (plus the
 * rows they skip where Redis skips them too: an IDLE filter).
 *
 * Replicated as what happened, row by row: XPUT (rows written, any kind), XREM (rows removed) and
 * XMETA (the header's metadata), so a replica never redoes a choice (an ID made from the clock, a
 * delivery time, a trim) and after a failover a group continues where it was.
 */
import { type Bytes, bytesEqual, toBytes } from "../../bytes";
import { EMPTY } from "../../replication/effect";
import { errors } from "../../errors";
import type { Change } from "../../keyspace";
import type { Element, ElementRow, Entry } from "../../storage";
import { xmeta, xput, xrem } from "./effects";
import { MAX_ID, type StreamId, ZERO_ID, compareIds, formatId, idFromKey, isZero } from "./id";
import { ENTRY, type StreamMeta, decodeMeta, decodePairs, encodeMeta, encodePairs, entryKey } from "./layout";

/** An entry as read: its ID and field-value pairs. */
export interface StreamEntry {
  readonly id: StreamId;
  readonly pairs: readonly Bytes[];
}

/** Rows per read of the element store when walking rows of one kind: at most, and at first without a limit. */
const PAGE = 256;
const FIRST_PAGE = 8;

/** An entry as a reply: [id, [field, value, ...]]. */
export const entryReply = (e: StreamEntry): [Bytes, Bytes[]] => [toBytes(formatId(e.id)), [...e.pairs]];
export const idReply = (id: StreamId): Bytes => toBytes(formatId(id));

export class Stream {
  private header: Entry;
  meta: StreamMeta;
  private readonly puts = new Map<string, Bytes>();
  private readonly removed = new Set<string>();
  /** Each row this command wrote or removed, as it was before (see `save`). */
  private readonly originals = new Map<string, Element | null>();
  private metaChanged = false;

  private constructor(
    readonly db: Change,
    readonly key: string,
    header: Entry,
  ) {
    this.header = header;
    this.meta = decodeMeta(header.value);
  }

  /** The stream at `key`, or null (`counted`: a keyspace hit or miss). @throws WRONGTYPE */
  static find(db: Change, key: string, counted = true): Stream | null {
    const e = counted ? db.lookup(key) : db.get(key);
    if (e === null) return null;
    if (e.type !== "stream" || e.eid === undefined) throw errors.wrongType();
    return new Stream(db, key, e);
  }

  /** A new, empty stream at `key` (stored by `save`). */
  static create(db: Change, key: string): Stream {
    const s = new Stream(db, key, { type: "stream", value: EMPTY, expiresAt: null, eid: db.newEid(), count: 0 });
    s.metaChanged = true;
    return s;
  }

  private get eid(): number {
    return this.header.eid!;
  }

  setMeta(changes: Partial<StreamMeta>): void {
    this.meta = { ...this.meta, ...changes };
    this.metaChanged = true;
  }

  // ---- Rows ----------------------------------------------------------------------------------

  /** The row `field`, or null. */
  row(field: string): Bytes | null {
    return this.db.element(this.eid, field)?.value ?? null;
  }

  /** Writes row `field` (the command's later reads see it; made by `save`'s effects). */
  put(field: string, value: Bytes): void {
    const before = this.db.element(this.eid, field);
    if (before !== null && bytesEqual(before.value, value)) return;
    if (!this.originals.has(field)) this.originals.set(field, before);
    this.db.setElement(this.eid, field, { value, score: null }, before);
    this.removed.delete(field);
    this.puts.set(field, value);
  }

  /** Removes row `field` if there is one (as `put`). @returns whether there was */
  remove(field: string): boolean {
    const before = this.db.element(this.eid, field);
    if (before === null) return false;
    if (!this.originals.has(field)) this.originals.set(field, before);
    this.db.setElement(this.eid, field, null, before);
    this.puts.delete(field);
    this.removed.add(field);
    return true;
  }

  /**
   * Rows whose field starts with `prefix`, from `from` on (with it; a field under the prefix), or
   * from `from` down when `reverse`, at most `limit` (all when negative), read a page at a time.
   */
  *rows(prefix: string, from: string, reverse = false, limit = -1): Generator<ElementRow> {
    let key = from;
    let left = limit;
    // Without a limit, pages grow from a few rows: a walk that stops early (the prefix's end, a
    // caller's break) reads little past what it used.
    for (let size = FIRST_PAGE; ; size = Math.min(PAGE, size * 4)) {
      const n = left < 0 ? size : Math.min(PAGE, left);
      const page = this.db.scanFrom(this.eid, { score: 0, field: key }, reverse, n, false);
      for (const row of page) {
        if (!row.field.startsWith(prefix)) return;
        yield row;
        if (left > 0 && --left === 0) return;
      }
      if (page.length < n) return;
      const last = page[page.length - 1]!.field;
      // The next page starts past the last row read: its field with a byte after it, or before it
      // (backward reads walk entries only, whose fields are 17 bytes: `before` covers them).
      key = reverse ? before(last) : last + "\0";
    }
  }

  /**
   * Writes what this command changed by applying its effects, XPUT, XREM and XMETA (Change.apply),
   * as every replica applies them: the rows the command wrote as it went are put back as they
   * were first. Called once at the end of every command that writes the stream.
   */
  save(): void {
    if (this.puts.size === 0 && this.removed.size === 0 && !this.metaChanged) return;
    this.db.asCopies(() => {
      for (const [field, before] of this.originals) this.db.setElement(this.eid, field, before, this.db.element(this.eid, field));
    });
    // A new stream's header first, so that the effects write under its id.
    if (this.db.peek(this.key) === null) this.db.putHeader(this.key, this.header);
    if (this.puts.size > 0) this.db.apply(xput, this.key, [...this.puts]);
    if (this.removed.size > 0) this.db.apply(xrem, this.key, [...this.removed]);
    if (this.metaChanged) this.db.apply(xmeta, this.key, encodeMeta(this.meta));
    this.header = this.db.peek(this.key)!;
    this.puts.clear();
    this.removed.clear();
    this.originals.clear();
    this.metaChanged = false;
  }

  // ---- Entries -------------------------------------------------------------------------------

  /** The entry `id`'s pairs, or null. */
  entry(id: StreamId): Bytes[] | null {
    const value = this.row(entryKey(id));
    return value === null ? null : decodePairs(value);
  }

  /** Entries from `start` to `end` (both included), in ID order or reversed, at most `count` (all when negative). */
  range(start: StreamId, end: StreamId, reverse: boolean, count: number): StreamEntry[] {
    const out: StreamEntry[] = [];
    if (compareIds(start, end) > 0) return out;
    for (const row of this.rows(ENTRY, entryKey(reverse ? end : start), reverse, count)) {
      const id = idFromKey(row.field, 1);
      if (reverse ? compareIds(id, start) < 0 : compareIds(id, end) > 0) break;
      out.push({ id, pairs: decodePairs(row.value) });
    }
    return out;
  }

  /** The first or last entry, or null when empty. */
  edge(last: boolean): StreamEntry | null {
    return this.range(ZERO_ID, MAX_ID, last, 1)[0] ?? null;
  }

  /** Appends an entry (the caller checked that `id` is past the last one). */
  append(id: StreamId, pairs: readonly string[]): void {
    this.put(entryKey(id), encodePairs(pairs));
    const m = this.meta;
    this.setMeta({ length: m.length + 1, lastId: id, entriesAdded: m.entriesAdded + 1n, firstId: m.length === 0 ? id : m.firstId });
  }

  /** Deletes entries (XDEL): the groups' PELs keep them, as Redis's do. @returns how many there were */
  deleteEntries(ids: readonly StreamId[]): number {
    let deleted = 0;
    let first = false;
    let maxDeleted = this.meta.maxDeletedId;
    for (const id of ids) {
      if (!this.remove(entryKey(id))) continue;
      deleted++;
      if (compareIds(id, this.meta.firstId) === 0) first = true;
      if (compareIds(id, maxDeleted) > 0) maxDeleted = id;
    }
    if (deleted === 0) return 0;
    const length = this.meta.length - deleted;
    this.setMeta({ length, maxDeletedId: maxDeleted });
    if (length === 0) this.setMeta({ firstId: ZERO_ID });
    else if (first) this.setMeta({ firstId: this.edge(false)!.id });
    return deleted;
  }

  /**
   * Trims from the first entry: while more than `maxlen` remain, or those before `minId`; at most
   * `limit` entries (0: no limit). `acked` (Redis 8.2's ACKED) keeps the entries a group still
   * needs: none past `until` goes (the walk stops there), and `pending` ones are skipped; `dropping`
   * (DELREF) is told of each entry before it goes.
   * @returns how many went
   */
  trim(
    strategy: { maxlen: number } | { minId: StreamId },
    limit: number,
    acked?: { readonly until: StreamId; pending(id: StreamId): boolean },
    dropping?: (id: StreamId) => void,
  ): number {
    const over = "maxlen" in strategy ? this.meta.length - strategy.maxlen : Infinity;
    if (over <= 0) return 0;
    const take = limit > 0 ? Math.min(over, limit) : over;
    const gone: StreamId[] = [];
    for (const row of this.rows(ENTRY, ENTRY, false, acked || !Number.isFinite(take) ? -1 : take)) {
      const id = idFromKey(row.field, 1);
      if ("minId" in strategy && compareIds(id, strategy.minId) >= 0) break;
      if (gone.length >= take || (acked && compareIds(id, acked.until) > 0)) break;
      if (acked?.pending(id)) continue;
      gone.push(id);
    }
    let deleted = 0;
    for (const id of gone) {
      dropping?.(id);
      if (this.remove(entryKey(id))) deleted++;
    }
    if (deleted === 0) return 0;
    const length = this.meta.length - deleted;
    this.setMeta({ length, firstId: length === 0 ? ZERO_ID : this.edge(false)!.id });
    return deleted;
  }

  /** The last entry's ID (Redis's streamLastValidID), 0-0 when empty. */
  lastValidId(): StreamId {
    return this.edge(true)?.id ?? ZERO_ID;
  }

  /** True when the stream has tombstones (XDEL'd entries) from `start` on (streamRangeHasTombstones). */
  hasTombstones(start: StreamId | null): boolean {
    const m = this.meta;
    if (m.length === 0 || isZero(m.maxDeletedId)) return false;
    return compareIds(start ?? ZERO_ID, m.maxDeletedId) <= 0;
  }

  /** Redis's streamEstimateDistanceFromFirstEverEntry: the logical read counter of `id`, or null. */
  distanceFromFirst(id: StreamId): bigint | null {
    const m = this.meta;
    if (m.entriesAdded === 0n) return 0n;
    if (m.length === 0 && compareIds(id, m.lastId) < 1) return m.entriesAdded;
    if (!isZero(id) && compareIds(id, m.maxDeletedId) < 0) return null;
    const cmpLast = compareIds(id, m.lastId);
    if (cmpLast === 0) return m.entriesAdded;
    if (cmpLast > 0) return null;
    const cmpFirst = compareIds(id, m.firstId);
    if (isZero(m.maxDeletedId) || compareIds(m.maxDeletedId, m.firstId) < 0) {
      if (cmpFirst < 0) return m.entriesAdded - BigInt(m.length);
      if (cmpFirst === 0) return m.entriesAdded - BigInt(m.length) + 1n;
    }
    return null;
  }
}

/** The greatest binary string below `s` that a field may be (for a backward page): `s` less its last byte, or that byte decremented and padded. */
function before(s: string): string {
  if (s.length === 0) return "";
  const last = s.charCodeAt(s.length - 1);
  if (last === 0) return s.slice(0, -1);
  return s.slice(0, -1) + String.fromCharCode(last - 1) + "\xff".repeat(64);
}
