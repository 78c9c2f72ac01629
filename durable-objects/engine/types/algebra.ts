/**
 * Set algebra over sets and sorted sets (Redis's t_set.c sinterGenericCommand... and t_zset.c
 * zunionInterDiffGenericCommand): SUNION, SINTER, SDIFF and their STORE and CARD forms, ZUNION,
 * ZINTER, ZDIFF likewise. The storage computes it itself when every input is as stored (SQLite: one
 * statement, the result written with INSERT ... SELECT, sqlite/algebra.ts); otherwise (inputs this
 * change wrote, a storage that does not) the engine computes it here, by the same rules:
 *
 * - a plain set's members score 1 in a sorted-set operation; a missing key is the empty set;
 * - sorted-set scores: each input's score times its weight (NaN, from inf times 0, is 0), combined
 *   in order of the inputs' sizes, smallest first, by SUM (a NaN sum is 0), MIN or MAX;
 * - an intersection walks the smallest input; a difference keeps the first input's own scores;
 * - results come in member order (sets) or (score, member) order (sorted sets).
 *
 * A *STORE is replicated as one STORE effect naming its inputs (the replica computes the same from
 * the same data, as Redis propagates the command itself), so its cost on every node follows its
 * inputs and nothing of the result crosses the log; while a replica loads a full sync it is logged
 * as DEL and the result's members instead (see replication/protocol.ts: such a replica cannot compute it).
 */
import { fromBytes } from "../bytes";
import { EMPTY, FullSyncNeeded, defineEffect, numberArg, pairsOf } from "../replication/effect";
import type { Change } from "../keyspace";
import { ELEMENT_OVERHEAD, datasetSize } from "../sizes";
import { type ElementRow, compareFields } from "../storage";
import { compareZset } from "./zset/range";
import { sadd } from "./set/effects";
import { zadd } from "./zset/effects";

/** A union, intersection or difference of stored collections (see types/algebra.ts). */
export interface Combine {
  readonly op: "union" | "inter" | "diff";
  /** Each input: its collection (null: a missing key, the empty set), weight, whether it has scores (a sorted set), size. */
  readonly inputs: readonly { readonly eid: number | null; readonly weight: number; readonly scored: boolean; readonly size: number }[];
  readonly aggregate: "sum" | "min" | "max";
  /** A set's members (no scores) or a sorted set's (with them). */
  readonly result: "set" | "zset";
  /** Written as collection `eid`, each element stamped `mod`; else read back (or counted). */
  readonly into?: { readonly eid: number; readonly mod: number };
  /** At most this many (0 or absent: all). */
  readonly limit?: number;
  readonly countOnly?: boolean;
}

/** A combination's size, its elements' bytes (written), and its rows (read; sorted sets in (score, member) order, sets by member). */
export interface Combined {
  readonly count: number;
  readonly bytes: number;
  readonly rows: ElementRow[] | null;
}

/**
 * Set algebra done by the storage itself (Storage.indexes.algebra; SQLite: one statement, see
 * sqlite/algebra.ts).
 */
export interface AlgebraStore {
  /**
   * Set algebra done by the storage itself (SQLite: one statement, see sqlite/algebra.ts), or null
   * where it does not (the engine computes it: types/algebra.ts, whose semantics this follows).
   */
  combine(spec: Combine): Combined | null;
}

export type Operation = Combine["op"];
export type Aggregate = Combine["aggregate"];
export type Operand = Combine["inputs"][number];

/** What a combination is, before it is read, counted or stored. */
export interface Algebra {
  readonly op: Operation;
  readonly inputs: readonly Operand[];
  readonly aggregate: Aggregate;
  readonly result: "set" | "zset";
}

/** The input at a key: its collection if any (plain sets and sorted sets alike), or the empty set. */
export function operand(db: Change, key: string, weight = 1, counted = true): Operand {
  const e = counted ? db.lookup(key) : db.peek(key);
  if (e === null || e.eid === undefined) return { eid: null, weight, scored: false, size: 0 };
  return { eid: e.eid, weight, scored: e.type === "zset", size: e.count ?? 0 };
}

/** The result's members (and scores), in member or (score, member) order; with `limit`, the first that many. */
export function combineRows(db: Change, a: Algebra, limit = 0): ElementRow[] {
  const stored = db.combineStored({ ...a, limit });
  if (stored?.rows) return stored.rows;
  const rows = compute(db, a, limit);
  return limit > 0 ? rows.slice(0, limit) : rows;
}

/** How many members the result has (an intersection stops counting at `limit` when > 0). */
export function combineCount(db: Change, a: Algebra, limit = 0): number {
  return db.combineStored({ ...a, limit, countOnly: true })?.count ?? compute(db, a, limit).length;
}

/**
 * Writes the result as `dest` (whatever was there goes, an empty result leaves no key): compact,
 * as one STORE effect of `keys` (the inputs' keys, with their weights), or else as DEL and the
 * members. @returns the result's size
 */
export function combineStore(db: Change, dest: string, a: Algebra, keys: readonly string[], compact: boolean): number {
  if (compact) {
    db.apply(store, dest, { result: a.result, op: a.op, aggregate: a.aggregate, inputs: keys.map((k, i) => [k, a.inputs[i]!.weight] as const) });
    return db.peek(dest)?.count ?? 0;
  }
  const rows = combineRows(db, a);
  db.delete(dest);
  if (rows.length === 0) return 0;
  if (a.result === "set") db.apply(sadd, dest, rows.map((r) => r.field));
  else db.apply(zadd, dest, rows.map((r) => [r.field, (r.score ?? 0) + 0] as const));
  return rows.length;
}

