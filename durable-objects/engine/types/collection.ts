/**
 * What every collection type's object shares (Hash, RedisSet, List, Zset): the overlay it works
 * in, its key and header (element id, count, size, deadline), finding it with Redis's WRONGTYPE,
 * and writing its header back, an emptied one removed.
 */
import { LONG_MAX, long, parseInt64 } from "../args";
import { EMPTY, type KeyEffect } from "../replication/effect";
import { RedisError, errors } from "../errors";
import type { Change } from "../keyspace";
import type { ElementRow, Entry, ValueType } from "../storage";
import type { Operand } from "./algebra";

export type CollectionType = Exclude<ValueType, "string">;

/** Most picks with repeats one RANDMEMBER-family call may ask for (its reply's size). */
export const MAX_PICKS = 100_000;

/**
 * HRANDFIELD's and ZRANDMEMBER's `[count [WITHVALUES | WITHSCORES]]`, read as Redis reads them
 * before the key: the count within ±LONG_MAX, then the option, then (paired) within ±LONG_MAX/2.
 * @returns count null without one (a single pick, a bulk reply)
 */
export function randomCount(count: string | undefined, rest: readonly string[], pairing: string): { count: number | null; paired: boolean } {
  if (count === undefined) return { count: null, paired: false };
  const n = long(count, -LONG_MAX, LONG_MAX);
  if (rest.length > 1 || (rest.length === 1 && rest[0]!.toUpperCase() !== pairing)) throw errors.syntax();
  const half = LONG_MAX / 2n;
  if (rest.length === 1 && (parseInt64(count) < -half || parseInt64(count) > half)) throw new RedisError("ERR value is out of range");
  return { count: n, paired: rest.length === 1 };
}

/**
 * The header of the collection of `type` at `key`, or null when there is none: `counted` (a
 * read's lookup) counts a keyspace hit or miss, else not (a write's destination).
 * @throws WRONGTYPE for a key of another type
 */
export function headerOf(db: Change, key: string, type: CollectionType, counted = true): Entry | null {
  const e = counted ? db.lookup(key) : db.get(key);
  if (e === null) return null;
  if (e.type !== type || e.eid === undefined) throw errors.wrongType();
  return e;
}

/**
 * The positions of a random pick among `size` elements (0 < count <= size, or count < 0), in the
 * order picked: `count` distinct ones (all `size` of them a fair shuffle), or -`count` with repeats.
 */
export function pickPositions(count: number, size: number, random: () => number): number[] {
  const positions: number[] = [];
  if (count < 0) for (let i = 0; i < -count; i++) positions.push(Math.floor(random() * size));
  else {
    // Distinct positions, by a partial Fisher-Yates shuffle over them (only the moved ones kept).
    const moved = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(random() * (size - i));
      positions.push(moved.get(j) ?? j);
      moved.set(j, moved.get(i) ?? i);
    }
  }
  return positions;
}

/** A new, empty collection's header (stored only once the collection has an element). */
export const emptyHeader = (db: Change, type: CollectionType): Entry => ({ type, value: EMPTY, expiresAt: null, eid: db.newEid(), count: 0 });

export abstract class Collection {
  protected constructor(
    protected readonly db: Change,
    readonly key: string,
    protected header: Entry,
  ) {}

  /** The number of elements. */
  get length(): number {
    return this.header.count ?? 0;
  }

  protected get eid(): number {
    return this.header.eid!;
  }

  /** This collection as an input of set algebra (types/algebra.ts), its scores times `weight`. */
  operand(weight = 1): Operand {
    return { eid: this.eid, weight, scored: this.header.type === "zset", size: this.length };
  }

  /** Sorted sets and lists are ordered by (score, field), hashes and sets by field. */
  protected get byScore(): boolean {
    return this.header.type === "zset" || this.header.type === "list";
  }

  /**
   * Elements at random positions, in the order picked (Redis's *RANDMEMBER and SPOP): `count` > 0
   * distinct ones (every element, in order, when it asks for as many or more), < 0 that many,
   * repeats allowed. Read from the rank index at the positions picked, so the cost follows the
   * count, not the collection; when the picks cover a good part of it, it is read once.
   */
  sample(count: number, random: () => number): ElementRow[] {
    // A request's work stays bounded: no more picks with repeats than this (found after the key,
    // as Redis finds its own range errors; a distinct count is bounded by the size anyway).
    if (count < -MAX_PICKS) throw new RedisError("ERR value is out of range");
    const size = this.length;
    if (size === 0 || count === 0) return [];
    if (count >= size) return this.db.selectRanks(this.eid, Array.from({ length: size }, (_, i) => i), this.byScore);
    const positions = pickPositions(count, size, random);
    const sorted = [...new Set(positions)].sort((a, b) => a - b);
    const rows = this.db.selectRanks(this.eid, sorted, this.byScore);
    const at = new Map(sorted.map((p, i) => [p, rows[i]!]));
    return positions.map((p) => at.get(p)!);
  }

  /**
   * Removes those of `fields` the collection has, by one `effect` (SREM, HDEL, ZREM); emptied, it
   * goes (`apply`). @returns how many it had
   */
  protected removeFields(effect: KeyEffect<string[]>, fields: Iterable<string>): number {
    const present = [...new Set(fields)].filter((field) => this.db.element(this.eid, field) !== null);
    if (present.length > 0) this.apply(effect, present);
    return present.length;
  }

  /**
   * Writes by applying `effect` (Change.apply), as every replica applies it, then reads the header
   * back. A new collection's header is written first, so the effect writes under its id. An effect
   * that empties the collection deletes it, and its DEL is logged too (`removeEmptied`); the
   * object then stands for a new, empty collection.
   */
  protected apply<A>(effect: KeyEffect<A>, args: A): void {
    if (this.db.peek(this.key) === null) this.db.putHeader(this.key, this.header);
    this.db.apply(effect, this.key, args);
    const after = this.db.peek(this.key);
    if (after !== null) {
      this.header = after;
      return;
    }
    this.db.removeEmptied(this.key);
    this.header = emptyHeader(this.db, this.header.type as CollectionType);
  }

}
