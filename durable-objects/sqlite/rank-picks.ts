/**
 * Reading the elements at given ranks once ranks.ts has found the leaf each falls in: one
 * statement for many picks. A pick is an offset from its leaf's key. SQLite takes no column in an
 * OFFSET, so the statement selects, by the offset, one of `maxOffset + 1` branches, each a seek to
 * the leaf's key and a walk over the (eid, score, field) index alone (an OFFSET over rows reads
 * each skipped row whole: 2.4 us a row, measured); then the element is read by its field. A
 * statement costs about 30 us in workerd, a pick about 10 (the walk 0.1 a step).
 */
import { toBytes } from "../engine/bytes";
import { type ElementRow } from "../engine/storage";
import { type OrderKey } from "../engine/types/order";
import { toHex } from "../engine/replication/snapshot-format";
import { type Row, type Sql, bin, str } from "./sql";

/** Leaves a pick statement seeks from in (score, field) order: their scores are bound, and SQLite binds at most 100 values. */
const LEAVES_PER_STATEMENT = 97;

/** A leaf some ranks fall in: its key, the rank of its first element, and those ranks (ascending). */
export interface LeafPicks {
  readonly key: OrderKey;
  readonly start: number;
  readonly ranks: readonly number[];
}

/**
 * The pick statement: ?1 is the collection, ?2 a JSON array of picks [field, offset, leaf] (the
 * leaf's key's field in hex, a BLOB's bytes; its index among the statement's leaves), and in (score, field) order each
 * leaf's score bound as a value from ?3 on, as SQLite's JSON reads numbers only within an ulp
 * (measured: 10% of random doubles differ), where a JSON string is the exact text.
 */
function pickQuery(byScore: boolean, maxOffset: number): string {
  const score = `CASE p.value->>2 ${Array.from({ length: LEAVES_PER_STATEMENT }, (_, k) => `WHEN ${k} THEN ?${3 + k}`).join(" ")} END`;
  const seek = byScore ? "(score, field) >= (x.s, x.f) ORDER BY score, field" : "score IS NULL AND field >= x.f ORDER BY field";
  const walk = Array.from(
    { length: maxOffset + 1 },
    (_, o) => `WHEN ${o} THEN (SELECT field FROM elements WHERE eid = ?1 AND ${seek} LIMIT 1 OFFSET ${o})`,
  ).join(" ");
  return `WITH x AS MATERIALIZED (SELECT p.key AS i, unhex(p.value->>0) AS f, p.value->>1 AS o${byScore ? `, ${score} AS s` : ""} FROM json_each(?2) AS p),
    y AS MATERIALIZED (SELECT i, CASE o ${walk} END AS field FROM x)
    SELECT y.i AS i, e.field, e.value, e.score, e.mod_offset FROM y JOIN elements AS e ON e.eid = ?1 AND e.field = y.field`;
}

/** The statements' text, made once per order and bound (the runtime prepares each text once). */
const queries = new Map<string, string>();
function queryFor(byScore: boolean, maxOffset: number): string {
  const id = `${byScore}:${maxOffset}`;
  let q = queries.get(id);
  if (q === undefined) queries.set(id, (q = pickQuery(byScore, maxOffset)));
  return q;
}

/**
 * The elements at the leaves' ranks, in rank order: by field, one statement; by score, one per
 * LEAVES_PER_STATEMENT leaves. An offset past `maxOffset` (a leaf larger than the index now
 * writes: written so by an older leaf size) gets a statement of its own.
 */
export function pickAt(sql: Sql, eid: number, leaves: readonly LeafPicks[], byScore: boolean, maxOffset: number): ElementRow[] {
  const out: (ElementRow | undefined)[] = [];
  const query = queryFor(byScore, maxOffset);
  const per = byScore ? LEAVES_PER_STATEMENT : leaves.length;
  for (let from = 0; from < leaves.length; from += per) {
    const part = leaves.slice(from, from + per);
    const base = out.length;
    const picks: [string, number, number][] = [];
    part.forEach((l, leaf) => {
      for (const r of l.ranks) {
        if (r - l.start > maxOffset) out[base + picks.length] = pickOne(sql, eid, l.key, r - l.start, byScore);
        picks.push([toHex(toBytes(l.key.field)), r - l.start, leaf]);
      }
    });
    const scores = byScore ? part.map((l) => l.key.score) : [];
    while (scores.length > 0 && scores.length < LEAVES_PER_STATEMENT) scores.push(0);
    out.length = base + picks.length;
    // Rows as arrays (i, field, value, score, mod_offset): no object per row.
    for (const [i, field, value, score, mod] of sql.exec(query, eid, JSON.stringify(picks), ...scores).raw())
      out[base + (i as number)] = { field: str(field), value: new Uint8Array(value as ArrayBuffer), score: score as number | null, mod: mod as number };
  }
  return out.filter((r) => r !== undefined);
}

/** The element `offset` places after `key` (or at it), by one statement of its own; undefined past the end. */
function pickOne(sql: Sql, eid: number, key: OrderKey, offset: number, byScore: boolean): ElementRow | undefined {
  const seek = byScore ? "(score, field) >= (?, ?) ORDER BY score, field" : "score IS NULL AND field >= ? ORDER BY field";
  const row = sql.first<Row>(
    `SELECT field, value, score, mod_offset FROM elements WHERE eid = ? AND field = (SELECT field FROM elements WHERE eid = ? AND ${seek} LIMIT 1 OFFSET ?)`,
    eid,
    eid,
    ...(byScore ? [key.score, bin(key.field)] : [bin(key.field)]),
    offset,
  );
  return row === null ? undefined : toRow(row);
}

/** An elements row as the storage answers it. */
export function toRow(row: Row): ElementRow {
  return { field: str(row.field), value: new Uint8Array(row.value as ArrayBuffer), score: row.score as number | null, mod: row.mod_offset as number };
}
