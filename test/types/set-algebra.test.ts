// Set algebra done by the storage (durable-objects/sqlite/algebra.ts: one SQL statement, the result
// written with INSERT ... SELECT) against the engine's own computation (types/algebra.ts, what the
// in-memory storage uses): the same random sets, sorted sets and commands on both, every reply
// equal, weights with infinities and zeros, all three aggregates, inputs written earlier in the
// same MULTI (computed by the engine then); a *STORE logged as one small STORE effect that a
// replica on either storage applies to the same digest; and the expanded form while a replica
// loads a full sync.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { type Batch, Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { applyEntries, beginFullSync, digest, endFullSync, psync } from "../../durable-objects/engine/replication/sync";
import { SqliteStorage } from "../../durable-objects/sqlite/sqlite-storage";
import { seeded } from "../support/cluster";
import { masterView as view } from "../support/engine-pair";

const admin = (commands: string[][], mode: Batch["mode"] = "pipeline"): Batch => ({ mode, commands, permission: "admin" });

function freshSqlite(state: DurableObjectState): SqliteStorage {
  for (const t of ["keyspace", "elements", "backlog", "meta", "dropped", "ranks", "ranked"]) state.storage.sql.exec(`DROP TABLE IF EXISTS ${t}`);
  return new SqliteStorage(state.storage);
}

/** A replica that follows `master`'s history from its start (the master's backlog still holds it all). */
function follow(master: Engine, replica: Engine): Engine {
  beginFullSync(replica, master.log.replid, 0);
  endFullSync(replica);
  return replica;
}

/** Applies everything `master` logged to `replica`. */
function catchUp(master: Engine, replica: Engine): void {
  const reply = psync(master, replica.log.replid, replica.log.offset, Number.MAX_SAFE_INTEGER);
  if (reply.kind !== "continue") throw new Error("expected CONTINUE");
  expect(applyEntries(replica, reply.entries)).toBe(true);
}

