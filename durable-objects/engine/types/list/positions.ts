/**
 * Where a list's elements sit. Each element has an integer position (its `score`) and is stored
 * under a field naming that position so that field (byte) order is list order: LPUSH takes a
 * position below the first, RPUSH one above the last, LINSERT one between two neighbours, and
 * nothing is renumbered. Only when two neighbours leave no room between them is a small window
 * around the spot spread out again (`spread` answers null, the list respaces; list.ts).
 *
 * Positions are integers in [MIN_POSITION, MAX_POSITION]: with pushes GAP apart that is 2^34
 * pushes at one end before the edge is reached (the list then respaces towards the middle), and
 * about 16 inserts at one spot before a window is spread. Every value stays exact in a double.
 */
export const MIN_POSITION = -(2 ** 50);
export const MAX_POSITION = 2 ** 50;
/** The distance between pushed elements. */
export const GAP = 2 ** 16;
/** Fields are `position + OFFSET` in 13 hex digits (positions just past either edge too). */
const OFFSET = 2 ** 51;
const WIDTH = 13;

/** The field of position `p`. @example fieldOf(0) === "8000000000000" */
export const fieldOf = (p: number): string => (p + OFFSET).toString(16).padStart(WIDTH, "0");

/** True for a position a replica may be told. */
export const isPosition = (p: number): boolean => Number.isSafeInteger(p) && p >= MIN_POSITION && p <= MAX_POSITION;

/**
 * `k` increasing positions strictly between `after` and `before` (null: the list's end on that
 * side), GAP apart where there is room, else as evenly as the room allows; null when there is
 * no room for them.
 */
export function spread(after: number | null, before: number | null, k: number): number[] | null {
  let first: number;
  let step: number;
  if (after === null && before === null) {
    first = 0;
    step = GAP;
  } else if (after === null) {
    step = Math.min(GAP, Math.floor((before! - (MIN_POSITION - 1)) / (k + 1)));
    first = before! - step * k;
  } else if (before === null) {
    step = Math.min(GAP, Math.floor((MAX_POSITION + 1 - after) / (k + 1)));
    first = after + step;
  } else {
    step = Math.floor((before - after) / (k + 1));
    first = after + step;
  }
  if (step < 1) return null;
  return Array.from({ length: k }, (_, i) => first + step * i);
}
