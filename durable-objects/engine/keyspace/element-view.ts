/**
 * How a change reads collections: its pending element writes merged over storage's pages and
 * indexed reads (for lists from either end, for sorted sets by score and rank). `Change` extends
 * it; the writes are in change.ts.
 */
import { type Element, type ElementRow, type Storage, type ZsetRange, compareFields, compareZset, inZsetRange } from "../storage";
import type { Keyspace } from "./keyspace";

export abstract class ElementView {
  protected abstract readonly keyspace: Keyspace;
  /** Pending element writes per collection id (null: deleted). */
  abstract readonly elements: Map<number, Map<string, Element | null>>;
  /** Collections whose every element goes. */
  abstract readonly dropped: Set<number>;

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
    const elements = this.keyspace.storage.elements;
    const stored =
      this.dropped.has(eid) || eid >= this.keyspace.nextEid ? [] : dir === 1 ? elements.page(eid, from, limit) : elements.listPageBackward(eid, from, limit);
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
   * Lists: the element at `index` (0-based) in field order, counted from the last when `fromEnd`.
   * One indexed read when this change has not touched the collection; else it pages.
   */
  listElementAt(eid: number, index: number, fromEnd: boolean): ElementRow | null {
    if (index < 0) return null;
    const stored = !this.dropped.has(eid) && eid < this.keyspace.nextEid;
    if (!this.elements.has(eid) && stored) {
      const elements = this.keyspace.storage.elements;
      return fromEnd ? elements.listAtFromEnd(eid, index) : elements.at(eid, index);
    }
    for (let cursor: string | null = null, skipped = 0; ; ) {
      const page: { rows: ElementRow[]; next: string | null } = fromEnd ? this.listPageBackward(eid, cursor, 256) : this.elementsPage(eid, cursor, 256);
      const { rows, next } = page;
      if (index < skipped + rows.length) return rows[index - skipped]!;
      skipped += rows.length;
      if (next === null) return null;
      cursor = next;
    }
  }

  /**
   * The element at `index` in field order: one indexed read of storage (an OFFSET) when this
   * change has not touched the collection (HRANDFIELD, SRANDMEMBER, SPOP pick by index).
   */
  elementAt(eid: number, index: number): ElementRow | null {
    return this.listElementAt(eid, index, false);
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

  // ---- Sorted sets' ordered queries (storage's zset* queries, with this change's writes merged) ----

  /** True when collection `eid` may have stored elements (it was neither dropped nor created here). */
  protected stored(eid: number): boolean {
    return !this.dropped.has(eid) && eid < this.keyspace.nextEid;
  }

  /**
   * The elements of sorted set `eid` within `range` as this change sees them, in (score, member)
   * order (reversed when `reverse`), `offset` skipped, at most `limit` (negative: all). Without
   * pending writes to `eid` this is the storage's query; with some, the storage is asked for
   * enough more rows to make up for those this change moved or deleted.
   */
  zsetRange(eid: number, range: ZsetRange, reverse: boolean, offset: number, limit: number): ElementRow[] {
    const store = this.keyspace.storage.elements;
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
    return this.zsetCounted(eid, store => store.zsetCount(eid, range), (score, field) => inZsetRange(range, score, field));
  }

  /** How many elements of sorted set `eid` come before (score, member): its rank when it is a member. */
  zsetCountBefore(eid: number, score: number, field: string): number {
    return this.zsetCounted(
      eid,
      (store) => store.zsetCountBefore(eid, score, field),
      (s, f) => compareZset({ score: s, field: f }, { score, field }) < 0,
    );
  }

  /** A stored count corrected by this change's writes to `eid`: those that left or joined what `counts` covers. */
  private zsetCounted(eid: number, stored: (store: Storage["elements"]) => number, counts: (score: number, field: string) => boolean): number {
    const store = this.keyspace.storage.elements;
    let n = this.stored(eid) ? stored(store) : 0;
    for (const [field, el] of this.elements.get(eid) ?? []) {
      const before = this.stored(eid) ? store.get(eid, field) : null;
      if (before !== null && counts(before.score ?? 0, field)) n--;
      if (el !== null && counts(el.score ?? 0, field)) n++;
    }
    return n;
  }
}
