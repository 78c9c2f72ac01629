/**
 * The elements table: one row per element of a collection, keyed by (eid, field), and
 * `elements_by_score` for sorted sets (see migrations.ts, v3 and v4).
 */
import { type Element, type ElementTable } from "../engine/storage";
import { type ZsetRange } from "../engine/types/zset/range";
import { orderKey } from "../engine/types/order";
import { combineInSql } from "./algebra";
import { Ranks } from "./ranks";
import { type Row, type Sql, bin, blob, count, str } from "./sql";

/**
 * The table that holds the elements of `eid`: a paged string's pages (a negative id, see
 * engine/keyspace/pages.ts) are in `pages`, which has no score index and no rank index.
 */
const tableOf = (eid: number): string => (eid < 0 ? "pages" : "elements");

/** A dropped collection up to this size is deleted at once; a larger one is purged in the background. */
const DROP_AT_ONCE = 64;

/**
 * The elements' statements; `ranks` is the rank index they keep up to date (an element written
 * into an indexed collection is read first, to know whether it is new or moves).
 */
export function sqlElements(sql: Sql, ranks: Ranks): ElementTable {
  const scoreOf = (eid: number, field: string) => sql.first<{ score: number | null }>("SELECT score FROM elements WHERE eid = ? AND field = ?", eid, bin(field));
  return {
    get: (eid, field) => {
      const row = sql.first(`SELECT value, score, mod_offset, expires_at FROM ${tableOf(eid)} WHERE eid = ? AND field = ?`, eid, bin(field));
      return row ? toElement(row) : null;
    },
    put: (eid, field, e) => {
      const indexed = eid < 0 ? null : ranks.meta(eid);
      const before = indexed && scoreOf(eid, field);
      sql.exec(
        `INSERT INTO ${tableOf(eid)} (eid, field, value, score, mod_offset, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(eid, field) DO UPDATE SET value = excluded.value, score = excluded.score, mod_offset = excluded.mod_offset,
           expires_at = excluded.expires_at`,
        eid,
        bin(field),
        blob(e.value),
        e.score,
        e.mod ?? 0,
        e.expiresAt ?? null,
      );
      if (!indexed) return;
      const key = orderKey(field, e.score, indexed.byScore);
      if (before === null) ranks.inserted(eid, key);
      else if (indexed.byScore && before.score !== e.score) {
        ranks.deleted(eid, orderKey(field, before.score, true));
        ranks.inserted(eid, key);
      }
    },
    delete: (eid, field) => {
      const indexed = eid < 0 ? null : ranks.meta(eid);
      const before = indexed && scoreOf(eid, field);
      sql.exec(`DELETE FROM ${tableOf(eid)} WHERE eid = ? AND field = ?`, eid, bin(field));
      if (indexed && before) ranks.deleted(eid, orderKey(field, before.score, indexed.byScore));
    },
    page: (eid, after, limit) =>
      (after === null
        ? sql.exec(`SELECT field, value, score, mod_offset, expires_at FROM ${tableOf(eid)} WHERE eid = ? ORDER BY field LIMIT ?`, eid, count(limit))
        : sql.exec(`SELECT field, value, score, mod_offset, expires_at FROM ${tableOf(eid)} WHERE eid = ? AND field > ? ORDER BY field LIMIT ?`, eid, bin(after), count(limit))
      )
        .toArray()
        .map((row) => ({ field: str(row.field), ...toElement(row) })),
    listPageBackward: (eid, before, limit) =>
      (before === null
        ? sql.exec(`SELECT field, value, score, mod_offset, expires_at FROM ${tableOf(eid)} WHERE eid = ? ORDER BY field DESC LIMIT ?`, eid, count(limit))
        : sql.exec(`SELECT field, value, score, mod_offset, expires_at FROM ${tableOf(eid)} WHERE eid = ? AND field < ? ORDER BY field DESC LIMIT ?`, eid, bin(before), count(limit))
      )
        .toArray()
        .map((row) => ({ field: str(row.field), ...toElement(row) })),
    count: (eid) => sql.first<{ n: number }>(`SELECT count(*) AS n FROM ${tableOf(eid)} WHERE eid = ?`, eid)!.n,
    measure: (eid) => {
      const row = sql.first<{ n: number; b: number }>(
        `SELECT count(*) AS n, coalesce(sum(length(field) + length(value)), 0) AS b FROM ${tableOf(eid)} WHERE eid = ?`,
        eid,
      )!;
      return { count: row.n, bytes: row.b };
    },
    drop: (eid) => {
      const later = deleteElements(sql, eid, DROP_AT_ONCE + 1) > DROP_AT_ONCE;
      if (later) sql.exec("INSERT OR IGNORE INTO dropped (eid) VALUES (?)", eid);
      // The index's rows go with the elements: now, or when the purge has taken the last of them.
      if (eid > 0) ranks.drop(eid, !later);
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
        if (n < want) {
          sql.exec("DELETE FROM dropped WHERE eid = ?", next.eid);
          sql.exec("DELETE FROM ranks WHERE eid = ?", next.eid);
        }
      }
      return deleted;
    },
    // Elements go in bulk (a replica's full sync): the index is made again once settled.
    deleteWrittenBefore: (eid, offset) => {
      sql.exec(`DELETE FROM ${tableOf(eid)} WHERE eid = ? AND mod_offset < ?`, eid, offset);
      if (eid > 0) ranks.drop(eid, true);
    },
    clear: () => {
      sql.exec("DELETE FROM elements");
      sql.exec("DELETE FROM pages");
      sql.exec("DELETE FROM dropped");
      ranks.clear();
    },
    rank: (eid, key, byScore) => ranks.rank(eid, key, byScore),
    select: (eid, picks, byScore) => ranks.select(eid, picks, byScore),
    scan: (eid, key, reverse, limit, byScore) => {
      const [cmp, by, args] = byScore
        ? [`(score, field) ${reverse ? "<=" : ">="} (?, ?)`, `score ${reverse ? "DESC" : ""}, field ${reverse ? "DESC" : ""}`, [key.score, bin(key.field)]]
        : [`field ${reverse ? "<=" : ">="} ?`, `field ${reverse ? "DESC" : ""}`, [bin(key.field)]];
      return sql
        .exec(`SELECT field, value, score, mod_offset, expires_at FROM elements WHERE eid = ? AND ${cmp} ORDER BY ${by} LIMIT ?`, eid, ...args, count(limit))
        .toArray()
        .map((row) => ({ field: str(row.field), ...toElement(row) }));
    },
    match: (eid, value, reverse, skip, limit, bound, byScore) => {
      const dir = reverse ? "DESC" : "";
      const [by, before, args] = byScore
        ? [`score ${dir}, field ${dir}`, `(score, field) ${reverse ? ">" : "<"} (?, ?)`, bound ? [bound.score, bin(bound.field)] : []]
        : [`field ${dir}`, `field ${reverse ? ">" : "<"} ?`, bound ? [bin(bound.field)] : []];
      return sql
        .exec(
          `SELECT field, value, score, mod_offset FROM elements WHERE eid = ? AND value = ?${bound ? ` AND ${before}` : ""} ORDER BY ${by} LIMIT ? OFFSET ?`,
          eid,
          blob(value),
          ...args,
          count(limit),
          count(skip),
        )
        .toArray()
        .map((row) => ({ field: str(row.field), ...toElement(row) }));
    },
    // On elements_expiry (eid, expires_at): as many rows read as returned.
    fieldDeadlines: (eid, after, until, limit) =>
      sql.exec(
        `SELECT field, expires_at FROM elements WHERE eid = ? AND expires_at IS NOT NULL${after === null ? "" : " AND expires_at > ?"}${until === null ? "" : " AND expires_at <= ?"}
         ORDER BY expires_at LIMIT ?`,
        eid,
        ...(after === null ? [] : [after]),
        ...(until === null ? [] : [until]),
        count(limit),
      )
        .toArray()
        .map((row) => ({ field: str(row.field), expiresAt: row.expires_at as number })),
    // A paged string's pages (a negative id) have no rank index.
    plan: (eid, writes, count) => void (eid > 0 && ranks.plan(eid, writes, count)),
    settle: (eid, count, byScore) => void (eid > 0 && ranks.settle(eid, count, byScore)),
    combine: (spec) => combineInSql(sql, spec),
    copyElements: (from, into, mod) => {
      sql.exec(
        `INSERT INTO ${tableOf(into)} (eid, field, value, score, mod_offset, expires_at) SELECT ?, field, value, score, ?, expires_at FROM ${tableOf(from)} WHERE eid = ?`,
        into,
        mod,
        from,
      );
      return true;
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
        count(limit),
        count(offset),
      )
        .toArray()
        .map((row) => ({ field: str(row.field), ...toElement(row) }));
    },
    zsetCount: (eid, range) => {
      const where = zsetWhere(range);
      return sql.first<{ n: number }>(`SELECT count(*) AS n FROM elements WHERE eid = ?${where.sql}`, eid, ...where.params)!.n;
    },
  };
}

/** Deletes up to `limit` elements of `eid`; answers how many. */
function deleteElements(sql: Sql, eid: number, limit: number): number {
  const table = tableOf(eid);
  sql.exec(`DELETE FROM ${table} WHERE eid = ? AND field IN (SELECT field FROM ${table} WHERE eid = ? ORDER BY field LIMIT ?)`, eid, eid, limit);
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
    if (typeof min === "object") add(`field ${min.ex ? ">" : ">="} ?`, bin(min.value));
    if (typeof max === "object") add(`field ${max.ex ? "<" : "<="} ?`, bin(max.value));
  }
  return { sql, params };
}

function toElement(row: Row): Element {
  const e: Element = { value: new Uint8Array(row.value as ArrayBuffer), score: row.score as number | null, mod: row.mod_offset as number };
  return row.expires_at == null ? e : { ...e, expiresAt: row.expires_at as number };
}
