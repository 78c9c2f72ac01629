/** In-memory storage for engine tests: the `Storage` seam (storage.ts) on Maps, no SQLite. */
import { type Bytes, bytesEqual } from "./bytes";
import { type KeyPosition, hashSlotSpan, randomPoint, slotOf } from "./slot";
import { type Element, type ElementRow, type ElementTable, type Entry, type KeyRow, type KeyTable, type LogStore, type MetaStore, type Storage, compareFields, deadlinesOf, indexesOf } from "./storage";
import { type ZsetRange, compareZset, inZsetRange } from "./types/zset/range";
import { compareKeys, orderKey } from "./types/order";
import { type SnapshotStore, packStrings, unpackStrings } from "./replication/snapshot-format";
import type { DeadlineIndex } from "./keyspace/deadline-index";
import type { SavedStore } from "./export/saved";
import type { TypeIndexes } from "./types";

/** In-memory `Storage` for engine tests. Transactions roll back on throw, as SQLite's do. */
export class MemoryStorage implements Storage {
  /** Every write is stored at once. */
  readonly replayFrom = null;
  storeDeferred(): void {}
  private rows = new Map<string, { slot: number; entry: Entry }>();
  private collections = new Map<number, Map<string, Element>>();
  private frames = new Map<number, Bytes>();
  private metaRows = new Map<string, string | number>();
  private savedRows = new Map<string, { slot: number; key: string; payload: Bytes | null; expiresAt: number | null }>();

  readonly keys: KeyTable = {
    get: (key) => this.rows.get(key)?.entry ?? null,
    put: (key, entry) => void this.rows.set(key, { slot: slotOf(key), entry }),
    runEnd: (slot, afterKey, maxBytes, maxKeys) => {
      let size = 0;
      let end: KeyPosition | null = null;
      for (const r of this.keys.scan(slot, afterKey, maxKeys)) {
        if (end !== null && size >= maxBytes) break;
        end = r;
        size += r.key.length + r.entry.value.length + 16;
      }
      return end && { slot: end.slot, key: end.key };
    },
    collectionsUntil: (slot, afterKey, end) => this.until(slot, afterKey, end).filter((r) => r.entry.eid !== undefined),
    packStrings: (slot, afterKey, end, now) => {
      const rows = this.until(slot, afterKey, end).filter((r) => r.entry.eid === undefined && (r.entry.expiresAt === null || r.entry.expiresAt > now));
      let bytes = 0;
      for (const r of rows) bytes += r.key.length + r.entry.value.length;
      return { packed: packStrings(rows), count: rows.length, bytes };
    },
    loadPacked: (packed, mod) => {
      for (const { key, entry } of unpackStrings(packed, mod)) this.rows.set(key, { slot: slotOf(key), entry });
    },
    delete: (key) => void this.rows.delete(key),
    clear: () => this.rows.clear(),
    deleteWrittenBefore: (offset) => {
      for (const [key, r] of this.rows) if ((r.entry.mod ?? 0) < offset) this.rows.delete(key);
    },
    scan: (slot, afterKey, limit, collections = false) =>
      this.ordered()
        .filter((r) => !collections || r.entry.eid !== undefined)
        .filter((r) => r.slot > slot || (r.slot === slot && (afterKey === null || compareFields(r.key, afterKey) > 0)))
        .slice(0, limit),
    due: (now, limit) => this.dueBy((e) => e.expiresAt, now, limit),
    dueFieldKeys: (now, limit) => this.dueBy((e) => e.fieldsExpireAt ?? null, now, limit),
    nextDeadline: () => {
      let min: number | null = null;
      for (const r of this.rows.values()) for (const at of deadlinesOf(r.entry)) if (min === null || at < min) min = at;
      return min;
    },
    random: (r, within) => {
      const rows = this.ordered();
      if (rows.length === 0) return null;
      const at = randomPoint(rows[0]!.slot, rows[rows.length - 1]!.slot, r);
      const [from, to] = hashSlotSpan(rows.find((row) => row.slot >= at)!.slot);
      const point = randomPoint(from, to - 1, within);
      return (rows.find((row) => row.slot >= point && row.slot < to) ?? rows.find((row) => row.slot >= from)!).key;
    },
    randomWithDeadline: (r) => {
      const rows = [...this.rows].filter(([, row]) => row.entry.expiresAt !== null);
      if (rows.length === 0) return null;
      const ats = rows.map(([, row]) => row.entry.expiresAt!);
      const min = Math.min(...ats);
      const point = min + Math.floor((Math.max(...ats) - min + 1) * r);
      let best: [string, number] | null = null;
      for (const [key, row] of rows) {
        const at = row.entry.expiresAt!;
        if (at >= point && (best === null || at < best[1] || (at === best[1] && key < best[0]))) best = [key, at];
      }
      return best![0];
    },
    countWithDeadline: () => [...this.rows.values()].filter((r) => r.entry.expiresAt !== null).length,
    count: () => this.rows.size,
    measure: () => {
      let bytes = 0;
      for (const [key, { entry }] of this.rows) bytes += key.length + (entry.eid === undefined ? entry.value.length : (entry.bytes ?? 0));
      return { count: this.rows.size, bytes };
    },
  };

