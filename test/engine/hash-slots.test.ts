// Redis Cluster's hash slots in the keyspace's order (engine/slot.ts): CRC16 with hash tags as
// redis-server computes it, a storage slot that begins with the hash slot (so a hash slot's keys
// are one range: CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT read that range only), schema 12's
// move of every key of an older database to its new slot, and CLUSTER on an unsharded node.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fromBytes, toBytes } from "../../durable-objects/engine/bytes";
import { ManualClock } from "../../durable-objects/engine/clock";
import { type Batch, Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { SLOT_SPAN, hashSlot, hashSlotAt, slotOf } from "../../durable-objects/engine/slot";
import { digest } from "../../durable-objects/engine/replication/sync";
import { SqliteStorage } from "../../durable-objects/sqlite/sqlite-storage";
import { seeded } from "../support/cluster";
import { wipe } from "../support/dying-storage";

const admin = (commands: string[][]): Batch => ({ mode: "pipeline", commands, permission: "admin" });
const results = (engine: Engine, commands: string[][]) => {
  const r = engine.run(admin(commands));
  if (!("outcomes" in r)) throw new Error(r.error);
  return r.outcomes.map((o) => ("result" in o ? o.result : o));
};

describe("hash slots", () => {
  it("are redis-server 7.0's CLUSTER KEYSLOT, hash tags included", () => {
    // Each answered by `redis-cli -p <port> cluster keyslot <key>` against redis-server 7.0.15 with cluster-enabled yes.
    const answers: [string, number][] = [
      ["foo", 12182], ["bar", 5061], ["somekey", 11058], ["123456789", 12739], ["{user1000}.following", 3443],
      ["foo{}{bar}", 8363], ["foo{{bar}}zap", 4015], ["foo{bar}{zap}", 5061], ["{user1}:a", 8106], ["a", 15495],
      ["b", 3300], ["c", 7365], ["", 0], ["k\xff", 2336],
    ];
    for (const [key, slot] of answers) expect([key, hashSlot(key)]).toEqual([key, slot]);
    expect(hashSlotAt(slotOf("{user1}:a"))).toBe(8106);
    expect(hashSlotAt(slotOf("{user1}:b"))).toBe(8106);
  });

  it("order the keyspace: a hash slot's keys are one range, which CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT read", () => {
    const engine = new Engine(new MemoryStorage(), { clock: new ManualClock(1_000), random: seeded(1), cluster: true });
    const tagged = Array.from({ length: 25 }, (_, i) => `{t}${i}`);
    results(engine, [["MSET", ...tagged.flatMap((k) => [k, "v"])], ...Array.from({ length: 40 }, (_, i) => ["SET", `other${i}`, "v"])]);
    const slot = hashSlot("t");
    const scan = results(engine, [["SCAN", String(slot * SLOT_SPAN), "COUNT", "1000"]])[0] as [Uint8Array, Uint8Array[]];
    // From the slot's first position on: its 25 keys first, then the slots after it only.
    const keys = scan[1].map(fromBytes);
    expect(keys.slice(0, 25).sort()).toEqual([...tagged].sort());
    expect(keys.slice(25).every((k) => hashSlot(k) > slot)).toBe(true);
    expect(results(engine, [["CLUSTER", "COUNTKEYSINSLOT", String(slot)], ["CLUSTER", "KEYSLOT", "{t}x"]])).toEqual([25, slot]);
    const some = results(engine, [["CLUSTER", "GETKEYSINSLOT", String(slot), "10"]])[0] as Uint8Array[];
    expect(some.map(fromBytes).every((k) => tagged.includes(k))).toBe(true);
    expect(some).toHaveLength(10);
    expect(results(engine, [["CLUSTER", "GETKEYSINSLOT", String(slot), "0"], ["CLUSTER", "COUNTKEYSINSLOT", String(hashSlot("nothing-here") ^ 1)]])[0]).toEqual([]);
    expect(results(engine, [["CLUSTER", "COUNTKEYSINSLOT", "16384"], ["CLUSTER", "GETKEYSINSLOT", "1", "-1"], ["CLUSTER", "GETKEYSINSLOT", "x", "1"]])).toEqual([
      { error: "ERR Invalid slot" },
      { error: "ERR Invalid slot or number of keys" },
      { error: "ERR value is not an integer or out of range" },
    ]);
    // Keys of a few hash slots only (a shard's): RANDOMKEY still finds each of them.
    const seen = new Set(Array.from({ length: 400 }, () => fromBytes(results(engine, [["RANDOMKEY"]])[0] as Uint8Array)));
    expect(seen.size).toBeGreaterThan(40);
  });

  it("CLUSTER answers Redis's error on a node that is not one shard of several", () => {
    const engine = new Engine(new MemoryStorage(), { clock: new ManualClock(1_000), random: seeded(1) });
    expect(results(engine, [["CLUSTER", "KEYSLOT", "a"], ["CLUSTER", "INFO"], ["CLUSTER", "NOPE"]])).toEqual([
      { error: "ERR This instance has cluster support disabled" },
      { error: "ERR This instance has cluster support disabled" },
      { error: "ERR unknown subcommand 'NOPE'. Try CLUSTER HELP." },
    ]);
  });

  it("RANDOMKEY reads a few rows of a large keyspace on SQLite, whatever its size", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("random-rows")), (_node, state) => {
      wipe(state.storage);
      const storage = new SqliteStorage(state.storage);
      const engine = new Engine(storage, { clock: new ManualClock(1_000), random: seeded(5), node: "m" });
      for (let i = 0; i < 5000; i += 500) results(engine, [["MSET", ...Array.from({ length: 500 }, (_, j) => [`k${i + j}`, "v"]).flat()]]);
      engine.storage.transaction(() => engine.storage.storeDeferred());
      const before = storage.usage().rows_read;
      for (let i = 0; i < 10; i++) results(engine, [["RANDOMKEY"]]);
      // Each draw: the span's two ends, the key at a point and the key of its hash slot; a scan of the keyspace reads 5,000.
      expect((storage.usage().rows_read - before) / 10).toBeLessThan(20);
    });
  });

  it("schema 12 moves each key of an older database to its slot, with its value, deadline and elements", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("schema-11")), (_node, state) => {
      const sql = state.storage.sql;
      wipe(state.storage);
      const clock = new ManualClock(1_800_000_000_000);
      const writer = new Engine(new SqliteStorage(state.storage), { clock, random: seeded(3), node: "m" });
      const keys = Array.from({ length: 600 }, (_, i) => `k${i}`);
      results(writer, [...keys.map((k) => ["SET", k, k, "PX", "3600000"]), ["HSET", "h", "f", "1"], ["ZADD", "z", "1", "a"], ["SET", "k\xff\x00", "bytes"]]);
      writer.storage.transaction(() => writer.storage.storeDeferred());
      const before = results(writer, [["KEYS", "*"], ["GET", "k7"], ["PTTL", "k7"], ["HGETALL", "h"], ["ZSCORE", "z", "a"], ["GET", "k\xff\x00"], ["DBSIZE"]]);
      const digestBefore = digest(writer);
      // Schema 11's slots: every key elsewhere than schema 12 puts it.
      sql.exec(`UPDATE keyspace SET slot = (slot * 7 + 12345) % ${2 ** 52}`);
      sql.exec("UPDATE meta SET value = 11 WHERE name = 'schema_version'");
      const reader = new Engine(new SqliteStorage(state.storage), { clock, random: seeded(3), node: "m" });
      const rows = sql.exec<{ slot: number; key: ArrayBuffer }>("SELECT slot, key FROM keyspace").toArray();
      expect(rows).toHaveLength(603);
      for (const row of rows) expect(row.slot).toBe(slotOf(fromBytes(new Uint8Array(row.key))));
      expect(results(reader, [["KEYS", "*"], ["GET", "k7"], ["PTTL", "k7"], ["HGETALL", "h"], ["ZSCORE", "z", "a"], ["GET", "k\xff\x00"], ["DBSIZE"]])).toEqual(before);
      expect(digest(reader)).toBe(digestBefore);
      expect(results(reader, [["GET", "k599"]])).toEqual([toBytes("k599")]);
    });
  });
});
