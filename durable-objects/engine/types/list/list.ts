/**
 * The list type (Redis's t_list.c): a header row (element id, length, deadline) and one element
 * row per element, under a field naming its position (positions.ts), so field order is list
 * order. Either end is one indexed read (ascending or descending), an index from either end a
 * read of the rank index (sqlite/ranks.ts), and LPUSH, RPOP, LINSERT or LSET write only the rows
 * they change.
 * Replicated as LPUT and LDEL with explicit positions (replication/effects.ts); an emptied list is deleted.
 */
import { type Bytes, bytesEqual } from "../../bytes";
import { RedisError } from "../../errors";
import type { Change } from "../../keyspace";
import { Collection, emptyHeader, headerOf } from "../collection";
import type { ElementRow, Entry } from "../../storage";
import type { OrderKey } from "../order";
import { ldel, lput } from "./effects";
import { MAX_POSITION, MIN_POSITION, fieldOf, spread } from "./positions";

/** Redis's list-max-listpack-size (as an element count): what OBJECT ENCODING reports as `listpack`. */
const LISTPACK_ENTRIES = 128;
/** A respaced window leaves at least this much between neighbours (room for ~10 more inserts). */
const MIN_STEP = 2 ** 10;
/** Rows read per page when walking a list. */
const PAGE = 256;
/** LPOS matches whose indexes are ranks (a read of the rank index each); more are counted by walking. */
const MAX_RANKED = 1000;

/** Redis's LSET answer for an index past either end. */
export const indexOutOfRange = () => new RedisError("ERR index out of range");

/** An end of a list: LEFT is the head (index 0), RIGHT the tail. */
export type End = "left" | "right";

/** What LPOS looks for: the `rank`-th match on (negative: from the tail), `count` of them (0: all), within `maxlen` elements (0: all). */
export interface PosQuery {
  readonly rank: number;
  readonly count: number;
  readonly maxlen: number;
}

export class List extends Collection {
  private constructor(db: Change, key: string, header: Entry) {
    super(db, key, header);
  }

  /** The list at `key`, or null when there is none (a keyspace hit or miss). @throws WRONGTYPE */
  static find(db: Change, key: string): List | null {
    const header = headerOf(db, key, "list");
    return header && new List(db, key, header);
  }

  /** The list at `key`, created empty when missing (it is stored only once it has an element). @throws WRONGTYPE */
  static findOrCreate(db: Change, key: string): List {
    return List.find(db, key) ?? new List(db, key, emptyHeader(db, "list"));
  }

  /** A new, empty list at `key`, which holds nothing now (stored once it has an element). */
  static create(db: Change, key: string): List {
    return new List(db, key, emptyHeader(db, "list"));
  }

  /** Elements from one end inwards: from the head after field `from`, or from the tail before it (null: from the end). */
  *walk(end: End, from: string | null = null, page = PAGE): Generator<ElementRow> {
    for (let cursor = from; ; ) {
      const { rows, next } = end === "left" ? this.db.elementsPage(this.eid, cursor, page) : this.db.listPageBackward(this.eid, cursor, page);
      yield* rows;
      if (next === null) return;
      cursor = next;
    }
  }

  /** Up to `n` elements from `end` inwards (after or before `from`). */
  take(end: End, n: number, from: string | null = null): ElementRow[] {
    const out: ElementRow[] = [];
    if (n <= 0) return out;
    for (const row of this.walk(end, from, Math.min(n + 1, PAGE))) {
      out.push(row);
      if (out.length === n) break;
    }
    return out;
  }

  /** The element at `index` (negative: from the tail, -1 the last), or null. */
  at(index: number): ElementRow | null {
    const n = this.length;
    const i = index < 0 ? n + index : index;
    if (i < 0 || i >= n) return null;
    return this.db.selectRanks(this.eid, [i], true)[0] ?? null;
  }

  /** LRANGE's elements from `start` to `stop` (inclusive, negative from the tail), read from the nearer end. */
  range(start: number, stop: number): Bytes[] {
    const n = this.length;
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    if (start < 0) start = 0;
    if (start > stop || start >= n) return [];
    if (stop >= n) stop = n - 1;
    const want = stop - start + 1;
    if (start <= n - 1 - stop) {
      const after = start === 0 ? null : this.at(start - 1)!.field;
      return this.take("left", want, after).map((el) => el.value);
    }
    const before = stop === n - 1 ? null : this.at(stop + 1)!.field;
    return this.take("right", want, before)
      .reverse()
      .map((el) => el.value);
  }

  /** LPUSH (values go in one by one, so the last is first) or RPUSH. @returns the new length */
  push(values: readonly Bytes[], end: End): number {
    if (end === "left") {
      const first = this.take("left", 1)[0] ?? null;
      this.place(null, first, [...values].reverse());
    } else this.place(this.take("right", 1)[0] ?? null, null, values);
    return this.length;
  }

