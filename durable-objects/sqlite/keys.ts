/**
 * The keyspace table: one row per key, keyed by its position (slot, key) without rowid (see
 * migrations.ts, v6), and the statements that read and write it.
 */
import { ENCODING_CODES, type Entry, type KeyTable, NO_FIELD_DEADLINE, TYPE_CODES, type ValueType, encodingNamed } from "../engine/storage";
import { type KeyPosition, hashSlotSpan, randomPoint, slotOf } from "../engine/slot";
import { type Row, type Sql, bin, blob, str } from "./sql";

/** Columns of a keyspace row after the position, in the order the v6 table and `load` use them. */
export const KEY_COLUMNS = "type, encoding, value, expires_at, mod_offset, eid, count, bytes, fields_expire_at";

const TYPE_NAMES = Object.fromEntries(Object.entries(TYPE_CODES).map(([name, code]) => [code, name])) as Record<
  number,
  ValueType
>;

/** Rows per multi-row INSERT of buffered keys (10 bound parameters each: within the 100 a statement may have). */
const PUT_ROWS = 10;
/** Keys per multi-row DELETE (2 bound parameters each). */
const DELETE_ROWS = 50;

/** The keyspace's statements, each written at once (`SqliteStorage` buffers and defers writes in front of them). */
export function sqlKeys(sql: Sql): KeyTable {
  return {
    get: (key) => {
      const row = sql.first(`SELECT ${KEY_COLUMNS} FROM keyspace WHERE slot = ? AND key = ?`, slotOf(key), bin(key));
      return row ? toEntry(row) : null;
    },
    put: (key, e) =>
      void sql.exec(
        `INSERT INTO keyspace (slot, key, ${KEY_COLUMNS}) VALUES (?, ?, ?, ${encodingOf(e)}, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(slot, key) DO UPDATE SET type = excluded.type, encoding = excluded.encoding,
           value = excluded.value, expires_at = excluded.expires_at, mod_offset = excluded.mod_offset,
           eid = excluded.eid, count = excluded.count, bytes = excluded.bytes, fields_expire_at = excluded.fields_expire_at`,
        slotOf(key),
        bin(key),
        ...keyValues(e),
      ),
    // A full sync's runs (engine/replication/sync.ts): bounds, collections and packed strings, each one
    // statement over a range of the table's own order.
    // Sizes summed as the rows come (the cursor reads no further than the loop asks).
    runEnd: (slot, afterKey, maxBytes, maxKeys) => {
      const cursor = sql.exec<{ slot: number; key: ArrayBuffer; size: number }>(
        `SELECT slot, key, length(key) + length(value) + 16 AS size FROM keyspace
         WHERE ${afterKey === null ? "slot >= ?" : "(slot, key) > (?, ?)"} ORDER BY slot, key LIMIT ?`,
        ...(afterKey === null ? [slot] : [slot, bin(afterKey)]),
        maxKeys,
      );
      let end: KeyPosition | null = null;
      let size = 0;
      for (const [s, k, n] of cursor.raw() as Iterable<[number, ArrayBuffer, number]>) {
        end = { slot: s, key: str(k) };
        size += n;
        if (size >= maxBytes) break;
      }
      return end;
    },
    collectionsUntil: (slot, afterKey, end) => {
      const range = runRange(slot, afterKey, end);
      return sql.exec(
        `SELECT slot, key, ${KEY_COLUMNS} FROM keyspace WHERE ${range.sql} AND eid IS NOT NULL ORDER BY slot, key`,
        ...range.params,
      )
        .toArray()
        .map((row) => ({ slot: row.slot as number, key: str(row.key), entry: toEntry(row) }));
    },
    packStrings: (slot, afterKey, end, now) => {
      const range = runRange(slot, afterKey, end);
      const row = sql.first(
        `SELECT CAST(json_group_array(json_array(slot, hex(key), hex(value), expires_at, encoding)) AS BLOB) AS packed, count(*) AS n,
           coalesce(sum(length(key) + length(value)), 0) AS bytes
         FROM (SELECT slot, key, value, expires_at, encoding FROM keyspace WHERE ${range.sql} AND eid IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY slot, key)`,
        ...range.params,
        now,
      )!;
      return { packed: new Uint8Array(row.packed as ArrayBuffer), count: row.n as number, bytes: row.bytes as number };
    },
    loadPacked: (packed, mod) =>
      void sql.exec(
        `INSERT OR REPLACE INTO keyspace (slot, key, type, encoding, value, expires_at, mod_offset)
         SELECT value ->> 0, unhex(value ->> 1), 0, coalesce(value ->> 4, 0), unhex(value ->> 2), value ->> 3, ? FROM json_each(CAST(? AS TEXT))`,
        mod,
        blob(packed),
      ),
    delete: (key) => void sql.exec("DELETE FROM keyspace WHERE slot = ? AND key = ?", slotOf(key), bin(key)),
    clear: () => void sql.exec("DELETE FROM keyspace"),
    deleteWrittenBefore: (offset) => void sql.exec("DELETE FROM keyspace WHERE mod_offset < ?", offset),
    scan: (slot, afterKey, limit, collections = false) => {
      const only = collections ? " AND eid IS NOT NULL" : "";
      return (
        afterKey === null
          ? sql.exec(`SELECT slot, key, ${KEY_COLUMNS} FROM keyspace WHERE slot >= ?${only} ORDER BY slot, key LIMIT ?`, slot, limit)
          : sql.exec(
              `SELECT slot, key, ${KEY_COLUMNS} FROM keyspace WHERE (slot, key) > (?, ?)${only} ORDER BY slot, key LIMIT ?`,
              slot,
              bin(afterKey),
              limit,
            )
      )
        .toArray()
        .map((row) => ({ slot: row.slot as number, key: str(row.key), entry: toEntry(row) }));
    },
    due: (now, limit) =>
      sql.exec(
        "SELECT key FROM keyspace WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?",
        now,
        limit,
      )
        .toArray()
        .map((row) => str(row.key)),
    dueFieldKeys: (now, limit) =>
      sql.exec("SELECT key FROM keyspace WHERE fields_expire_at IS NOT NULL AND fields_expire_at <= ? ORDER BY fields_expire_at LIMIT ?", now, limit)
        .toArray()
        .map((row) => str(row.key)),
    // Two index ends (each a minimum over its partial index).
    nextDeadline: () => {
      const keys = sql.first("SELECT min(expires_at) AS at FROM keyspace WHERE expires_at IS NOT NULL")?.at as number | null;
      const fields = sql.first("SELECT min(fields_expire_at) AS at FROM keyspace WHERE fields_expire_at IS NOT NULL AND fields_expire_at < ?", NO_FIELD_DEADLINE)?.at as number | null;
      return keys == null ? (fields ?? null) : fields == null ? keys : Math.min(keys, fields);
    },
    // The span of slots held (two index ends: a shard holds some hash slots only), the hash slot
    // of the first key at or after a point in it, then the first key at or after a point of that
    // hash slot: a few rows read whatever the keyspace's size.
    random: (r, within) => {
      // Each end its own subquery: SQLite reads a lone min() or max() off the index's end, but both in one scan the table.
      const span = sql.first("SELECT (SELECT min(slot) FROM keyspace) AS low, (SELECT max(slot) FROM keyspace) AS high");
      if (span?.low == null) return null;
      const at = randomPoint(span.low as number, span.high as number, r);
      const hit = sql.first("SELECT slot FROM keyspace WHERE slot >= ? ORDER BY slot LIMIT 1", at)!.slot as number;
      const [from, to] = hashSlotSpan(hit);
      const row =
        sql.first("SELECT key FROM keyspace WHERE slot >= ? AND slot < ? ORDER BY slot LIMIT 1", randomPoint(from, to - 1, within), to) ??
        sql.first("SELECT key FROM keyspace WHERE slot >= ? ORDER BY slot LIMIT 1", from);
      return row ? str(row.key) : null;
    },
    // The span of deadlines from the expiry index (two index ends), then the first at or after a
    // point in it: one or two rows read whatever the keyspace's size.
    randomWithDeadline: (r) => {
      const row = sql.first(
        `SELECT key FROM keyspace WHERE expires_at >= (SELECT min(expires_at) FROM keyspace WHERE expires_at IS NOT NULL) +
           CAST(((SELECT max(expires_at) FROM keyspace WHERE expires_at IS NOT NULL) -
                 (SELECT min(expires_at) FROM keyspace WHERE expires_at IS NOT NULL) + 1) * ? AS INTEGER)
         ORDER BY expires_at LIMIT 1`,
        r,
      );
      return row ? str(row.key) : null;
    },
    countWithDeadline: () =>
      sql.first<{ n: number }>("SELECT count(*) AS n FROM keyspace WHERE expires_at IS NOT NULL")!.n,
    count: () => sql.first<{ n: number }>("SELECT count(*) AS n FROM keyspace")!.n,
    measure: () => {
      const row = sql.first<{ n: number; b: number }>(
        "SELECT count(*) AS n, coalesce(sum(length(key) + CASE WHEN eid IS NULL THEN length(value) ELSE coalesce(bytes, 0) END), 0) AS b FROM keyspace",
      )!;
      return { count: row.n, bytes: row.b };
    },
  };
}

