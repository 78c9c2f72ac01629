/**
 * How a change reads collections: its pending element writes merged over storage's pages and
 * indexed reads (for lists from either end, for sorted sets by score and rank). `Change` extends
 * it; the writes are in change.ts.
 */
import { type Element, type ElementRow, compareFields } from "../storage";
import { type FieldDeadline } from "../types/hash/field-index";
import { type OrderKey, compareKeys, orderKey } from "../types/order";
import { type ZsetIndex, type ZsetRange, compareZset, inZsetRange } from "../types/zset/range";
import type { Keyspace } from "./keyspace";

export abstract class ElementView {
  protected abstract readonly keyspace: Keyspace;
  /** Pending element writes per collection id (null: deleted). */
  abstract readonly elements: Map<number, Map<string, Element | null>>;
  /** Collections whose every element goes. */
  abstract readonly dropped: Set<number>;
  /** Collections this change wrote to storage directly (set algebra, COPY): stored, though new. */
  protected abstract readonly direct: Set<number>;

  /**
   * One page of the elements of `eid` after `after` (null: from the first), in field order, as
   * this change sees them; `next` is where the following page starts, null after the last one.
   * (A page may be empty and still have a next: every stored row of it was deleted here.)
   */
  elementsPage(eid: number, after: string | null, limit: number): { rows: ElementRow[]; next: string | null } {
    return this.overlaidPage(eid, after, limit, 1);
  }

  /**
   * Lists, read from the tail: one page of the elements of `eid` before `before` (null: from the
   * last), in descending field order, as this change sees them; `next` as in `elementsPage`.
   */
  listPageBackward(eid: number, before: string | null, limit: number): { rows: ElementRow[]; next: string | null } {
    return this.overlaidPage(eid, before, limit, -1);
  }

  /** A page of stored elements past `from` in field order (`dir` 1) or reversed (-1), with this change's writes over it. */
  private overlaidPage(eid: number, from: string | null, limit: number, dir: 1 | -1): { rows: ElementRow[]; next: string | null } {
    const { elements, indexes } = this.keyspace.storage;
    const stored = !this.stored(eid) ? [] : dir === 1 ? elements.page(eid, from, limit) : indexes.order.listPageBackward(eid, from, limit);
    const next = stored.length < limit ? null : stored[stored.length - 1]!.field;
    const pending = this.elements.get(eid);
    const rows = new Map<string, ElementRow>();
    for (const row of stored) rows.set(row.field, row);
    if (pending)
      for (const [field, element] of pending) {
        if (from !== null && dir * compareFields(field, from) <= 0) continue;
        if (next !== null && dir * compareFields(field, next) > 0) continue;
        if (element === null) rows.delete(field);
        else rows.set(field, { field, ...element });
      }
    return { rows: [...rows.values()].sort((a, b) => dir * compareFields(a.field, b.field)), next };
  }

  /**
   * How many elements of `eid` come before `key` in its order (by (score, field) when `byScore`:
   * sorted sets, lists; else by field), as this change sees them: the storage's rank, corrected by
   * this change's writes to `eid`.
   */
  rankOf(eid: number, key: OrderKey, byScore: boolean): number {
    const stored = this.stored(eid) ? this.keyspace.storage.indexes.order.rank(eid, key, byScore) : 0;
    const p = this.pendingOrder(eid, byScore);
    if (p === null) return stored;
    let n = stored;
    for (const k of p.gone) if (compareKeys(k, key) < 0) n--;
    for (const r of p.present) if (compareKeys(orderKey(r.field, r.score, byScore), key) < 0) n++;
    return n;
  }