  /** Up to `n` elements from `end`, in the order they leave; an emptied list goes. */
  pop(end: End, n: number): Bytes[] {
    if (n >= this.length) {
      const all = this.take(end, this.length).map((el) => el.value);
      this.db.delete(this.key);
      this.header = { ...this.header, count: 0 };
      return all;
    }
    const rows = this.take(end, n);
    if (rows.length === 0) return [];
    this.remove(rows, [span(rows)]);
    return rows.map((el) => el.value);
  }

  /** LSET. @throws ERR index out of range */
  set(index: number, value: Bytes): void {
    const el = this.at(index);
    if (el === null) throw indexOutOfRange();
    this.apply(lput, [[el.score!, value]]);
  }

  /** LINSERT: `value` before or after the first element equal to `pivot`. @returns the new length, or -1 without a pivot */
  insert(where: "before" | "after", pivot: Bytes, value: Bytes): number {
    let found: ElementRow | null = null;
    for (const el of this.walk("left"))
      if (bytesEqual(el.value, pivot)) {
        found = el;
        break;
      }
    if (found === null) return -1;
    if (where === "before") this.place(this.take("right", 1, found.field)[0] ?? null, found, [value]);
    else this.place(found, this.take("left", 1, found.field)[0] ?? null, [value]);
    return this.length;
  }

  /** LREM: up to |count| elements equal to `value` (0: all), from the head (count >= 0) or the tail. @returns how many went */
  removeEqual(count: number, value: Bytes): number {
    const doomed: ElementRow[] = [];
    /** Runs of adjacent doomed elements, each one LDEL range. */
    const runs: ElementRow[][] = [];
    let run: ElementRow[] | null = null;
    const limit = count === 0 ? Infinity : Math.abs(count);
    for (const el of this.walk(count < 0 ? "right" : "left")) {
      if (!bytesEqual(el.value, value)) {
        run = null;
        continue;
      }
      doomed.push(el);
      if (run === null) runs.push((run = []));
      run.push(el);
      if (doomed.length >= limit) break;
    }
    if (doomed.length === 0) return 0;
    if (doomed.length === this.length) this.db.delete(this.key);
    else this.remove(doomed, runs.map(span));
    return doomed.length;
  }

  /** LTRIM: only the elements from `start` to `stop` (inclusive, negative from the tail) stay; an emptied list goes. */
  trim(start: number, stop: number): void {
    const n = this.length;
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    if (start < 0) start = 0;
    if (start > stop || start >= n) {
      this.db.delete(this.key);
      return;
    }
    if (stop >= n) stop = n - 1;
    const head = this.take("left", start);
    const tail = this.take("right", n - 1 - stop);
    const ranges = [head, tail].filter((rows) => rows.length > 0).map(span);
    if (ranges.length > 0) this.remove([...head, ...tail], ranges);
  }

  /**
   * LPOS: the indexes of the elements equal to `value`, from the head (or from the tail for a
   * negative rank), the first |rank| - 1 matches skipped, within the first (or last) `maxlen`. The
   * storage finds the matches itself (no element passes through here but the matches) and each
   * index is a rank; where this change wrote to the list, or past MAX_RANKED matches, it walks.
   */
  positions(value: Bytes, q: PosQuery): number[] {
    const n = this.length;
    const reverse = q.rank < 0;
    const skip = Math.abs(q.rank) - 1;
    let bound: OrderKey | null = null;
    if (q.maxlen !== 0 && q.maxlen < n) {
      const edge = this.db.selectRanks(this.eid, [reverse ? n - 1 - q.maxlen : q.maxlen], true)[0];
      if (edge !== undefined) bound = { score: edge.score ?? 0, field: edge.field };
    }
    const limit = q.count === 0 ? MAX_RANKED + 1 : Math.min(q.count, MAX_RANKED + 1);
    // A list's field order is its order: matched over the table itself, each row's value at hand
    // (in (score, field) order each row would be a lookup from the index).
    const found = this.db.matchStored(this.eid, value, reverse, skip, limit, bound && { score: 0, field: bound.field }, false);
    if (found !== null && found.length <= MAX_RANKED) return found.map((el) => this.db.rankOf(this.eid, { score: el.score ?? 0, field: el.field }, true));
    return this.walkPositions(value, q);
  }

  /** LPOS by walking the list from its end (see `positions`). */
  private walkPositions(value: Bytes, q: PosQuery): number[] {
    const n = this.length;
    const end: End = q.rank < 0 ? "right" : "left";
    const skip = Math.abs(q.rank) - 1;
    const want = q.count === 0 ? Infinity : q.count;
    const out: number[] = [];
    let index = 0;
    let matches = 0;
    for (const el of this.walk(end)) {
      if (q.maxlen !== 0 && index >= q.maxlen) break;
      if (bytesEqual(el.value, value) && matches++ >= skip) {
        out.push(end === "left" ? index : n - 1 - index);
        if (out.length >= want) break;
      }
      index++;
    }
    return out;
  }

