// The rank index of large collections (durable-objects/sqlite/ranks.ts): the same random commands
// on the SQLite storage (where sets grow past the index's size and its nodes split, empty and go)
// and on the in-memory storage (which sorts), every reply equal, random picks included (the same
// random source picks the same positions in the same order); the tree's counts checked against
// the elements after every batch; and the rows a rank or a pick reads stay bounded whatever the
// collection's size.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { type Batch, Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { SqliteStorage } from "../../durable-objects/sqlite/sqlite-storage";
import { seeded } from "../support/cluster";
import { bin, str } from "../../durable-objects/sqlite/sql";

const admin = (commands: string[][], mode: Batch["mode"] = "pipeline"): Batch => ({ mode, commands, permission: "admin" });

/** Two engines, one per storage, each with the same seeded random source. */
function pair(state: DurableObjectState) {
  for (const t of ["keyspace", "elements", "backlog", "meta", "dropped", "ranks", "ranked"]) state.storage.sql.exec(`DROP TABLE IF EXISTS ${t}`);
  const clock = new ManualClock();
  const storage = new SqliteStorage(state.storage);
  return {
    sqlite: new Engine(storage, { clock, random: seeded(11), node: "sqlite" }),
    memory: new Engine(new MemoryStorage(), { clock, random: seeded(11), node: "memory" }),
    storage,
  };
}

/** Every node's count equals the elements in its range, levels nest, and no node is over-full. */
function checkIndex(sql: SqlStorage, eid: number, byScore: boolean, leafAtMost = 64): void {
  const meta = sql.exec<{ top: number }>("SELECT top FROM ranked WHERE eid = ?", eid).toArray()[0];
  if (!meta) return;
  const cmp = byScore ? (op: string) => `(score, field) ${op} (?, ?)` : (op: string) => `field ${op} ?`;
  const args = (r: { score: number; field: string }) => (byScore ? [r.score, bin(r.field)] : [bin(r.field)]);
  const total = sql.exec<{ n: number }>("SELECT count(*) AS n FROM elements WHERE eid = ?", eid).one().n;
  for (let level = 0; level <= meta.top; level++) {
    const nodes = sql.exec<{ score: number; field: ArrayBuffer; n: number }>("SELECT score, field, n FROM ranks WHERE eid = ? AND level = ? ORDER BY score, field", eid, level).toArray().map((r) => ({ ...r, field: str(r.field) }));
    expect(nodes.reduce((s, r) => s + r.n, 0), `level ${level} sums to the count`).toBe(total);
    nodes.forEach((node, i) => {
      const next = nodes[i + 1];
      const lower = i === 0 ? "1" : cmp(">=");
      const upper = next ? ` AND ${cmp("<")}` : "";
      const actual = level === 0
        ? sql.exec<{ n: number }>(`SELECT count(*) AS n FROM elements WHERE eid = ? AND ${lower}${upper}`, eid, ...(i === 0 ? [] : args(node)), ...(next ? args(next) : [])).one().n
        : node.n;
      expect(actual, `leaf ${i} of level ${level}`).toBe(node.n);
      if (level === 0) expect(node.n).toBeLessThanOrEqual(leafAtMost);
    });
    if (level > 0) {
      // Each node's key is a key of the level below.
      for (const node of nodes)
        expect(sql.exec("SELECT 1 FROM ranks WHERE eid = ? AND level = ? AND score = ? AND field = ?", eid, level - 1, node.score, bin(node.field)).toArray().length).toBe(1);
    }
  }
}

const eidOf = (sql: SqlStorage, key: string) => sql.exec<{ eid: number }>("SELECT eid FROM keyspace WHERE key = ?", bin(key)).toArray()[0]?.eid;

