/** A sorted set's ranges (by score or by member), and the storage's queries over them. */
import { type ElementRow, compareFields } from "../../storage";

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
 * The storage's queries over a sorted set's elements in Redis's zset order (Storage.indexes.zset):
 * by score and by rank without reading the whole set.
 */
export interface ZsetIndex {
  /**
   * Sorted sets: the elements of `eid` within `range` in (score, field) order (reversed when
   * `reverse`), the first `offset` skipped, at most `limit` (negative: all). Its cost grows with
   * `offset + limit`, not with the set.
   */
  zsetRange(eid: number, range: ZsetRange, reverse: boolean, offset: number, limit: number): ElementRow[];
  /** Sorted sets: how many elements of `eid` lie within `range`. */
  zsetCount(eid: number, range: ZsetRange): number;
}
