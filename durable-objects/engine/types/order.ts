/**
 * The order of a list's or a sorted set's elements, and the storage's queries over it: a list by
 * position, a sorted set by (score, member), anything else by field. Order statistics (rank,
 * select) read about as many rows as the logarithm of the collection's size (the SQLite storage
 * keeps a rank index for a large collection: sqlite/ranks.ts).
 */
import type { Bytes } from "../bytes";
import { type ElementRow, compareFields } from "../storage";

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

/** The storage's queries in a collection's order (Storage.indexes.order). */
export interface OrderIndex {
  /** Lists (read from the tail): elements of `eid` before `field` (null: from the last), in descending field order, at most `limit`. */
  listPageBackward(eid: number, before: string | null, limit: number): ElementRow[];
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
}
