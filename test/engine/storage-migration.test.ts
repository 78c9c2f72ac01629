// A database written by schema 9 (keys, fields and members as TEXT, a key's slot hashed from its
// UTF-16 code units, a library's code as text) opens under schema 10 (all of them bytes, BLOBs)
// with every key, deadline, value, element, rank and library as it was, and the same offset.
//
// The schema-9 database is made the way schema 9 stored data: the engine writes every type (text
// only, as schema 9 could hold), then each BLOB becomes the TEXT of the same bytes, each key goes
// back to the slot of its text, and each library's code back to text (the inverse of v10).
import { createHash } from "node:crypto";
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fromText, toBytes, toText } from "../../durable-objects/engine/bytes";
import { ManualClock } from "../../durable-objects/engine/clock";
import { type Batch, Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { slotOf } from "../../durable-objects/engine/slot";
import { digest } from "../../durable-objects/engine/replication/sync";
import { SqliteStorage } from "../../durable-objects/sqlite/sqlite-storage";
import { str } from "../../durable-objects/sqlite/sql";
import { seeded } from "../support/cluster";

const NOW = 1_800_000_000_000;
const admin = (commands: string[][]): Batch => ({ mode: "pipeline", commands: commands.map((c) => c.map(fromText)), permission: "admin" });

/** What the test writes: every type, names in several scripts, deadlines on keys and on a field. */
const WRITES: string[][] = [
  ["SET", "plain", "value"],
  ["SET", "ключ:é:😀", "значение:ü:🎉", "PX", "3600000"],
  ["SET", "nul\u0000inside", "v\u0000w"],
  ["SET", "long:é", "é".repeat(600_000)], // a paged string (1.2 MB: over INLINE_MAX)
  ["HSET", "hash:ü", "f", "1", "поле", "значение", "😀", "emoji"],
  ["HEXPIRE", "hash:ü", "7200", "FIELDS", "1", "поле"],
  ["SADD", "set", "a", "b", "ß", "日本"],
  ["RPUSH", "list:日本", "x", "é", "😀", "z"],
  ["ZADD", "zs", ...Array.from({ length: 300 }, (_, i) => [String(i % 7), `m${i}:${"éü😀"[i % 3]}`]).flat()], // ranked (over BUILD_AT)
  ["ZADD", "lex", "0", "a", "0", "é", "0", "z", "0", "😀"],
  ["PEXPIRE", "set", "9000000"],
  ["FUNCTION", "LOAD", "#!lua name=mylib\n-- a comment in text: é 😀\nredis.register_function('hi', function() return 'héllo' end)"],
  ["CONFIG", "SET", "replica-announce-ip", "hôte-€"],
];

/** The reads compared before and after (text in, replies as the engine gives them). */
const READS: string[][] = [
  ["KEYS", "*"],
  ["GET", "plain"],
  ["GET", "ключ:é:😀"],
  ["PTTL", "ключ:é:😀"],
  ["GET", "nul\u0000inside"],
  ["STRLEN", "long:é"],
  ["GETRANGE", "long:é", "1199990", "1200000"],
  ["HGETALL", "hash:ü"],
  ["HPTTL", "hash:ü", "FIELDS", "2", "поле", "f"],
  ["SMEMBERS", "set"],
  ["PTTL", "set"],
  ["LRANGE", "list:日本", "0", "-1"],
  ["ZRANGE", "zs", "0", "-1", "WITHSCORES"],
  ["ZRANK", "zs", "m150:é"],
  ["ZRANGE", "zs", "100", "104"],
  ["ZRANGEBYLEX", "lex", "[b", "+"],
  ["FCALL", "hi", "0"],
  ["FUNCTION", "LIST", "WITHCODE"],
  ["DBSIZE"],
  ["CONFIG", "GET", "replica-announce-ip"],
];

const open = (storage: DurableObjectStorage, clock: ManualClock) => new Engine(new SqliteStorage(storage), { clock, random: seeded(3), node: "m" });
const reads = (engine: Engine) => {
  const r = engine.run(admin(READS));
  if (!("outcomes" in r)) throw new Error(r.error);
  return r.outcomes;
};

/** Turns a schema-10 database into what schema 9 stored for the same data. */
function toSchema9(sql: SqlStorage): void {
  for (const row of sql.exec<{ slot: number; key: ArrayBuffer }>("SELECT slot, key FROM keyspace").toArray()) {
    const text = toText(str(row.key));
    sql.exec("UPDATE keyspace SET slot = ?, key = ? WHERE slot = ? AND key = ?", slotOf(text), text, row.slot, row.key);
  }
  for (const table of ["elements", "pages", "ranks"]) sql.exec(`UPDATE ${table} SET field = CAST(field AS TEXT)`);
  for (const row of sql.exec<{ name: string; value: string }>("SELECT name, value FROM meta WHERE name LIKE 'function:%'").toArray())
    sql.exec("UPDATE meta SET value = ? WHERE name = ?", toText(row.value), row.name);
  for (const { value } of sql.exec<{ value: string }>("SELECT value FROM meta WHERE name = 'config'").toArray())
    sql.exec("UPDATE meta SET value = ? WHERE name = 'config'", JSON.stringify(JSON.parse(value), (_k, v: unknown) => (typeof v === "string" ? toText(v) : v)));
  sql.exec("UPDATE meta SET value = 9 WHERE name = 'schema_version'");
}

const texts = (sql: SqlStorage) =>
  ["keyspace:key", "elements:field", "pages:field", "ranks:field"].map((t) => {
    const [table, column] = t.split(":");
    return sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE typeof(${column}) != 'blob'`).one().n;
  });

describe("a schema-9 database under schema 10", () => {
  it("opens with every key, deadline, value, element, rank, library and offset as they were", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("schema-9")), (_node, state) => {
      const sql = state.storage.sql;
      for (const t of ["keyspace", "elements", "pages", "backlog", "meta", "dropped", "ranks", "ranked"]) sql.exec(`DROP TABLE IF EXISTS ${t}`);
      const clock = new ManualClock(NOW);
      const writer = open(state.storage, clock);
      const wrote = writer.run(admin(WRITES));
      if (!("outcomes" in wrote)) throw new Error(wrote.error);
      for (const o of wrote.outcomes) expect(o, JSON.stringify(o)).not.toHaveProperty("error");
      writer.storage.transaction(() => writer.storage.storeDeferred());
      const before = reads(writer);
      const digestBefore = digest(writer);
      const offset = writer.log.offset;
      expect(sql.exec<{ n: number }>("SELECT count(*) AS n FROM ranks").one().n).toBeGreaterThan(1);
      expect(sql.exec<{ n: number }>("SELECT count(*) AS n FROM pages").one().n).toBeGreaterThan(1);

      toSchema9(sql);
      expect(texts(sql).every((n) => n > 0)).toBe(true);
      // Schema 9 put a key that is not ASCII in another slot than its bytes give: v10 moves it.
      expect(sql.exec("SELECT 1 FROM keyspace WHERE slot = ?", slotOf(fromText("ключ:é:😀"))).toArray()).toHaveLength(0);

      clock.advance(1000);
      const reader = open(state.storage, clock);
      expect(texts(sql)).toEqual([0, 0, 0, 0]);
      expect(reader.log.offset).toBe(offset);
      const after = reads(reader);
      // Deadlines are absolute: a second later, a second less left.
      const pttl = (o: (typeof before)[number]) => ("result" in o ? Number(o.result) : NaN);
      expect(pttl(after[3]!)).toBe(pttl(before[3]!) - 1000);
      expect(pttl(after[10]!)).toBe(pttl(before[10]!) - 1000);
      const hpttl = (o: (typeof before)[number]) => ("result" in o ? (o.result as number[]).map(Number) : []);
      expect(hpttl(after[8]!)).toEqual([hpttl(before[8]!)[0]! - 1000, -1]);
      const timeless = (xs: typeof before) => xs.filter((_, i) => ![3, 8, 10].includes(i));
      expect(timeless(after)).toEqual(timeless(before));
      // The names come back as the bytes of their text; so does a CONFIG SET value; the digest is
      // of the bytes, as schema 9's nodes (which hashed the text's UTF-8) computed it.
      expect(after[2]).toEqual({ result: toBytes(fromText("значение:ü:🎉")) });
      expect(after.at(-1)).toEqual({ result: [toBytes("replica-announce-ip"), toBytes(fromText("hôte-€"))] });
      expect(digest(reader)).toBe(digestBefore);
      // And writes go on: the migrated index and keys take new elements in their order.
      const more = reader.run(admin([["ZADD", "zs", "3", "m150:éé"], ["ZRANK", "zs", "m150:éé"], ["HSET", "hash:ü", "новое", "1"], ["HLEN", "hash:ü"], ["EXISTS", "ключ:é:😀"]]));
      if (!("outcomes" in more)) throw new Error(more.error);
      expect(more.outcomes.map((o) => ("result" in o ? o.result : o))).toEqual([1, expect.any(Number), 1, 4, 1]);
    });
  });
});

describe("names as bytes where they are hashed or indexed", () => {
  it("a node's digest hashes a name's bytes (what a node of schema 9 hashed for the same text)", () => {
    const engine = new Engine(new MemoryStorage(), { clock: new ManualClock(NOW), random: seeded(3), node: "m" });
    engine.run(admin([["SET", "é", "v"], ["HSET", "h", "ü", "1"]]));
    const sha1 = (...parts: (string | Uint8Array)[]) => {
      const h = createHash("sha1");
      for (const p of parts) h.update(p);
      return h.digest();
    };
    const utf8 = (s: string) => new TextEncoder().encode(s);
    const a = sha1(utf8("é"), "\0", "string", "\0", utf8("v"), "\0-1");
    const b = sha1(utf8("h"), "\0", "hash", "\0", new Uint8Array(0), "\0-1", "\0", utf8("ü"), "\0", utf8("1"), "\0");
    expect(digest(engine)).toBe(Buffer.from(a.map((x, i) => x ^ b[i]!)).toString("hex"));
  });

  it("a schema-6 database (no rank index yet) gets one that counts and orders its BLOBs", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("schema-6")), (_node, state) => {
      const sql = state.storage.sql;
      for (const t of ["keyspace", "elements", "pages", "backlog", "meta", "dropped", "ranks", "ranked"]) sql.exec(`DROP TABLE IF EXISTS ${t}`);
      const writer = open(state.storage, new ManualClock(NOW));
      // Over 64 leaves of 32: the index has a level above its leaves.
      const fields = Array.from({ length: 3000 }, (_, i) => `f${String(i).padStart(4, "0")}:é`);
      writer.run(admin([["HSET", "big", ...fields.flatMap((f) => [f, "1"])], ["SADD", "bigset", ...fields]]));
      writer.storage.transaction(() => writer.storage.storeDeferred());
      toSchema9(sql);
      // Schema 6 had no rank index: v7 builds one over TEXT fields, and v10 must leave one that orders BLOBs.
      sql.exec("DROP TABLE ranks");
      sql.exec("DROP TABLE ranked");
      sql.exec("UPDATE meta SET value = 6 WHERE name = 'schema_version'");
      const reader = open(state.storage, new ManualClock(NOW));
      const eids = sql.exec<{ eid: number }>("SELECT eid FROM keyspace WHERE eid IS NOT NULL").toArray().map((r) => r.eid);
      for (const eid of eids) {
        const levels = sql.exec<{ level: number; n: number }>("SELECT level, sum(n) AS n FROM ranks WHERE eid = ? GROUP BY level", eid).toArray();
        expect(levels.length).toBeGreaterThan(1);
        for (const l of levels) expect(l.n, `level ${l.level}`).toBe(3000);
      }
      // The smallest members, under the first node of the level above the leaves, go and come.
      const r = reader.run(admin([["HDEL", "big", ...fields.slice(0, 40)], ["SREM", "bigset", ...fields.slice(0, 40)], ["HLEN", "big"], ["SCARD", "bigset"], ["HRANDFIELD", "big", "-3"]]));
      if (!("outcomes" in r)) throw new Error(r.error);
      expect(r.outcomes.slice(0, 4)).toEqual([{ result: 40 }, { result: 40 }, { result: 2960 }, { result: 2960 }]);
    });
  });
});