/** Writes the result under `dest` without recording an effect (the STORE effect's work, on every node). */
function storeResult(db: Change, dest: string, a: Algebra, mod: number): number {
  const eid = db.newEid();
  const stored = db.combineStored({ ...a, into: { eid, mod } });
  let count: number;
  let bytes: number;
  if (stored !== null) {
    count = stored.count;
    bytes = datasetSize({ count: stored.count, bytes: stored.bytes }, ELEMENT_OVERHEAD);
  } else {
    const rows = compute(db, a, 0);
    for (const r of rows) db.setElement(eid, r.field, { value: EMPTY, score: a.result === "zset" ? (r.score ?? 0) + 0 : null, mod });
    count = rows.length;
    bytes = 0; // grown by setElement
  }
  // An empty result deletes what was there: a `del` for keyspace notifications (engine/notify.ts).
  if (count === 0 && db.peek(dest) !== null) db.events.push({ cls: "g", event: "del", key: dest });
  if (count === 0) db.adopt(dest, null);
  else db.adopt(dest, { type: a.result, value: EMPTY, expiresAt: null, eid, count }, stored !== null ? bytes : undefined);
  return count;
}

/** A *STORE as its effect carries it: how, and its inputs' keys with their weights. */
interface StoreArgs {
  readonly result: "set" | "zset";
  readonly op: Operation;
  readonly aggregate: Aggregate;
  readonly inputs: readonly (readonly [string, number])[];
}

/**
 * STORE dest set|zset union|inter|diff sum|min|max n key weight ...: a *STORE, as its inputs and
 * how. Applied by reading the inputs as this node stores them (a replica consistent at the
 * effect's offset holds what the master held), whatever their deadlines (the master logged a DEL
 * before it for any it found expired).
 */
export const store = defineEffect<StoreArgs>({
  name: "STORE",
  rows: 1,
  scope: "key",
  encode: ({ result, op, aggregate, inputs }) => [result, op, aggregate, String(inputs.length), ...inputs.flatMap(([k, w]) => [k, String(w)])],
  decode: (args) => {
    const [result, op, aggregate, n] = args.slice(0, 4).map(fromBytes);
    const inputs = pairsOf(args.slice(4, 4 + 2 * Number(n)), (k, w) => [fromBytes(k), numberArg(w)] as const);
    return { result: result as "set" | "zset", op: op as Operation, aggregate: aggregate as Aggregate, inputs };
  },
  example: { result: "zset", op: "union", aggregate: "sum", inputs: [["a", 1], ["b", 2.5]] },
  apply: (change, dest, { result, op, aggregate, inputs }, at, _current, fuzzy) => {
    if (fuzzy) throw new FullSyncNeeded(`STORE at ${at} in a keyspace still mixing snapshot chunks`);
    const operands = inputs.map(([k, w]) => operand(change, k, w, false));
    storeResult(change, dest, { op, aggregate, result, inputs: operands }, at);
    // The destination is stamped with the effect's offset (Change.writeAsTold keeps what it wrote).
    const e = change.peek(dest);
    if (e !== null) change.writeAsTold(dest, e, at);
    else change.writeAsTold(dest, null, at);
  },
});

// ---- Computed here ---------------------------------------------------------------------------

/** Each input's members and scores (a plain set's score 1), read through the change. */
function members(db: Change, o: Operand): ElementRow[] {
  if (o.eid === null) return [];
  return db.allElements(o.eid).map((el) => (o.scored ? el : { ...el, score: 1 }));
}

function scoreIn(db: Change, o: Operand, field: string): number | null {
  if (o.eid === null) return null;
  const el = db.element(o.eid, field);
  return el === null ? null : o.scored ? (el.score ?? 0) : 1;
}

/** A score times its weight; NaN (inf times 0) is 0. */
const weighted = (score: number, weight: number) => {
  const w = score * weight;
  return Number.isNaN(w) ? 0 : w;
};

/** Two weighted scores combined; a NaN sum (inf plus -inf) is 0. */
function aggregate(target: number, value: number, how: Aggregate): number {
  if (how === "min") return Math.min(target, value);
  if (how === "max") return Math.max(target, value);
  const sum = target + value;
  return Number.isNaN(sum) ? 0 : sum;
}

/** The combination computed element by element (see the module's comment for the rules). */
function compute(db: Change, a: Algebra, limit: number): ElementRow[] {
  const { inputs } = a;
  const bySize = [...inputs].sort((x, y) => x.size - y.size);
  const out: ElementRow[] = [];
  const row = (field: string, score: number): ElementRow => ({ field, score: a.result === "zset" ? score : null, value: EMPTY });
  if (a.op === "diff") {
    const [first, ...others] = inputs;
    for (const el of members(db, first!)) if (others.every((o) => scoreIn(db, o, el.field) === null)) out.push(row(el.field, el.score ?? 0));
  } else if (a.op === "inter") {
    const [smallest, ...others] = bySize;
    if (inputs.some((o) => o.eid === null)) return [];
    for (const el of members(db, smallest!)) {
      let score = weighted(el.score ?? 0, smallest!.weight);
      const inAll = others.every((o) => {
        const s = scoreIn(db, o, el.field);
        if (s === null) return false;
        score = aggregate(score, weighted(s, o.weight), a.aggregate);
        return true;
      });
      if (!inAll) continue;
      out.push(row(el.field, score));
      if (limit > 0 && out.length >= limit) break;
    }
  } else {
    const scores = new Map<string, number>();
    for (const o of bySize)
      for (const el of members(db, o)) {
        const s = weighted(el.score ?? 0, o.weight);
        const before = scores.get(el.field);
        scores.set(el.field, before === undefined ? s : aggregate(before, s, a.aggregate));
      }
    for (const [field, score] of scores) out.push(row(field, score));
  }
  return out.sort(a.result === "zset" ? compareZset : (x, y) => compareFields(x.field, y.field));
}