  /**
   * The elements of `eid` at `ranks` (ascending, repeats allowed) in its order, as this change sees
   * them: the storage's, or where this change wrote to `eid`, its writes merged in (a rank query
   * per element it wrote, then the storage's elements at the ranks that remain).
   */
  selectRanks(eid: number, ranks: readonly number[], byScore: boolean): ElementRow[] {
    const store = this.keyspace.storage.indexes.order;
    const p = this.pendingOrder(eid, byScore);
    if (p === null) return this.stored(eid) ? store.select(eid, ranks, byScore) : [];
    // Stored ranks of the elements this change displaced, and the merged ranks of those it wrote.
    const gone = this.stored(eid) ? p.gone.map((k) => store.rank(eid, k, byScore)).sort((a, b) => a - b) : [];
    const present = p.present.map((row) => ({ row, rank: this.rankOf(eid, orderKey(row.field, row.score, byScore), byScore) }));
    const out: (ElementRow | undefined)[] = new Array(ranks.length);
    const wanted: { at: number; rank: number }[] = [];
    ranks.forEach((r, at) => {
      let below = 0;
      for (const w of present) {
        if (w.rank === r) return void (out[at] = w.row);
        if (w.rank < r) below++;
      }
      // The (r - below)-th stored element that stays: past each displaced one before it.
      let s = r - below;
      for (const d of gone) if (d <= s) s++;
      wanted.push({ at, rank: s });
    });
    if (wanted.length > 0 && this.stored(eid)) {
      wanted.sort((a, b) => a.rank - b.rank);
      const rows = store.select(eid, wanted.map((w) => w.rank), byScore);
      wanted.forEach((w, i) => (out[w.at] = rows[i]));
    }
    return out.filter((r): r is ElementRow => r !== undefined);
  }

  /**
   * Up to `limit` elements of `eid` from `key` on (with it) in its order, or from `key` down when
   * `reverse`, as this change sees them.
   */
  scanFrom(eid: number, key: OrderKey, reverse: boolean, limit: number, byScore: boolean): ElementRow[] {
    const store = this.keyspace.storage.indexes.order;
    const pending = this.elements.get(eid);
    const extra = pending?.size ?? 0;
    const rows = this.stored(eid) ? store.scan(eid, key, reverse, limit < 0 ? -1 : limit + extra, byScore) : [];
    if (!pending || extra === 0) return rows;
    const dir = reverse ? -1 : 1;
    const merged = rows.filter((r) => !pending.has(r.field));
    const last = rows.length === (limit < 0 ? -1 : limit + extra) ? rows[rows.length - 1] : undefined;
    for (const [field, el] of pending) {
      if (el === null) continue;
      const k = orderKey(field, el.score, byScore);
      if (dir * compareKeys(k, key) < 0) continue;
      // Past the last stored row read, a pending element may be beyond ones not read: left out.
      if (last !== undefined && dir * compareKeys(k, orderKey(last.field, last.score, byScore)) > 0) continue;
      merged.push({ field, ...el });
    }
    merged.sort((a, b) => dir * compareKeys(orderKey(a.field, a.score, byScore), orderKey(b.field, b.score, byScore)));
    return limit < 0 ? merged : merged.slice(0, limit);
  }

  /** This change's writes to `eid` in order terms: the stored keys they displaced, and the elements they leave, or null for none. */
  private pendingOrder(eid: number, byScore: boolean): { gone: OrderKey[]; present: ElementRow[] } | null {
    const pending = this.elements.get(eid);
    if (!pending || pending.size === 0) return null;
    const store = this.keyspace.storage.elements;
    const gone: OrderKey[] = [];
    const present: ElementRow[] = [];
    for (const [field, el] of pending) {
      const before = this.stored(eid) ? store.get(eid, field) : null;
      if (before !== null) gone.push(orderKey(field, before.score, byScore));
      if (el !== null) present.push({ field, ...el });
    }
    return { gone, present };
  }

  /** The element at `index` (0-based) in field order (HRANDFIELD, SRANDMEMBER, SPOP pick by index). */
  elementAt(eid: number, index: number): ElementRow | null {
    return this.selectRanks(eid, [index], false)[0] ?? null;
  }

