/**
 * Set algebra in SQL (SUNION, SINTERSTORE, ZUNIONSTORE, SINTERCARD ...; see engine/types/algebra.ts
 * for the semantics): one statement over the inputs' element rows, whose result is written as a
 * new collection (`INSERT ... SELECT`), read back, or counted, so a union of two 100k-member sets
 * never passes through JavaScript element by element.
 *
 * Sorted-set results are computed as Redis does for up to two inputs (in order of size, each
 * score times its weight with NaN as 0, combined by SUM, MIN or MAX, a SUM's NaN as 0): with more,
 * a sum's rounding depends on the order Redis adds in, which one SQL aggregate does not promise,
 * so `combine` answers null and the engine computes it.
 */
import type { ElementRow } from "../engine/storage";
import type { Combine, Combined } from "../engine/types/algebra";
import { type Row, type Sql, str } from "./sql";

/** A number as an SQL literal SQLite reads back exactly, infinities included (9e999 overflows to Inf). */
const literal = (n: number): string => (Number.isFinite(n) ? String(n) : n > 0 ? "9e999" : "-9e999");

/** The SELECT (field, score) of a combination over stored inputs, or null when it is not done in SQL. */
function select(c: Combine): string | null {
  const inputs = c.inputs;
  // A weighted score of input `i` read through alias `t`: NaN (inf times 0) is 0, as in Redis.
  const weighted = (i: number, t: string) => `coalesce(${inputs[i]!.scored ? `${t}.score` : "1.0"} * ${literal(inputs[i]!.weight)}, 0)`;
  const scoreOf = (i: number, t: string) => (c.result === "set" ? "NULL" : weighted(i, t));
  const present = inputs.map((i, n) => ({ ...i, n })).filter((i) => i.eid !== null);
  const empty = "SELECT NULL AS field, NULL AS score WHERE 0";
  if (c.op === "diff") {
    const [first, ...others] = inputs;
    if (first!.eid === null) return empty;
    const rest = [...new Set(others.filter((o) => o.eid !== null).map((o) => o.eid!))];
    const none = rest.length === 0 ? "" : ` AND NOT EXISTS (SELECT 1 FROM elements AS b WHERE b.eid IN (${rest.join(", ")}) AND b.field = a.field)`;
    // ZDIFF keeps the first set's own scores (no weights).
    const score = c.result === "set" ? "NULL" : inputs[0]!.scored ? "a.score" : "1.0";
    return `SELECT a.field AS field, ${score} AS score FROM elements AS a WHERE a.eid = ${first!.eid}${none}`;
  }
  if (c.result === "set") {
    const eids = [...new Set(present.map((i) => i.eid!))];
    if (c.op === "union") return eids.length === 0 ? empty : `SELECT DISTINCT field, NULL AS score FROM elements WHERE eid IN (${eids.join(", ")})`;
    if (present.length < inputs.length) return empty;
    // From the smallest, each member looked up in the others.
    const [smallest, ...others] = [...new Set([...present].sort((a, b) => a.size - b.size).map((i) => i.eid!))];
    const all = others.map((eid) => ` AND EXISTS (SELECT 1 FROM elements AS b WHERE b.eid = ${eid} AND b.field = a.field)`).join("");
    return `SELECT a.field AS field, NULL AS score FROM elements AS a WHERE a.eid = ${smallest}${all}`;
  }
  if (inputs.length > 2) return null;
  // In order of size, as Redis combines them (stable: the first of equal sizes first).
  const [a, b] = [...inputs.map((i, n) => ({ ...i, n }))].sort((x, y) => x.size - y.size);
  const combine = (x: string, y: string) =>
    c.aggregate === "sum" ? `coalesce(${x} + ${y}, 0)` : `${c.aggregate}(${x}, ${y})`;
  if (c.op === "inter") {
    if (present.length < inputs.length) return empty;
    if (b === undefined) return `SELECT a.field AS field, ${scoreOf(a!.n, "a")} AS score FROM elements AS a WHERE a.eid = ${a!.eid}`;
    return `SELECT a.field AS field, ${combine(weighted(a!.n, "a"), weighted(b.n, "b"))} AS score
            FROM elements AS a JOIN elements AS b ON b.eid = ${b.eid} AND b.field = a.field WHERE a.eid = ${a!.eid}`;
  }
  const only = present.map((i) => i);
  if (only.length === 0) return empty;
  if (only.length === 1) return `SELECT a.field AS field, ${weighted(only[0]!.n, "a")} AS score FROM elements AS a WHERE a.eid = ${only[0]!.eid}`;
  return `SELECT u.field AS field,
            CASE WHEN b.field IS NULL THEN ${weighted(a!.n, "a")} WHEN a.field IS NULL THEN ${weighted(b!.n, "b")}
                 ELSE ${combine(weighted(a!.n, "a"), weighted(b!.n, "b"))} END AS score
          FROM (SELECT field FROM elements WHERE eid = ${a!.eid} UNION SELECT field FROM elements WHERE eid = ${b!.eid}) AS u
          LEFT JOIN elements AS a ON a.eid = ${a!.eid} AND a.field = u.field
          LEFT JOIN elements AS b ON b.eid = ${b!.eid} AND b.field = u.field`;
}

/** Runs a combination in SQL, or answers null when it is not one done there (see `select`). */
export function combineInSql(sql: Sql, c: Combine): Combined | null {
  const query = select(c);
  if (query === null) return null;
  const limit = c.limit !== undefined && c.limit > 0 ? ` LIMIT ${c.limit}` : "";
  if (c.into !== undefined) {
    sql.exec(
      `INSERT INTO elements (eid, field, value, score, mod_offset) SELECT ${c.into.eid}, field, x'', score, ${c.into.mod} FROM (${query})${limit}`,
    );
    const m = sql.first<{ n: number; b: number }>(
      "SELECT count(*) AS n, coalesce(sum(length(field) + length(value)), 0) AS b FROM elements WHERE eid = ?",
      c.into.eid,
    )!;
    return { count: m.n, bytes: m.b, rows: null };
  }
  if (c.countOnly) return { count: sql.first<{ n: number }>(`SELECT count(*) AS n FROM (${query}${limit})`)!.n, bytes: 0, rows: null };
  const order = c.result === "zset" ? " ORDER BY score, field" : " ORDER BY field";
  const rows: ElementRow[] = sql
    .exec<Row>(`SELECT field, score FROM (${query})${order}${limit}`)
    .toArray()
    .map((r) => ({ field: str(r.field), score: r.score as number | null, value: new Uint8Array(0) }));
  return { count: rows.length, bytes: 0, rows };
}
