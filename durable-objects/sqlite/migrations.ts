/**
 * The schema's migrations: a list of steps (statements, or a function for what SQL alone cannot
 * compute), applied once each by `SqliteStorage`, in a transaction with the version row; an ALTER
 * that finds its column already there is skipped, so each step is idempotent.
 */
import { fromText } from "../engine/bytes";
import { ELEMENT_OVERHEAD } from "../engine/sizes";
import { slotOf } from "../engine/slot";
import { TYPE_CODES } from "../engine/storage";
import { BUILD_AT, Ranks } from "./ranks";
import { type Row, type Sql, bin, str } from "./sql";

/** A migration step: a statement, or a function given the database (what SQL alone cannot compute). */
export type Step = string | ((sql: SqlStorage) => void);

/** The keyspace's columns after (slot, key) as v6 made them (later versions add more). */
const V6_COLUMNS = "type, encoding, value, expires_at, mod_offset, eid, count, bytes";

export const MIGRATIONS: readonly (readonly Step[])[] = [
  [
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID",
    `CREATE TABLE IF NOT EXISTS keyspace (
       id INTEGER PRIMARY KEY,
       key TEXT NOT NULL UNIQUE,
       type INTEGER NOT NULL,
       encoding INTEGER NOT NULL DEFAULT 0,
       value BLOB NOT NULL,
       expires_at INTEGER)`,
    "CREATE INDEX IF NOT EXISTS keyspace_expiry ON keyspace(expires_at) WHERE expires_at IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS backlog (offset INTEGER PRIMARY KEY, frame BLOB NOT NULL)",
  ],
  // v2: the replication offset at which each key was last written (see engine/replication/protocol.ts).
  [
    "ALTER TABLE keyspace ADD COLUMN mod_offset INTEGER NOT NULL DEFAULT 0",
  ],
  // v3: collections (engine/types/): a header row in keyspace, one row per element.
  [
    "ALTER TABLE keyspace ADD COLUMN eid INTEGER",
    "ALTER TABLE keyspace ADD COLUMN count INTEGER",
    `CREATE TABLE IF NOT EXISTS elements (
       eid INTEGER NOT NULL,
       field TEXT NOT NULL,
       value BLOB NOT NULL,
       score REAL,
       mod_offset INTEGER NOT NULL DEFAULT 0,
       PRIMARY KEY (eid, field)) WITHOUT ROWID`,
    "CREATE TABLE IF NOT EXISTS dropped (eid INTEGER PRIMARY KEY)",
  ],
  // v4: sorted sets (engine/types/zset/) in (score, member) order. Other collections' rows have a
  // NULL score and sit together at the start of each eid's part of the index.
  [
    "CREATE INDEX IF NOT EXISTS elements_by_score ON elements(eid, score, field)",
  ],
  // v5: each collection's estimated size (engine/sizes.ts: the sum over its elements), for the
  // dataset's estimate that maxmemory bounds; existing collections are measured once here.
  [
    "ALTER TABLE keyspace ADD COLUMN bytes INTEGER",
    `UPDATE keyspace SET bytes = (SELECT coalesce(sum(${ELEMENT_OVERHEAD} + length(CAST(field AS BLOB)) + length(value)), 0)
       FROM elements WHERE elements.eid = keyspace.eid) WHERE eid IS NOT NULL`,
  ],
  // v6: the keyspace keyed by (slot, key) without rowid (engine/slot.ts): one row written per
  // key written, where the rowid table and its UNIQUE index on the name wrote two. The slots are
  // computed here, a page of keys at a time.
  [
    `CREATE TABLE IF NOT EXISTS keyspace_v6 (
       slot INTEGER NOT NULL,
       key TEXT NOT NULL,
       type INTEGER NOT NULL,
       encoding INTEGER NOT NULL DEFAULT 0,
       value BLOB NOT NULL,
       expires_at INTEGER,
       mod_offset INTEGER NOT NULL DEFAULT 0,
       eid INTEGER,
       count INTEGER,
       bytes INTEGER,
       PRIMARY KEY (slot, key)) WITHOUT ROWID`,
    (sql) => {
      for (let after = 0; ; ) {
        const page = sql.exec<Row>(`SELECT id, key, ${V6_COLUMNS} FROM keyspace WHERE id > ? ORDER BY id LIMIT 256`, after).toArray();
        for (const row of page) {
          after = row.id as number;
          sql.exec(
            `INSERT INTO keyspace_v6 (slot, key, ${V6_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            slotOf(row.key as string),
            row.key,
            row.type,
            row.encoding,
            row.value,
            row.expires_at,
            row.mod_offset,
            row.eid,
            row.count,
            row.bytes,
          );
        }
        if (page.length < 256) break;
      }
    },
    "DROP TABLE keyspace",
    "ALTER TABLE keyspace_v6 RENAME TO keyspace",
    "CREATE INDEX IF NOT EXISTS keyspace_expiry ON keyspace(expires_at) WHERE expires_at IS NOT NULL",
  ],
  // v7: the rank index of large collections (ranks.ts), built here for those there are.
  [
    `CREATE TABLE IF NOT EXISTS ranks (
       eid INTEGER NOT NULL,
       level INTEGER NOT NULL,
       score REAL NOT NULL,
       field TEXT NOT NULL,
       n INTEGER NOT NULL,
       PRIMARY KEY (eid, level, score, field)) WITHOUT ROWID`,
    "CREATE TABLE IF NOT EXISTS ranked (eid INTEGER PRIMARY KEY, by_score INTEGER NOT NULL, top INTEGER NOT NULL)",
    buildRankIndexes,
  ],
  // v8: hash-field deadlines (HEXPIRE, engine/types/hash/): each field's own, and per hash a lower
  // bound of its fields' (what the sweep looks for). Both indexes hold only rows that have one.
  [
    "ALTER TABLE elements ADD COLUMN expires_at INTEGER",
    "CREATE INDEX IF NOT EXISTS elements_expiry ON elements(eid, expires_at) WHERE expires_at IS NOT NULL",
    "ALTER TABLE keyspace ADD COLUMN fields_expire_at INTEGER",
    "CREATE INDEX IF NOT EXISTS keyspace_fields_expiry ON keyspace(fields_expire_at) WHERE fields_expire_at IS NOT NULL",
  ],
  // v9: strings stored in pages (engine/keyspace/pages.ts): a long string's pages are the elements
  // of a negative element id, kept here with the elements' columns and no second index, so writing
  // a page is one row written.
  [
    `CREATE TABLE IF NOT EXISTS pages (
       eid INTEGER NOT NULL,
       field TEXT NOT NULL,
       value BLOB NOT NULL,
       score REAL,
       mod_offset INTEGER NOT NULL DEFAULT 0,
       expires_at INTEGER,
       PRIMARY KEY (eid, field)) WITHOUT ROWID`,
  ],
  // v10: keys, fields and members are byte strings (engine/bytes.ts), stored as BLOBs, which
  // SQLite orders by memcmp as Redis does; every TEXT one written before is the same bytes (its
  // UTF-8), turned into a BLOB in place a page at a time. A library's code and CONFIG SET's
  // values, kept in meta as text, become the binary strings of their bytes.
  [
    (db) => blobColumn(db, "keyspace", "slot", "key", (page) => reslot(db, page)),
    (db) => blobColumn(db, "elements", "eid", "field"),
    (db) => blobColumn(db, "pages", "eid", "field"),
    // The rank index, built again over the BLOBs (a row per 32 elements or more): today's build
    // writes its first node's field as x'', which sorted after the TEXT fields of v7's build.
    "DELETE FROM ranks",
    "DELETE FROM ranked",
    buildRankIndexes,
    (db) => {
      for (const row of db.exec<Row>("SELECT name, value FROM meta WHERE name LIKE 'function:%'").toArray())
        if (typeof row.value === "string") db.exec("UPDATE meta SET value = ? WHERE name = ?", fromText(row.value), row.name);
      const config = db.exec<Row>("SELECT value FROM meta WHERE name = 'config'").toArray()[0]?.value;
      if (typeof config === "string") {
        const bytes = JSON.stringify(JSON.parse(config), (_k, v: unknown) => (typeof v === "string" ? fromText(v) : v));
        db.exec("UPDATE meta SET value = ? WHERE name = 'config'", bytes);
      }
    },
  ],
  // v11: the values an export in progress keeps of the keyspace as it began (sqlite/saved.ts).
  [
    `CREATE TABLE IF NOT EXISTS saved (
       slot INTEGER NOT NULL,
       key BLOB NOT NULL,
       part INTEGER NOT NULL,
       payload BLOB,
       expires_at INTEGER,
       PRIMARY KEY (slot, key, part)) WITHOUT ROWID`,
  ],
  // v12: a slot begins with the key's Redis Cluster hash slot (engine/slot.ts), so that the keys
  // of a hash slot are one range: every key moves to its new slot, in place, a page at a time.
  [(db) => reslotAll(db, "keyspace"), (db) => reslotAll(db, "saved")],
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Builds the rank index (ranks.ts) of every collection large enough to have one. */
function buildRankIndexes(db: SqlStorage): void {
  const sql: Sql = { exec: (q, ...p) => db.exec(q, ...p), first: (q, ...p) => db.exec<Row>(q, ...p).toArray()[0] ?? null } as Sql;
  const ranks = new Ranks(sql);
  const large = db.exec<Row>("SELECT eid, type FROM keyspace WHERE eid IS NOT NULL AND count >= ?", BUILD_AT).toArray();
  for (const { eid, type } of large) ranks.build(eid as number, type === TYPE_CODES.zset || type === TYPE_CODES.list);
}

/**
 * Moves the keys of a page of TEXT (slot, key) rows that are not ASCII to the slot of their bytes
 * (a slot hashes a name's code units, engine/slot.ts: UTF-16 before v10, bytes since), as BLOBs.
 */
function reslot(db: SqlStorage, page: SqlStorageValue[][]): void {
  for (const [slot, key] of page) {
    const bytes = fromText(key as string);
    if (bytes !== key) db.exec("UPDATE keyspace SET slot = ?, key = ? WHERE slot = ? AND key = ?", slotOf(bytes), bin(bytes), slot, key);
  }
}

/**
 * Moves every (slot, key) row of `table` to the slot engine/slot.ts gives its key now, a page at a
 * time in position order. A row moved ahead of the cursor is met again, already in its place, and
 * left; one moved behind it is never met again: each row is moved once.
 */
function reslotAll(db: SqlStorage, table: "keyspace" | "saved"): void {
  for (let after: SqlStorageValue[] = [-1, new ArrayBuffer(0)]; ; ) {
    const page = [...db.exec(`SELECT DISTINCT slot, key FROM ${table} WHERE (slot, key) > (?, ?) ORDER BY slot, key LIMIT ${BLOB_PAGE}`, ...after).raw()];
    for (const [slot, key] of page) {
      const now = slotOf(str(key as ArrayBuffer));
      if (now !== slot) db.exec(`UPDATE ${table} SET slot = ? WHERE slot = ? AND key = ?`, now, slot, key);
    }
    if (page.length < BLOB_PAGE) return;
    after = page[page.length - 1]!;
  }
}

/** Rows a v10 page turns into BLOBs. */
const BLOB_PAGE = 512;

/**
 * Turns `table`'s TEXT `column` (the last of its primary key, after `prefix`) into BLOBs of the
 * same bytes, a page at a time in key order. A row changed sorts after its prefix's TEXT rows (a
 * BLOB sorts after every TEXT), so the cursor never meets it again before its prefix ends.
 * `eachPage` sees each page's (prefix, column) rows first.
 */
function blobColumn(db: SqlStorage, table: string, prefix: string, column: string, eachPage?: (page: SqlStorageValue[][]) => void): void {
  const position = `(${prefix}, ${column})`;
  let after: SqlStorageValue[] | null = null;
  for (;;) {
    const from = after === null ? "" : ` AND ${position} > (?, ?)`;
    const page: SqlStorageValue[][] = [
      ...db.exec(`SELECT ${prefix}, ${column} FROM ${table} WHERE typeof(${column}) = 'text'${from} ORDER BY ${prefix}, ${column} LIMIT ${BLOB_PAGE}`, ...(after ?? [])).raw(),
    ];
    const last: SqlStorageValue[] | undefined = page[page.length - 1];
    if (last === undefined) return;
    eachPage?.(page);
    db.exec(`UPDATE ${table} SET ${column} = CAST(${column} AS BLOB) WHERE typeof(${column}) = 'text'${from} AND ${position} <= (?, ?)`, ...(after ?? []), ...last);
    after = last;
  }
}
