// Keys a transaction wrote and logged stay in memory after it commits (sqlite/sqlite-storage.ts,
// `transaction`), stored later together; the log holds them durably. These tests check that they
// are never lost or seen twice: across a crash (replayed from meta `keyspace_replay_from`), a
// transaction that stores them and then rolls back, writes of other kinds, a backlog trimmed past
// them, and on replicas, whose digests stay the primary's.
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { SqliteStorage } from "../../durable-objects/sqlite/sqlite-storage";
import { fixedRandom } from "../support/fixtures";
import { call, inNode, nodeApi, redis, stubOf } from "../support/helpers";
import { str } from "../../durable-objects/sqlite/sql";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];

/** The keyspace table's rows and the replay marker, as SQLite holds them (nothing from memory). */
const stored = (name: string) =>
  inNode(stubOf(name), (_node, state) => ({
    keys: state.storage.sql.exec<{ key: ArrayBuffer }>("SELECT key FROM keyspace ORDER BY key").toArray().map((r) => str(r.key)),
    replayFrom: state.storage.sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = 'keyspace_replay_from'").toArray()[0]?.value ?? null,
  }));

const pipeline = async (commands: (string | number)[][]) => {
  const r = await call(commands, { path: "/pipeline" });
  expect(r.status).toBe(200);
  return (r.json as { result?: unknown; error?: string }[]).map((o) => o.result ?? o.error);
};

const digests = async () => Promise.all([PRIMARY, ...REPLICAS].map(async (n) => (await nodeApi(n).digest()).digest));

beforeEach(async () => {
  await redis("FLUSHALL");
  await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
});