describe("set algebra in the storage", () => {
  it("answers as the engine's own computation: sets, sorted sets, weights, aggregates, MULTI", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("set-algebra-model")), (_node, state) => {
      const clock = new ManualClock();
      const sqlite = new Engine(freshSqlite(state), { clock, random: seeded(3), node: "sqlite" });
      const memory = new Engine(new MemoryStorage(), { clock, random: seeded(3), node: "memory" });
      const r = seeded(9);
      const int = (n: number) => Math.floor(r.next() * n);
      const key = () => ["s1", "s2", "s3", "z1", "z2", "z3", "nope", "str"][int(8)]!;
      const member = () => `m${int(300)}`;
      const weight = () => ["1", "2", "-1", "0", "0.5", "inf", "-inf", "1e308"][int(8)]!;
      const keys = (n: number) => Array.from({ length: n }, key);
      const zop = (name: string, withScores: boolean) => {
        const n = 1 + int(3);
        const args = [String(n), ...keys(n)];
        if (r.next() < 0.5) args.push("WEIGHTS", ...Array.from({ length: n }, weight));
        if (r.next() < 0.5) args.push("AGGREGATE", ["SUM", "MIN", "MAX"][int(3)]!);
        if (withScores && r.next() < 0.7) args.push("WITHSCORES");
        return [name, ...args];
      };
      const command = (): string[] =>
        [
          () => ["SADD", ["s1", "s2", "s3"][int(3)]!, ...Array.from({ length: 1 + int(80) }, member)],
          () => ["SREM", ["s1", "s2", "s3"][int(3)]!, ...Array.from({ length: 1 + int(20) }, member)],
          () => ["ZADD", ["z1", "z2", "z3"][int(3)]!, ...Array.from({ length: 1 + int(80) }, () => [String(int(20) - 10), member()]).flat()],
          () => ["ZREM", ["z1", "z2", "z3"][int(3)]!, ...Array.from({ length: 1 + int(20) }, member)],
          () => ["SET", "str", "x"],
          () => ["SUNION", ...keys(1 + int(3))],
          () => ["SINTER", ...keys(1 + int(4))],
          () => ["SDIFF", ...keys(1 + int(3))],
          () => ["SUNIONSTORE", ["d", "s1", "z1"][int(3)]!, ...keys(1 + int(3))],
          () => ["SINTERSTORE", "d", ...keys(1 + int(3))],
          () => ["SDIFFSTORE", "d", ...keys(1 + int(3))],
          () => ["SINTERCARD", "2", key(), key(), "LIMIT", String(int(20))],
          () => zop("ZUNION", true),
          () => zop("ZINTER", true),
          () => ["ZDIFF", "2", key(), key(), "WITHSCORES"],
          () => ["ZUNIONSTORE", ["zd", "z1"][int(2)]!, ...zop("", false).slice(1)],
          () => ["ZINTERSTORE", "zd", ...zop("", false).slice(1)],
          () => ["ZDIFFSTORE", "zd", "2", key(), key()],
          () => ["ZINTERCARD", "2", key(), key(), "LIMIT", String(int(5))],
          () => ["COPY", key(), "copied", "REPLACE"],
          () => ["SMEMBERS", "d"],
          () => ["ZRANGE", "zd", "0", "-1", "WITHSCORES"],
          () => ["SCARD", "copied"],
        ][int(23)]!();
      for (let round = 0; round < 150; round++) {
        const batch = admin(Array.from({ length: 1 + int(6) }, command), round % 4 === 3 ? "multi" : "pipeline");
        expect(sqlite.run(batch), `round ${round}: ${JSON.stringify(batch.commands)}`).toEqual(memory.run(batch));
      }
      expect(digest(sqlite)).toBe(digest(memory));
    });
  }, 120_000);

  it("logs a *STORE as one small STORE effect, which a replica on either storage applies to the same digest", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("set-algebra-replication")), (_node, state) => {
      const clock = new ManualClock();
      const syncing = { now: false };
      // The SQLite master's effects go to an in-memory replica, and an in-memory master's to a SQLite replica.
      const sqlite = new Engine(freshSqlite(state), { clock, random: seeded(1), node: "sqlite", replication: view(syncing) });
      const memory = new Engine(new MemoryStorage(), { clock, random: seeded(1), node: "memory", replication: view(syncing) });
      const fill = admin([
        ["SADD", "a", ...Array.from({ length: 2000 }, (_, i) => `m${i}`)],
        ["SADD", "b", ...Array.from({ length: 2000 }, (_, i) => `m${i + 1000}`)],
        ["ZADD", "za", ...Array.from({ length: 2000 }, (_, i) => [String(i % 50), `m${i}`]).flat()],
        ["ZADD", "zb", ...Array.from({ length: 2000 }, (_, i) => [String(-i), `m${i + 500}`]).flat()],
      ]);
      sqlite.run(fill);
      memory.run(fill);
      const replicaOfSqlite = follow(sqlite, new Engine(new MemoryStorage(), { clock, random: seeded(2), role: "slave" }));
      const before = sqlite.log.offset;
      catchUp(sqlite, replicaOfSqlite);
      const stores = admin([
        ["SUNIONSTORE", "u", "a", "b"],
        ["SINTERSTORE", "i", "a", "b"],
        ["SDIFFSTORE", "a", "a", "b"],
        ["ZUNIONSTORE", "zu", "2", "za", "zb", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX"],
        ["ZINTERSTORE", "za", "2", "za", "b"],
        ["COPY", "zb", "zc"],
      ]);
      const logged = sqlite.log.offset;
      expect(sqlite.run(stores)).toEqual(memory.run(stores));
      // Six commands over 2,000-member inputs: each a few dozen bytes of log, not its result.
      expect(sqlite.log.offset - logged).toBeLessThan(600);
      expect(before).toBeGreaterThan(0);
      catchUp(sqlite, replicaOfSqlite);
      expect(digest(replicaOfSqlite)).toBe(digest(sqlite));
      expect(digest(sqlite)).toBe(digest(memory));
      // The other way round: an in-memory master, a SQLite replica (its own storage computes the STOREs).
      // Only one SQLite database here, so the replica starts from an empty one.
      const replicaSqlite = follow(memory, new Engine(freshSqlite(state), { clock, random: seeded(2), role: "slave" }));
      catchUp(memory, replicaSqlite);
      expect(digest(replicaSqlite)).toBe(digest(memory));
    });
  }, 120_000);

  it("logs the result's members instead while a replica loads a full sync", () => {
    const clock = new ManualClock();
    const syncing = { now: true };
    const master = new Engine(new MemoryStorage(), { clock, random: seeded(1), node: "m", replication: view(syncing) });
    master.run(admin([["SADD", "a", "x", "y"], ["SADD", "b", "y", "z"]]));
    const from = master.log.offset;
    master.run(admin([["SUNIONSTORE", "u", "a", "b"]]));
    const reply = psync(master, master.log.replid, from, 1 << 20);
    if (reply.kind !== "continue") throw new Error("expected CONTINUE");
    const text = reply.entries.map((e) => new TextDecoder().decode(e.frame)).join("");
    expect(text).not.toContain("STORE");
    expect(text).toContain("SADD");
  });
});