/** Writes `keys` and empties it: replaced rows eleven to a statement, deleted ones fifty. */
export function writeKeys(sql: Sql, keys: Map<string, Entry | null>): void {
  if (keys.size === 0) return;
  const puts: [string, Entry][] = [];
  const deletes: string[] = [];
  for (const [key, e] of keys) if (e === null) deletes.push(key);
  else puts.push([key, e]);
  keys.clear();
  for (let i = 0; i < puts.length; i += PUT_ROWS) {
    const part = puts.slice(i, i + PUT_ROWS);
    sql.exec(
      `INSERT OR REPLACE INTO keyspace (slot, key, ${KEY_COLUMNS}) VALUES ${part.map(([, e]) => `(?, ?, ?, ${encodingOf(e)}, ?, ?, ?, ?, ?, ?, ?)`).join(", ")}`,
      ...part.flatMap(([key, e]) => [slotOf(key), bin(key), ...keyValues(e)]),
    );
  }
  for (let i = 0; i < deletes.length; i += DELETE_ROWS) {
    const part = deletes.slice(i, i + DELETE_ROWS);
    sql.exec(
      `DELETE FROM keyspace WHERE (slot, key) IN (VALUES ${part.map(() => "(?, ?)").join(", ")})`,
      ...part.flatMap((key) => [slotOf(key), bin(key)]),
    );
  }
}

