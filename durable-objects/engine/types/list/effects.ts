/**
 * The list type's replicated effects. Redis replicates LPUSH as LPUSH, which is not idempotent
 * and leaves each replica to pick positions; here every effect names positions (positions.ts),
 * so each replica holds the master's positions and an effect is judged element by element, by
 * each element's `mod`, as the hash's are (see replication/effects.ts):
 * - `LPUT key pos value [pos value ...]`: these values at these positions (pushes, LINSERT, LSET,
 *   LMOVE's destination, a respaced window, a list written whole);
 * - `LDEL key from to [from to ...]`: the elements at positions from..to (inclusive) go (pops,
 *   LREM, LTRIM, LMOVE's source, the old places of a respaced window). A range covers exactly the
 *   elements between two ends, so LTRIM or LPOP of many elements is a few numbers, not one per
 *   element. An emptied list goes (only once consistent, as HDEL's hash).
 */
import { type Bytes, fromBytes, toBytes } from "../../bytes";
import { type EffectCall, call, collectionFor, defineEffect, numberArg, pairsOf } from "../../replication/effect";
import type { Change } from "../../keyspace";
import type { ElementRow } from "../../storage";
import { compareFields } from "../../storage";
import { fieldOf, isPosition } from "./positions";

/** A position from an effect. @throws Error for one this code never writes (the replica resyncs) */
function position(b: Bytes): number {
  const p = numberArg(b);
  if (!isPosition(p)) throw new Error(`replication: bad list position ${fromBytes(b)}`);
  return p;
}

/** LPUT key pos value [pos value ...], as (position, value). */
export const lput = defineEffect<readonly (readonly [number, Bytes])[]>({
  name: "LPUT",
  rows: 6,
  scope: "element",
  group: 2,
  encode: (items) => items.flatMap(([p, v]) => [String(p), v]),
  decode: (args) => pairsOf(args, (p, v) => [position(p), v] as const),
  example: [[1024, toBytes("x")], [2048, toBytes("\x00")]],
  apply: (change, key, items, at, current) => {
    const header = collectionFor(change, key, "list", current, at);
    if (header === null) return;
    let count = header.count ?? 0;
    for (const [score, value] of items) {
      const field = fieldOf(score);
      const element = change.element(header.eid!, field);
      if (element !== null && (element.mod ?? 0) >= at) continue;
      if (element === null) count++;
      change.setElement(header.eid!, field, { value, score, mod: at });
    }
    change.writeAsTold(key, { ...header, count }, Math.max(header.mod ?? 0, at));
  },
});

/** LDEL key from to [from to ...]: inclusive position ranges. */
export const ldel = defineEffect<readonly (readonly [number, number])[]>({
  name: "LDEL",
  rows: 0,
  scope: "element",
  group: 2,
  encode: (ranges) => ranges.flatMap(([a, b]) => [String(a), String(b)]),
  decode: (args) => pairsOf(args, (a, b) => [position(a), position(b)] as const),
  example: [[1024, 2048]],
  apply: (change, key, ranges, at, current, fuzzy) => {
    if (current === null || current.type !== "list" || current.eid === undefined) return;
    let count = current.count ?? 0;
    for (const [from, to] of ranges) {
      const doomed = inRange(change, current.eid, from, to);
      for (const el of doomed) {
        if ((el.mod ?? 0) >= at) continue;
        change.setElement(current.eid, el.field, null, el);
        count--;
      }
    }
    if (count <= 0 && !fuzzy) {
      change.dropElements(current.eid);
      change.writeAsTold(key, null, at);
    } else change.writeAsTold(key, { ...current, count: Math.max(count, 0) }, Math.max(current.mod ?? 0, at));
  },
});

/**
 * The elements of `eid` at positions from..to, as `change` sees them, read in pages that grow
 * from a few rows (a pop's range holds one element or a few).
 */
function inRange(change: Change, eid: number, from: number, to: number): ElementRow[] {
  const out: ElementRow[] = [];
  const last = fieldOf(to);
  for (let after: string | null = fieldOf(from - 1), size = 4; after !== null; size = Math.min(256, size * 4)) {
    const { rows, next } = change.elementsPage(eid, after, size);
    for (const row of rows) {
      if (compareFields(row.field, last) > 0) return out;
      out.push(row);
    }
    after = next;
  }
  return out;
}

export const listEffects = [lput, ldel];

/** A list written whole, positions kept: one LPUT (logged in pieces of a bounded size, `splitEffect`). */
export function restoreList(elements: readonly ElementRow[]): EffectCall[] {
  return [call(lput, elements.map((el) => [el.score!, el.value] as const))];
}