  /** Every element of `eid`, in field order (a whole collection: HGETALL, RENAME's expanded form...). */
  allElements(eid: number): ElementRow[] {
    const out: ElementRow[] = [];
    for (let after: string | null = null; ; ) {
      const { rows, next } = this.elementsPage(eid, after, 1024);
      out.push(...rows);
      if (next === null) return out;
      after = next;
    }
  }

  /**
   * Hash fields of `eid` with a deadline after `after` (null: any) and at or before `until` (null:
   * any), earliest first, at most `limit`, as this change sees them.
   */
  fieldDeadlines(eid: number, after: number | null, until: number | null, limit: number): FieldDeadline[] {
    const pending = this.elements.get(eid);
    const stored = this.stored(eid) ? this.keyspace.storage.indexes.hashFields.fieldDeadlines(eid, after, until, limit + (pending?.size ?? 0)) : [];
    if (!pending || pending.size === 0) return stored;
    const within = (at: number | null | undefined): at is number => at != null && (after === null || at > after) && (until === null || at <= until);
    const rows = stored.filter((r) => !pending.has(r.field));
    for (const [field, el] of pending) if (el !== null && within(el.expiresAt)) rows.push({ field, expiresAt: el.expiresAt });
    return rows.sort((a, b) => a.expiresAt - b.expiresAt || compareFields(a.field, b.field)).slice(0, limit);
  }

  // ---- Sorted sets' ordered queries (storage's zset* queries, with this change's writes merged) ----

  /** True when collection `eid` may have stored elements (it was neither dropped nor created here). */
  protected stored(eid: number): boolean {
    return !this.dropped.has(eid) && (Math.abs(eid) < this.keyspace.nextEid || this.direct.has(eid));
  }

  /**
   * The elements of sorted set `eid` within `range` as this change sees them, in (score, member)
   * order (reversed when `reverse`), `offset` skipped, at most `limit` (negative: all). Without
   * pending writes to `eid` this is the storage's query; with some, the storage is asked for
   * enough more rows to make up for those this change moved or deleted.
   */
  zsetRange(eid: number, range: ZsetRange, reverse: boolean, offset: number, limit: number): ElementRow[] {
    const store = this.keyspace.storage.indexes.zset;
    const pending = this.elements.get(eid);
    if (!pending || pending.size === 0) return this.stored(eid) ? store.zsetRange(eid, range, reverse, offset, limit) : [];
    const rows = this.stored(eid)
      ? store.zsetRange(eid, range, reverse, 0, limit < 0 ? -1 : offset + limit + pending.size).filter((r) => !pending.has(r.field))
      : [];
    for (const [field, el] of pending) if (el !== null && inZsetRange(range, el.score ?? 0, field)) rows.push({ field, ...el });
    rows.sort(reverse ? (a, b) => compareZset(b, a) : compareZset);
    return rows.slice(offset, limit < 0 ? undefined : offset + limit);
  }

  /** How many elements of sorted set `eid` lie within `range`, as this change sees them. */
  zsetCount(eid: number, range: ZsetRange): number {
    return this.zsetCounted(eid, (index) => index.zsetCount(eid, range), (score, field) => inZsetRange(range, score, field));
  }

  /** A stored count corrected by this change's writes to `eid`: those that left or joined what `counts` covers. */
  private zsetCounted(eid: number, stored: (index: ZsetIndex) => number, counts: (score: number, field: string) => boolean): number {
    const store = this.keyspace.storage.elements;
    let n = this.stored(eid) ? stored(this.keyspace.storage.indexes.zset) : 0;
    for (const [field, el] of this.elements.get(eid) ?? []) {
      const before = this.stored(eid) ? store.get(eid, field) : null;
      if (before !== null && counts(before.score ?? 0, field)) n--;
      if (el !== null && counts(el.score ?? 0, field)) n++;
    }
    return n;
  }
}