  /** Keys whose deadline of the kind `at` reads is at or before `now`, earliest first, at most `limit`. */
  private dueBy(at: (e: Entry) => number | null, now: number, limit: number): string[] {
    return [...this.rows]
      .flatMap(([key, r]) => {
        const t = at(r.entry);
        return t !== null && t <= now ? [[key, t] as const] : [];
      })
      .sort((a, b) => a[1] - b[1])
      .slice(0, limit)
      .map(([key]) => key);
  }

  readonly elements: ElementTable = {
    get: (eid, field) => this.collections.get(eid)?.get(field) ?? null,
    put: (eid, field, element) => {
      let c = this.collections.get(eid);
      if (!c) this.collections.set(eid, (c = new Map()));
      c.set(field, element);
    },
    delete: (eid, field) => {
      const c = this.collections.get(eid);
      c?.delete(field);
      if (c?.size === 0) this.collections.delete(eid);
    },
    page: (eid, after, limit) =>
      this.sortedFields(eid)
        .filter((f) => after === null || compareFields(f, after) > 0)
        .slice(0, limit)
        .map((field) => ({ field, ...this.collections.get(eid)!.get(field)! })),
    listPageBackward: (eid, before, limit) =>
      this.sortedFields(eid)
        .reverse()
        .filter((f) => before === null || compareFields(f, before) < 0)
        .slice(0, limit)
        .map((field) => ({ field, ...this.collections.get(eid)!.get(field)! })),
    count: (eid) => this.collections.get(eid)?.size ?? 0,
    measure: (eid) => {
      let bytes = 0;
      for (const [field, e] of this.collections.get(eid) ?? []) bytes += field.length + e.value.length;
      return { count: this.collections.get(eid)?.size ?? 0, bytes };
    },
    drop: (eid) => void this.collections.delete(eid),
    purge: () => 0,
    purgePending: () => false,
    deleteWrittenBefore: (eid, offset) => {
      const c = this.collections.get(eid);
      if (c) for (const [f, e] of c) if ((e.mod ?? 0) < offset) c.delete(f);
    },
    clear: () => this.collections.clear(),
    zsetRange: (eid, range, reverse, offset, limit) => {
      const rows = this.zsetRows(eid, range);
      if (reverse) rows.reverse();
      return rows.slice(offset, limit < 0 ? undefined : offset + limit);
    },
    zsetCount: (eid, range) => this.zsetRows(eid, range).length,
    rank: (eid, key, byScore) => this.inOrder(eid, byScore).filter((r) => compareKeys(orderKey(r.field, r.score, byScore), key) < 0).length,
    select: (eid, ranks, byScore) => {
      const rows = this.inOrder(eid, byScore);
      return ranks.map((r) => rows[r]!).filter((r) => r !== undefined);
    },
    scan: (eid, key, reverse, limit, byScore) => {
      const rows = this.inOrder(eid, byScore).filter((r) => {
        const c = compareKeys(orderKey(r.field, r.score, byScore), key);
        return reverse ? c <= 0 : c >= 0;
      });
      if (reverse) rows.reverse();
      return rows.slice(0, limit);
    },
    match: (eid, value, reverse, skip, limit, bound, byScore) => {
      const rows = this.inOrder(eid, byScore);
      if (reverse) rows.reverse();
      const inside = (r: ElementRow) => bound === null || (reverse ? 1 : -1) * compareKeys(orderKey(r.field, r.score, byScore), bound) > 0;
      const found = rows.filter((r) => inside(r) && bytesEqual(r.value, value)).slice(skip);
      return limit < 0 ? found : found.slice(0, limit);
    },
    plan: () => {},
    settle: () => {},
    combine: () => null,
    copyElements: () => false,
    fieldDeadlines: (eid, after, until, limit) =>
      [...(this.collections.get(eid) ?? [])]
        .filter(([, e]) => e.expiresAt != null && (after === null || e.expiresAt > after) && (until === null || e.expiresAt <= until))
        .sort((a, b) => a[1].expiresAt! - b[1].expiresAt! || compareFields(a[0], b[0]))
        .slice(0, limit)
        .map(([field, e]) => ({ field, expiresAt: e.expiresAt! })),
  };