describe("the rank index", () => {
  it("answers as the in-memory storage does while sorted sets, lists, hashes and sets grow, change and shrink", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("rank-index-model")), (_node, state) => {
      const { sqlite, memory } = pair(state);
      const r = seeded(5);
      const int = (n: number) => Math.floor(r.next() * n);
      const member = () => `m${int(3000)}`;
      const score = () => String([int(50), int(50) - 25, (int(2000) - 1000) / 8, "inf", "-inf"][int(5)]);
      const commands = (n: number): string[][] =>
        Array.from({ length: n }, () => {
          const ops: (() => string[])[] = [
            () => ["ZADD", "z", ...Array.from({ length: 1 + int(40) }, () => [score(), member()]).flat()],
            () => ["ZREM", "z", ...Array.from({ length: 1 + int(10) }, member)],
            () => ["ZINCRBY", "z", "3", member()],
            () => ["ZRANK", "z", member()],
            () => ["ZREVRANK", "z", member(), "WITHSCORE"],
            () => ["ZCOUNT", "z", ["-inf", "(0", "-5", "3"][int(4)]!, ["+inf", "10", "(10", "3"][int(4)]!],
            () => ["ZRANGE", "z", String(int(3000) - 500), String(int(3000) - 200), "WITHSCORES"],
            () => ["ZRANGE", "z", "(-10", "+inf", "BYSCORE", "LIMIT", String(int(2000)), String(int(20))],
            () => ["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", String(int(2000)), "5"],
            () => ["ZRANDMEMBER", "z", String(int(400) - 200), "WITHSCORES"],
            () => ["ZREMRANGEBYRANK", "z", String(int(100)), String(int(100) + 3)],
            () => ["RPUSH", "l", ...Array.from({ length: 1 + int(60) }, () => `v${int(100)}`)],
            () => ["LPUSH", "l", ...Array.from({ length: 1 + int(60) }, () => `v${int(100)}`)],
            () => ["LINDEX", "l", String(int(4000) - 2000)],
            () => ["LSET", "l", String(int(2000)), "set"],
            () => ["LRANGE", "l", String(int(3000)), String(int(3000) + 5)],
            () => ["LINSERT", "l", "BEFORE", `v${int(100)}`, "ins"],
            () => ["LPOP", "l", String(int(30))],
            () => ["LPOS", "l", `v${int(100)}`, "RANK", String([1, 2, -1, -3][int(4)]), "COUNT", String(int(4)), "MAXLEN", String([0, 10, 500, 3000][int(4)])],
            () => ["LPOS", "l", `v${int(100)}`, "RANK", String([1, -2][int(2)])],
            () => ["RPOP", "l", String(int(30))],
            () => ["HSET", "h", ...Array.from({ length: 1 + int(50) }, () => [member(), "x"]).flat()],
            () => ["HDEL", "h", ...Array.from({ length: 1 + int(20) }, member)],
            () => ["HRANDFIELD", "h", String(int(200) - 100), "WITHVALUES"],
            () => ["SADD", "s", ...Array.from({ length: 1 + int(50) }, member)],
            () => ["SREM", "s", ...Array.from({ length: 1 + int(20) }, member)],
            () => ["SRANDMEMBER", "s", String(int(200) - 100)],
            () => ["SPOP", "s", String(int(5))],
          ];
          return ops[int(ops.length)]!();
        });
      for (let round = 0; round < 60; round++) {
        const batch = admin(commands(20), round % 5 === 4 ? "multi" : "pipeline");
        expect(sqlite.run(batch), `round ${round}: ${JSON.stringify(batch.commands)}`).toEqual(memory.run(batch));
        if (round % 10 === 9)
          for (const [key, byScore] of [["z", true], ["l", true], ["h", false], ["s", false]] as const) {
            const eid = eidOf(state.storage.sql, key);
            if (eid !== undefined) checkIndex(state.storage.sql, eid, byScore);
          }
      }
      // Most of it goes again: the index empties and drops, the collections stay equal.
      const shrink = admin([["ZREMRANGEBYRANK", "z", "5", "-1"], ["LTRIM", "l", "0", "3"], ["ZCARD", "z"], ["LLEN", "l"], ["ZRANGE", "z", "0", "-1", "WITHSCORES"]]);
      expect(sqlite.run(shrink)).toEqual(memory.run(shrink));
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM ranked WHERE eid = ?", eidOf(state.storage.sql, "z")!).one().n).toBe(0);
    });
  }, 120_000);

  it("takes counts and offsets past 2^53 as the in-memory storage does (a LIMIT bound as a double failed the node's statement)", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("rank-index-huge-limits")), (_node, state) => {
      const { sqlite, memory } = pair(state);
      const huge = "9223372036854775807";
      const setup = admin([["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["RPUSH", "l", "a", "b", "a"], ["HSET", "h", "f", "v"]]);
      expect(sqlite.run(setup)).toEqual(memory.run(setup));
      const reads = [
        ["ZRANGE", "z", "(-1", "6", "BYSCORE", "LIMIT", "0", huge, "WITHSCORES"],
        ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", huge, "1"],
        ["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", huge],
        ["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "1", huge],
        ["LPOS", "l", "a", "COUNT", "0", "RANK", "1"],
        ["HSCAN", "h", "0", "COUNT", huge],
      ];
      for (const mode of ["pipeline", "multi"] as const) {
        const batch = admin(reads, mode);
        const answer = sqlite.run(batch);
        expect(answer).toEqual(memory.run(batch));
        expect(JSON.stringify(answer)).not.toContain("error");
      }
    });
  });

  it("splits past one level: a 20,000-member sorted set and a 20,000-element list keep their counts exact", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("rank-index-levels")), (_node, state) => {
      const { sqlite, memory } = pair(state);
      const both = (batch: Batch) => {
        const a = sqlite.run(batch);
        expect(a).toEqual(memory.run(batch));
        return a;
      };
      // Added a few at a time, so the index splits as it grows rather than being built at once.
      for (let i = 0; i < 20_000; i += 40) {
        both(admin([["ZADD", "big", ...Array.from({ length: 40 }, (_, j) => [String((i + j) % 997), `m${i + j}`]).flat()]]));
        both(admin([["RPUSH", "list", ...Array.from({ length: 40 }, (_, j) => `e${i + j}`)]]));
      }
      const z = eidOf(state.storage.sql, "big")!;
      expect(state.storage.sql.exec<{ top: number }>("SELECT top FROM ranked WHERE eid = ?", z).one().top).toBeGreaterThanOrEqual(1);
      checkIndex(state.storage.sql, z, true);
      checkIndex(state.storage.sql, eidOf(state.storage.sql, "list")!, true);
      both(admin([["ZRANK", "big", "m19999"], ["ZRANK", "big", "m0"], ["ZREVRANK", "big", "m12345"], ["ZCOUNT", "big", "100", "(500"], ["LINDEX", "list", "12345"], ["LINDEX", "list", "-7"]]));
      both(admin([["ZRANGE", "big", "10000", "10004", "WITHSCORES"], ["LRANGE", "list", "15000", "15003"], ["ZRANDMEMBER", "big", "-50"]]));
    });
  }, 120_000);

  it("picks from leaves larger than it writes (an index written with an older leaf size)", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("rank-index-old-leaves")), (_node, state) => {
      const { sqlite, memory } = pair(state);
      const both = (batch: Batch) => expect(sqlite.run(batch)).toEqual(memory.run(batch));
      both(admin([["ZADD", "z", ...Array.from({ length: 3000 }, (_, i) => [String(i % 101), `m${i}`]).flat()]]));
      both(admin([["SADD", "s", ...Array.from({ length: 3000 }, (_, i) => `m${i}`)]]));
      // Leaves of 120 elements, one level: as an index written when a leaf held up to 128.
      for (const [key, byScore] of [["z", true], ["s", false]] as const) {
        const eid = eidOf(state.storage.sql, key)!;
        state.storage.sql.exec("DELETE FROM ranks WHERE eid = ?", eid);
        state.storage.sql.exec(
          `INSERT INTO ranks (eid, level, score, field, n)
           SELECT ?, 0, CASE WHEN i = 0 THEN ? ELSE s END, CASE WHEN i = 0 THEN x'' ELSE f END, min(120, 3000 - i)
           FROM (SELECT ${byScore ? "score" : "0"} AS s, field AS f, row_number() OVER (ORDER BY ${byScore ? "score, field" : "field"}) - 1 AS i FROM elements WHERE eid = ?)
           WHERE i % 120 = 0`,
          eid,
          byScore ? -Infinity : 0,
          eid,
        );
        state.storage.sql.exec("UPDATE ranked SET top = 0 WHERE eid = ?", eid);
        checkIndex(state.storage.sql, eid, byScore, 120);
      }
      // A storage that reads the index as stored picks each rank's element, as an ordered read finds it.
      const storage = new SqliteStorage(state.storage);
      const r = seeded(3);
      for (const [key, byScore] of [["z", true], ["s", false]] as const) {
        const eid = eidOf(state.storage.sql, key)!;
        const order = state.storage.sql.exec<{ field: ArrayBuffer }>(`SELECT field FROM elements WHERE eid = ? ORDER BY ${byScore ? "score, field" : "field"}`, eid).toArray().map((row) => str(row.field));
        const ranks = [119, 120, 239, 2999, ...Array.from({ length: 200 }, () => Math.floor(r.next() * 3000))].sort((x, y) => x - y);
        const picked = storage.elements.select(eid, ranks, byScore).map((row) => row.field);
        expect(picked).toEqual(ranks.map((rank) => order[rank]));
      }
    });
  }, 120_000);

  it("reads a bounded number of rows for a rank or a pick, whatever the set's size", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("rank-index-rows")), (_node, state) => {
      const { sqlite, storage } = pair(state);
      for (let i = 0; i < 30_000; i += 1000)
        sqlite.run(admin([["ZADD", "z", ...Array.from({ length: 1000 }, (_, j) => [String(i + j), `m${String(i + j).padStart(5, "0")}`]).flat()]]));
      const rowsRead = (commands: string[][]) => {
        const before = storage.usage().rows_read;
        const result = sqlite.run(admin(commands));
        return { rows: storage.usage().rows_read - before, result };
      };
      const last = rowsRead([["ZRANK", "z", "m29999"]]);
      expect(last.result).toMatchObject({ outcomes: [{ result: 29_999 }] });
      expect(last.rows).toBeLessThanOrEqual(100);
      for (const member of ["m00000", "m15000", "m07777"]) expect(rowsRead([["ZRANK", "z", member]]).rows).toBeLessThanOrEqual(200);
      expect(rowsRead([["ZCOUNT", "z", "1000", "25000"]]).rows).toBeLessThanOrEqual(400);
      expect(rowsRead([["ZRANGE", "z", "20000", "20009"]]).rows).toBeLessThanOrEqual(200);
      // 300 picks: a few hundred rows each at most, not the set.
      expect(rowsRead([["ZRANDMEMBER", "z", "-300"]]).rows).toBeLessThanOrEqual(300 * 140);
    });
  }, 120_000);
});