describe("keys kept in memory after their transaction", () => {
  it("are replayed from the log after a crash: values, deadlines, deletions and counts", async () => {
    await pipeline(Array.from({ length: 50 }, (_, i) => ["SET", `d:${i}`, `v${i}`]));
    await pipeline([["DEL", "d:0"], ["PEXPIRE", "d:1", "600000"], ["INCR", "d:counter"], ["APPEND", "d:2", "!"]]);
    await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
    const before = await stored(PRIMARY);
    // Deferred: not in the table yet, and the marker says where the log holds them.
    expect(before.keys).not.toContain("d:5");
    expect(before.replayFrom).not.toBeNull();
    for (const r of REPLICAS) expect((await stored(r)).keys).not.toContain("d:5");

    await abortAllDurableObjects();
    expect(await redis("DBSIZE")).toBe(50);
    expect(await redis("MGET", "d:0", "d:2", "d:49", "d:counter")).toEqual([null, "v2!", "v49", "1"]);
    expect(await redis("PTTL", "d:1")).toBeGreaterThan(500_000);
    // Replayed and stored: the table is complete and the marker gone.
    const after = await stored(PRIMARY);
    expect(after.replayFrom).toBeNull();
    expect(after.keys).toHaveLength(50);
    expect(after.keys).not.toContain("d:0");
    // The replicas replayed theirs too.
    const after2 = await digests();
    expect(new Set(after2).size).toBe(1);
    for (const r of REPLICAS) {
      expect((await stored(r)).replayFrom).toBeNull();
      expect(await inNode(stubOf(r), (node) => node.core.engine.keyspace.keyCount)).toBe(50);
    }
  });

  it("are stored before the backlog is trimmed past them, and a restart still finds every key", async () => {
    await redis("CONFIG", "SET", "repl-backlog-size", "16384");
    try {
      for (let b = 0; b < 10; b++) await pipeline(Array.from({ length: 20 }, (_, i) => ["SET", `t:${b}:${i}`, "x".repeat(200)]));
      const s = await stored(PRIMARY);
      // 40 KiB of log against a 16 KiB backlog: stored at a trim, some written since.
      expect(s.keys.filter((k) => k.startsWith("t:")).length).toBeGreaterThan(0);
      await abortAllDurableObjects();
      expect(await redis("DBSIZE")).toBe(200);
      expect(await redis("GET", "t:9:19")).toBe("x".repeat(200));
      expect((await stored(PRIMARY)).keys).toHaveLength(200);
    } finally {
      await redis("CONFIG", "SET", "repl-backlog-size", String(1024 * 1024));
    }
  });

  it("are stored when their own transaction trims the backlog past its first entries", async () => {
    // A master without replicas (nothing holds its backlog), as after a restart before they reconnect.
    const scratch = env.NODE.get(env.NODE.idFromName("scratch-self-trim"));
    await runInDurableObject(scratch, (_node, state) => {
      const open = () => new Engine(new SqliteStorage(state.storage), { clock: new ManualClock(), random: fixedRandom });
      const engine = open();
      const run = (e: Engine, mode: "single" | "pipeline", ...commands: string[][]) => e.run({ mode, commands, permission: "admin" });
      run(engine, "single", ["FLUSHALL"]);
      run(engine, "single", ["CONFIG", "SET", "repl-backlog-size", "16384"]);
      // Three 600 KB values: three backlog rows in one transaction, the first two trimmed by it.
      const big = (c: string) => c.repeat(600_000);
      run(engine, "pipeline", ["SET", "big:a", big("a")], ["SET", "big:b", big("b")], ["SET", "big:c", big("c")]);
      const restarted = open();
      expect(run(restarted, "pipeline", ["STRLEN", "big:a"], ["STRLEN", "big:c"])).toMatchObject({ outcomes: [{ result: 600_000 }, { result: 600_000 }] });
    });
  });

  it("are stored by a write of another kind in the same transaction (a collection)", async () => {
    await pipeline([["SET", "o:a", "1"], ["SET", "o:b", "2"]]);
    expect((await stored(PRIMARY)).replayFrom).not.toBeNull();
    await pipeline([["SET", "o:c", "3"], ["HSET", "o:h", "f", "v"]]);
    const s = await stored(PRIMARY);
    expect(s.replayFrom).toBeNull();
    expect(s.keys).toEqual(["o:a", "o:b", "o:c", "o:h"]);
  });

  it("stored by a transaction that rolls back, wait again and are replayed after a restart", async () => {
    const scratch = env.NODE.get(env.NODE.idFromName("scratch-deferred"));
    await runInDurableObject(scratch, (_node, state) => {
      const open = () => new Engine(new SqliteStorage(state.storage), { clock: new ManualClock(), random: fixedRandom });
      const run = (engine: Engine, ...argv: string[]) => {
        const r = engine.run({ mode: "single", commands: [argv], permission: "admin" });
        return "outcomes" in r ? r.outcomes[0] : r;
      };
      const get = (engine: Engine, key: string) => {
        const o = run(engine, "GET", key) as { result: Uint8Array | null };
        return o.result && new TextDecoder().decode(o.result);
      };
      const rows = () => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM keyspace WHERE key LIKE 'r:%'").one().n;
      const engine = open();
      run(engine, "FLUSHALL");
      run(engine, "SET", "r:a", "1");
      run(engine, "SET", "r:b", "2");
      expect(rows()).toBe(0);
      expect(engine.storage.replayFrom).not.toBeNull();
      // A storage transaction that stores them (a query over the table) and then fails.
      expect(() =>
        engine.storage.transaction(() => {
          engine.storage.keys.scan(0, null, 10);
          expect(rows()).toBe(2);
          throw new Error("rolled back");
        }),
      ).toThrow("rolled back");
      // Rolled back with it, and kept in memory again (the storage itself, not the engine's cache).
      expect(rows()).toBe(0);
      expect(new TextDecoder().decode(engine.storage.keys.get("r:a")!.value)).toBe("1");
      expect(engine.storage.replayFrom).not.toBeNull();
      // A restart (a new engine on the same database) replays them.
      const restarted = open();
      expect(get(restarted, "r:b")).toBe("2");
      expect(rows()).toBe(2);
      expect(restarted.storage.replayFrom).toBeNull();
    });
  });

  it("a key written again before a nested transaction reads, and is stored, as its new value", async () => {
    const scratch = env.NODE.get(env.NODE.idFromName("scratch-nested"));
    await runInDurableObject(scratch, (_node, state) => {
      const storage = new SqliteStorage(state.storage);
      const entry = (v: string) => ({ type: "string" as const, value: new TextEncoder().encode(v), expiresAt: null });
      const read = (key: string) => {
        const e = storage.keys.get(key);
        return e && new TextDecoder().decode(e.value);
      };
      const frame = new TextEncoder().encode("*1\r\n$4\r\nPING\r\n");
      const base = 1e12;
      storage.transaction(() => {
        storage.keys.put("n:k", entry("v1"));
        storage.log.append(base, frame);
      });
      expect(storage.replayFrom).not.toBeNull();
      storage.transaction(() => {
        storage.keys.put("n:k", entry("v2"));
        storage.log.append(base + frame.length, frame);
        storage.transaction(() => undefined);
        expect(read("n:k")).toBe("v2");
      });
      expect(read("n:k")).toBe("v2");
      storage.storeDeferred();
      expect(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM keyspace WHERE key = CAST('n:k' AS BLOB) AND value = CAST('v2' AS BLOB)").one().n).toBe(1);
    });
  });

  it("a master replays its own log as it ran, whatever a past full sync left in meta", async () => {
    const scratch = env.NODE.get(env.NODE.idFromName("scratch-replay-master"));
    await runInDurableObject(scratch, (_node, state) => {
      const open = () => new Engine(new SqliteStorage(state.storage), { clock: new ManualClock(), random: fixedRandom });
      const run = (engine: Engine, ...argv: string[]) => engine.run({ mode: "single", commands: [argv], permission: "admin" });
      const engine = open();
      run(engine, "FLUSHALL");
      run(engine, "HSET", "m:h", "f", "v");
      // Left over from when this node was a replica loading a full sync.
      engine.transaction(() => engine.storage.meta.set("recount", 1));
      run(engine, "RENAME", "m:h", "m:h2");
      expect(engine.storage.replayFrom).not.toBeNull();
      const restarted = open();
      expect(run(restarted, "HGET", "m:h2", "f")).toMatchObject({ outcomes: [{ result: new TextEncoder().encode("v") }] });
      expect(run(restarted, "EXISTS", "m:h")).toMatchObject({ outcomes: [{ result: 0 }] });
    });
  });
});

describe("meta rows kept in memory", () => {
  it("a transaction that rolls back leaves meta as it was, in memory as in SQLite", async () => {
    const scratch = env.NODE.get(env.NODE.idFromName("scratch-meta"));
    await runInDurableObject(scratch, (_node, state) => {
      const storage = new SqliteStorage(state.storage);
      storage.meta.set("probe", 1);
      expect(() =>
        storage.transaction(() => {
          storage.meta.set("probe", 2);
          expect(storage.meta.get("probe")).toBe(2);
          throw new Error("rolled back");
        }),
      ).toThrow("rolled back");
      expect(storage.meta.get("probe")).toBe(1);
      expect(new SqliteStorage(state.storage).meta.get("probe")).toBe(1);
    });
  });
});