/** An entry as reading its row back would give it. */
export function asStored(e: Entry): Entry {
  const plain: Entry = { type: e.type, value: e.value, expiresAt: e.expiresAt, mod: e.mod ?? 0 };
  const entry: Entry = e.encoding ? { ...plain, encoding: e.encoding } : plain;
  if (e.eid === undefined) return entry;
  const header: Entry = { ...entry, eid: e.eid, count: e.count as number, bytes: e.bytes ?? 0 };
  return e.fieldsExpireAt === undefined ? header : { ...header, fieldsExpireAt: e.fieldsExpireAt };
}

/** The WHERE condition of the keys after (slot, afterKey) (null: from `slot` on) up to and with `end`. */
function runRange(slot: number, afterKey: string | null, end: KeyPosition): { sql: string; params: unknown[] } {
  const upper = "(slot, key) <= (?, ?)";
  return afterKey === null
    ? { sql: `slot >= ? AND ${upper}`, params: [slot, end.slot, bin(end.key)] }
    : { sql: `(slot, key) > (?, ?) AND ${upper}`, params: [slot, bin(afterKey), end.slot, bin(end.key)] };
}

/** The `encoding` column: ENCODING_CODES of Entry.encoding, else 0; written as a literal (a bound value each would pass 100 per statement). */
const encodingOf = (e: Entry): number => (e.encoding ? ENCODING_CODES[e.encoding] : 0);

/** The bound values of a keyspace row after (slot, key), as KEY_COLUMNS lists them (the encoding is a literal: `encodingOf`). */
function keyValues(e: Entry): unknown[] {
  return [TYPE_CODES[e.type], blob(e.value), e.expiresAt, e.mod ?? 0, e.eid ?? null, e.count ?? null, e.eid === undefined ? null : (e.bytes ?? 0), e.fieldsExpireAt ?? null];
}

function toEntry(row: Row): Entry {
  const entry: Entry = {
    type: TYPE_NAMES[row.type as number]!,
    value: new Uint8Array(row.value as ArrayBuffer),
    expiresAt: row.expires_at as number | null,
    mod: row.mod_offset as number,
    ...(encodingNamed(row.encoding) ? { encoding: encodingNamed(row.encoding) } : {}),
  };
  if (row.eid === null || row.eid === undefined) return entry;
  const header: Entry = { ...entry, eid: row.eid as number, count: row.count as number, bytes: (row.bytes as number | null) ?? 0 };
  return row.fields_expire_at == null ? header : { ...header, fieldsExpireAt: row.fields_expire_at as number };
}
