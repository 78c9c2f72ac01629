/**
 * The elements table: one row per element of a collection, keyed by (eid, field), and
 * `elements_by_score` for sorted sets (see migrations.ts, v3 and v4).
 */
import type { Element, ElementStore, ZsetRange } from "../engine/storage";
import { type Row, type Sql, blob } from "./sql";

/** A dropped collection up to this size is deleted at once; a larger one is purged in the background. */
const DROP_AT_ONCE = 64;

export function sqlElements(sql: Sql): ElementStore {
  return {
    get: (eid, field) => {
      const row = sql.first("SELECT value, score, mod_offset FROM elements WHERE eid = ? AND field = ?", eid, field);
      return row ? toElement(row) : null;
    },
    put: (eid, field, e) =>
      void sql.exec(
        `INSERT INTO elements (eid, field, value, score, mod_offset) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(eid, field) DO UPDATE SET value = excluded.value, score = excluded.score, mod_offset = excluded.mod_offset`,
        eid,
        field,
        blob(e.value),
        e.score,
        e.mod ?? 0,
      ),
    delete: (eid, field) => void sql.exec("DELETE FROM elements WHERE eid = ? AND field = ?", eid, field),
    page: (eid, after, limit) =>
      (after === null
        ? sql.exec("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? ORDER BY field LIMIT ?", eid, limit)
        : sql.exec("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? AND field > ? ORDER BY field LIMIT ?", eid, after, limit)
      )
        .toArray()
        .map((row) => ({ field: row.field as string, ...toElement(row) })),
    at: (eid, index) => {
      const row = sql.first("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? ORDER BY field LIMIT 1 OFFSET ?", eid, index);
      return row ? { field: row.field as string, ...toElement(row) } : null;
    },
    listPageBackward: (eid, before, limit) =>
      (before === null
        ? sql.exec("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? ORDER BY field DESC LIMIT ?", eid, limit)
        : sql.exec("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? AND field < ? ORDER BY field DESC LIMIT ?", eid, before, limit)
      )
        .toArray()
        .map((row) => ({ field: row.field as string, ...toElement(row) })),
    listAtFromEnd: (eid, index) => {
      const row = sql.first("SELECT field, value, score, mod_offset FROM elements WHERE eid = ? ORDER BY field DESC LIMIT 1 OFFSET ?", eid, index);
      return row ? { field: row.field as string, ...toElement(row) } : null;
    },
    count: (eid) => sql.first<{ n: number }>("SELECT count(*) AS n FROM elements WHERE eid = ?", eid)!.n,
    measure: (eid) => {
      const row = sql.first<{ n: number; b: number }>(
        "SELECT count(*) AS n, coalesce(sum(length(CAST(field AS BLOB)) + length(value)), 0) AS b FROM elements WHERE eid = ?",
        eid,
      )!;
      return { count: row.n, bytes: row.b };
    },
    drop: (eid) => {
      if (deleteElements(sql, eid, DROP_AT_ONCE + 1) > DROP_AT_ONCE) sql.exec("INSERT OR IGNORE INTO dropped (eid) VALUES (?)", eid);
    },
    purgePending: () => sql.first("SELECT 1 AS x FROM dropped LIMIT 1") !== null,
    purge: (limit) => {
      let deleted = 0;
      while (deleted < limit) {
        const next = sql.first<{ eid: number }>("SELECT eid FROM dropped LIMIT 1");
        if (!next) break;
        const want = limit - deleted;
        const n = deleteElements(sql, next.eid, want);
        deleted += n;
        if (n < want) sql.exec("DELETE FROM dropped WHERE eid = ?", next.eid);
      }
      return deleted;
    },
    deleteWrittenBefore: (eid, offset) => void sql.exec("DELETE FROM elements WHERE eid = ? AND mod_offset < ?", eid, offset),
    clear: () => {
      sql.exec("DELETE FROM elements");
      sql.exec("DELETE FROM dropped");
    },
    // Sorted sets: each query is a range of elements_by_score (eid, score, field); an OFFSET or a
    // count walks the entries it skips or counts, so a rank costs as much as the rank is large.
    zsetRange: (eid, range, reverse, offset, limit) => {
      const where = zsetWhere(range);
      const dir = reverse ? "DESC" : "ASC";
      return sql.exec(
        `SELECT field, value, score, mod_offset FROM elements WHERE eid = ?${where.sql} ORDER BY score ${dir}, field ${dir} LIMIT ? OFFSET ?`,
        eid,
        ...where.params,
        limit < 0 ? -1 : limit,
        offset,
      )
        .toArray()
        .map((row) => ({ field: row.field as string, ...toElement(row) }));
    },
    zsetCount: (eid, range) => {
      const where = zsetWhere(range);
      return sql.first<{ n: number }>(`SELECT count(*) AS n FROM elements WHERE eid = ?${where.sql}`, eid, ...where.params)!.n;
    },
    zsetCountBefore: (eid, score, field) => {
      // Two index ranges (lower scores; the same score and a lower member) rather than an OR.
      const s = real(score);
      const below = sql.first<{ n: number }>(`SELECT count(*) AS n FROM elements WHERE eid = ? AND score < ${s.sql}`, eid, ...s.params)!.n;
      const tied = sql.first<{ n: number }>(
        `SELECT count(*) AS n FROM elements WHERE eid = ? AND score = ${s.sql} AND field < ?`,
        eid,
        ...s.params,
        field,
      )!.n;
      return below + tied;
    },
  };
}

/** Deletes up to `limit` elements of `eid`; answers how many. */
function deleteElements(sql: Sql, eid: number, limit: number): number {
  sql.exec("DELETE FROM elements WHERE eid = ? AND field IN (SELECT field FROM elements WHERE eid = ? ORDER BY field LIMIT ?)", eid, eid, limit);
  return sql.first<{ n: number }>("SELECT changes() AS n")!.n;
}

/** A score in SQL: infinities as literals SQLite reads as such (9e999 overflows to Inf), others as a parameter. */
function real(n: number): { sql: string; params: unknown[] } {
  if (n === Infinity) return { sql: "9e999", params: [] };
  if (n === -Infinity) return { sql: "-9e999", params: [] };
  return { sql: "?", params: [n] };
}

/** The WHERE conditions (after `eid = ?`) of a sorted set's range. */
function zsetWhere(range: ZsetRange): { sql: string; params: unknown[] } {
  let sql = "";
  const params: unknown[] = [];
  const add = (cond: string, ...p: unknown[]) => {
    sql += ` AND ${cond}`;
    params.push(...p);
  };
  if (range.by === "score") {
    const { min, max } = range;
    if (!(min.value === -Infinity && !min.ex)) {
      const v = real(min.value);
      add(`score ${min.ex ? ">" : ">="} ${v.sql}`, ...v.params);
    }
    if (!(max.value === Infinity && !max.ex)) {
      const v = real(max.value);
      add(`score ${max.ex ? "<" : "<="} ${v.sql}`, ...v.params);
    }
  } else if (range.by === "lex") {
    const { min, max } = range;
    if (min === "+" || max === "-") add("0");
    if (typeof min === "object") add(`field ${min.ex ? ">" : ">="} ?`, min.value);
    if (typeof max === "object") add(`field ${max.ex ? "<" : "<="} ?`, max.value);
  }
  return { sql, params };
}

function toElement(row: Row): Element {
  return { value: new Uint8Array(row.value as ArrayBuffer), score: row.score as number | null, mod: row.mod_offset as number };
}