  readonly deadlines: DeadlineIndex = this.keys;
  readonly snapshot: SnapshotStore = this.keys;
  readonly indexes: TypeIndexes = indexesOf(this.elements);

  /** The elements of `eid` in its order. */
  private inOrder(eid: number, byScore: boolean): ElementRow[] {
    return [...(this.collections.get(eid) ?? [])]
      .map(([field, e]) => ({ field, ...e }))
      .sort((a, b) => compareKeys(orderKey(a.field, a.score, byScore), orderKey(b.field, b.score, byScore)));
  }

  /** The keys after (slot, afterKey) up to and with position `end`. */
  private until(slot: number, afterKey: string | null, end: KeyPosition): KeyRow[] {
    return this.keys.scan(slot, afterKey, Infinity).filter((r) => r.slot < end.slot || (r.slot === end.slot && compareFields(r.key, end.key) <= 0));
  }

  /** Every key in (slot, key) order. */
  private ordered(): KeyRow[] {
    return [...this.rows]
      .map(([key, r]) => ({ slot: r.slot, key, entry: r.entry }))
      .sort((a, b) => a.slot - b.slot || compareFields(a.key, b.key));
  }

  /** The elements of sorted set `eid` within `range`, in (score, field) order. */
  private zsetRows(eid: number, range: ZsetRange): ElementRow[] {
    return [...(this.collections.get(eid) ?? [])]
      .map(([field, e]) => ({ field, ...e }))
      .filter((r) => inZsetRange(range, r.score ?? 0, r.field))
      .sort(compareZset);
  }

  private sortedFields(eid: number): string[] {
    return [...(this.collections.get(eid)?.keys() ?? [])].sort(compareFields);
  }

  readonly log: LogStore = {
    append: (offset, frames) => void this.frames.set(offset, frames),
    bounds: () => {
      const offsets = this.offsets();
      if (offsets.length === 0) return null;
      const last = offsets[offsets.length - 1]!;
      return { first: offsets[0]!, lastOffset: last, lastLength: this.frames.get(last)!.length };
    },
    trimBefore: (offset) => {
      for (const o of this.offsets()) if (o + this.frames.get(o)!.length <= offset) this.frames.delete(o);
    },
    clear: () => this.frames.clear(),
    read: (offset, maxBytes) => {
      const out: { offset: number; frame: Bytes }[] = [];
      let size = 0;
      for (const o of this.offsets()) {
        const frame = this.frames.get(o)!;
        if (o + frame.length <= offset) continue;
        if (out.length > 0 && size >= maxBytes) break;
        out.push({ offset: o, frame });
        size += frame.length;
      }
      return out;
    },
  };

  private offsets(): number[] {
    return [...this.frames.keys()].sort((a, b) => a - b);
  }

  readonly meta: MetaStore = {
    get: (name) => this.metaRows.get(name) ?? null,
    set: (name, value) => void this.metaRows.set(name, value),
    delete: (name) => void this.metaRows.delete(name),
  };

  readonly saved: SavedStore = {
    has: (key) => this.savedRows.has(key),
    save: (key, payload, expiresAt) => void this.savedRows.set(key, { slot: slotOf(key), key, payload, expiresAt }),
    scan: (slot, afterKey, limit) =>
      [...this.savedRows.values()]
        .filter((r) => r.slot > slot || (r.slot === slot && (afterKey === null || compareFields(r.key, afterKey) > 0)))
        .sort((a, b) => a.slot - b.slot || compareFields(a.key, b.key))
        .slice(0, limit)
        .map((r) => ({ slot: r.slot, key: r.key, absent: r.payload === null, expiresAt: r.expiresAt })),
    payload: (key) => this.savedRows.get(key)?.payload ?? new Uint8Array(0),
    clear: () => this.savedRows.clear(),
  };

  transaction<T>(fn: () => T): T {
    const saved = {
      savedRows: new Map(this.savedRows),
      rows: new Map(this.rows),
      collections: new Map([...this.collections].map(([eid, c]) => [eid, new Map(c)])),
      frames: new Map(this.frames),
      meta: new Map(this.metaRows),
    };
    try {
      return fn();
    } catch (e) {
      Object.assign(this, {
        rows: saved.rows,
        collections: saved.collections,
        frames: saved.frames,
        metaRows: saved.meta,
        savedRows: saved.savedRows,
      });
      throw e;
    }
  }
}