  /**
   * Writes `values` (in list order) between the adjacent elements `after` and `before` (null:
   * that end of the list): one LPUT; respaces a window first when there is no room.
   */
  private place(after: ElementRow | null, before: ElementRow | null, values: readonly Bytes[]): void {
    if (values.length === 0) return;
    let positions = spread(after?.score ?? null, before?.score ?? null, values.length);
    if (positions === null) positions = this.respace(after, before, values.length);
    const items = values.map((v, i) => [positions[i]!, v] as const);
    // Positions strictly between two adjacent elements (or past an end): none is taken.
    this.db.knownFree(this.eid, positions.map(fieldOf));
    this.apply(lput, items);
  }

  /**
   * Makes room for `k` elements between `after` and `before`: a window of neighbours around the
   * spot, doubled until its room (the positions between the elements just outside it, or the
   * edges) leaves MIN_STEP between neighbours or it is the whole list, is spread evenly: an LPUT
   * at the new positions, then an LDEL of the old ones not taken again. @returns the positions of the `k`
   */
  private respace(after: ElementRow | null, before: ElementRow | null, k: number): number[] {
    let left: ElementRow[] = after ? [after] : []; // nearest first
    let right: ElementRow[] = before ? [before] : [];
    let leftFence: ElementRow | null = null; // just outside the window, or null: the list's end
    let rightFence: ElementRow | null = null;
    let leftEnd = after === null;
    let rightEnd = before === null;
    for (let size = 8; ; size *= 2) {
      if (!leftEnd) {
        const more = this.take("right", size - left.length + 1, left[left.length - 1]!.field);
        leftEnd = more.length <= size - left.length;
        left = [...left, ...more.slice(0, size - left.length)];
        leftFence = leftEnd ? null : more[more.length - 1]!;
      }
      if (!rightEnd) {
        const more = this.take("left", size - right.length + 1, right[right.length - 1]!.field);
        rightEnd = more.length <= size - right.length;
        right = [...right, ...more.slice(0, size - right.length)];
        rightFence = rightEnd ? null : more[more.length - 1]!;
      }
      const lo = leftFence?.score ?? MIN_POSITION - 1;
      const hi = rightFence?.score ?? MAX_POSITION + 1;
      const slots = left.length + k + right.length;
      const step = Math.floor((hi - lo) / (slots + 1));
      if (step >= MIN_STEP || (leftEnd && rightEnd)) {
        if (step < 1) throw new RedisError("ERR list is too long to insert into"); // past 2^51 elements: never
        const window = [...left].reverse();
        const moved = [...window, ...right];
        const at = (i: number) => lo + step * (i + 1);
        const items = [...window.map((el, i) => [at(i), el.value] as const), ...right.map((el, i) => [at(window.length + k + i), el.value] as const)];
        if (moved.length > 0) {
          // The new places first, then the old ones not taken again: the list is never empty
          // between the two (an LDEL that emptied it would delete the key, its deadline with it).
          const old = new Set(moved.map((el) => el.score!));
          // Between the fences only the moved elements were: their new places are free.
          this.db.knownFree(this.eid, items.filter(([score]) => !old.has(score)).map(([score]) => fieldOf(score)));
          this.apply(lput, items);
          const freed = rangesBetween(moved.map((el) => el.score!), items.map(([score]) => score));
          if (freed.length > 0) this.apply(ldel, freed);
        }
        return Array.from({ length: k }, (_, i) => at(window.length + i));
      }
    }
  }

  /** Deletes the elements in `ranges` (`rows` is how many): one LDEL; the list keeps at least one element. */
  private remove(rows: readonly ElementRow[], ranges: readonly (readonly [number, number])[]): void {
    if (rows.length > 0) this.apply(ldel, ranges);
  }

}

/**
 * Ranges that cover exactly the positions of `old` not in `taken` (both ascending) and none of
 * `taken`: old positions with no taken one between them share a range.
 */
function rangesBetween(old: readonly number[], taken: readonly number[]): [number, number][] {
  const isTaken = new Set(taken);
  const out: [number, number][] = [];
  let run: [number, number] | null = null;
  for (const p of [...new Set([...old, ...taken])].sort((a, b) => a - b)) {
    if (isTaken.has(p)) run = null;
    else if (run === null) out.push((run = [p, p]));
    else run[1] = p;
  }
  return out;
}

/** The position range from the lowest to the highest of `rows` (adjacent elements of one list). */
function span(rows: readonly ElementRow[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const el of rows) {
    lo = Math.min(lo, el.score!);
    hi = Math.max(hi, el.score!);
  }
  return [lo, hi];
}

/** OBJECT ENCODING of a list: small ones are `listpack` in Redis, larger ones `quicklist`. */
export const listEncoding = (e: Entry) => ((e.count ?? 0) <= LISTPACK_ENTRIES ? "listpack" : "quicklist");
