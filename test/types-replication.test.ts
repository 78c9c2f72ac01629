// Collections through replication (issue 15): a hash that spans snapshot chunks read at different
// offsets while it keeps changing must end on the replica exactly as on the master, with its
// count exact; element effects are not idempotent (HINCRBY), so replays and duplicated
// deliveries must apply each once. Two engines on in-memory storage and one manual clock; the
// master is told when a full sync is in progress (RENAME and COPY of a collection are then logged
// as what they wrote, else as themselves).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../durable-objects/engine/clock";
import { Engine, type ReplicationView } from "../durable-objects/engine/engine";
import { START, type SnapshotCursor } from "../durable-objects/engine/replication";
import { MemoryStorage } from "../durable-objects/engine/storage";
import { applyEntries, beginFullSync, digest, endFullSync, loadChunk, psync, snapshotChunk } from "../durable-objects/engine/sync";
import { sizesExact } from "./dataset";

function pair() {
  const clock = new ManualClock(1_000_000);
  const syncing = { now: false };
  const view: ReplicationView = {
    goodReplicas: () => 0,
    replicaRefusal: () => null,
    writeRefusal: () => null,
    info: () => ({ slaves: [], master: [], failoverState: "no-failover" }),
    fullSyncInProgress: () => syncing.now,
  };
  const master = new Engine(new MemoryStorage(), { clock, random: { next: () => 0.5, hex: (n) => "ab".repeat(n) }, replication: view });
  const replica = new Engine(new MemoryStorage(), { clock, random: { next: () => 0.5, hex: (n) => "cd".repeat(n) }, role: "slave" });
  return { clock, master, replica, syncing };
}

/** Pulls with PSYNC until the replica has the master's offset; each batch delivered twice (a duplicate). */
function catchUp(master: Engine, replica: Engine, maxBytes: number) {
  for (let rounds = 0; replica.log.offset < master.log.offset; rounds++) {
    if (rounds > 10_000) throw new Error("no progress");
    const reply = psync(master, replica.log.replid, replica.log.offset, maxBytes);
    if (reply.kind !== "continue") throw new Error("unexpected FULLRESYNC");
    expect(applyEntries(replica, reply.entries)).toBe(true);
    expect(applyEntries(replica, reply.entries)).toBe(true);
  }
}

/** Every collection's stored count equals its elements, and its size (with the dataset's) is exact, on `engine`. */
function countsExact(engine: Engine) {
  for (const row of engine.storage.keys.scan(0, 1_000_000))
    if (row.entry.eid !== undefined) {
      expect(row.entry.count, row.key).toBe(engine.storage.elements.count(row.entry.eid));
      expect(row.entry.count, row.key).toBeGreaterThan(0);
    }
  sizesExact(engine);
}

const key = fc.constantFrom("a", "b", "c", "d");
const field = fc.constantFrom("f0", "f1", "f2", "f3", "f4", "é", "");
const write = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(key, field, fc.string({ maxLength: 4 })).map(([k, f, v]) => ["HSET", k, f, v]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.integer({ min: 5, max: 40 })).map(([k, n]) => ["HSET", k, ...Array.from({ length: n }, (_, i) => [`m${i}`, `v${i}`]).flat()]) },
  { weight: 3, arbitrary: fc.tuple(key, field, fc.integer({ min: -5, max: 5 })).map(([k, f, n]) => ["HINCRBY", k, f, String(n)]) },
  { weight: 1, arbitrary: fc.tuple(key, field).map(([k, f]) => ["HINCRBYFLOAT", k, f, "0.5"]) },
  { weight: 1, arbitrary: fc.tuple(key, field).map(([k, f]) => ["HSETNX", k, f, "nx"]) },
  { weight: 3, arbitrary: fc.tuple(key, field, field).map(([k, f, g]) => ["HDEL", k, f, g]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.integer({ min: 0, max: 39 })).map(([k, i]) => ["HDEL", k, `m${i}`, `m${i + 1}`, `m${i + 2}`]) },
  { weight: 1, arbitrary: key.map((k) => ["DEL", k]) },
  { weight: 1, arbitrary: fc.tuple(key, key).map(([a, b]) => ["RENAME", a, b]) },
  { weight: 1, arbitrary: fc.tuple(key, key).map(([a, b]) => ["COPY", a, b, "REPLACE"]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.string({ maxLength: 3 })).map(([k, v]) => ["SET", k, v]) },
  { weight: 1, arbitrary: key.map((k) => ["PEXPIRE", k, "100000"]) },
  { weight: 1, arbitrary: key.map((k) => ["PERSIST", k]) },
  { weight: 1, arbitrary: fc.constant(["FLUSHALL"] as string[]) },
  // Sets: members added and removed, random pops (the effect is what was removed), moves, stores.
  { weight: 3, arbitrary: fc.tuple(key, field, field).map(([k, m, n]) => ["SADD", k, m, n]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.integer({ min: 5, max: 40 })).map(([k, n]) => ["SADD", k, ...Array.from({ length: n }, (_, i) => `s${i}`)]) },
  { weight: 2, arbitrary: fc.tuple(key, field).map(([k, m]) => ["SREM", k, m]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.integer({ min: 1, max: 5 })).map(([k, n]) => ["SPOP", k, String(n)]) },
  { weight: 1, arbitrary: fc.tuple(key, key, field).map(([a, b, m]) => ["SMOVE", a, b, m]) },
  { weight: 1, arbitrary: fc.tuple(key, key, key).map(([d, a, b]) => ["SUNIONSTORE", d, a, b]) },
  { weight: 1, arbitrary: fc.tuple(key, key, key).map(([d, a, b]) => ["SINTERSTORE", d, a, b]) },
);
/** A write alone, or two in a MULTI (effects of one commit, each at its own offset). */
const batch = fc.oneof(
  { weight: 5, arbitrary: write.map((argv) => [argv]) },
  { weight: 1, arbitrary: fc.tuple(write, write).map(([a, b]) => [a, b]) },
);
type Op = { kind: "write"; commands: string[][] } | { kind: "chunk" };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: batch.map((commands) => ({ kind: "write" as const, commands })) },
  { weight: 2, arbitrary: fc.constant({ kind: "chunk" as const }) },
);

describe("hashes and sets through replication", () => {
  it("a full sync in chunks while hashes and sets change ends equal to the master, counts exact (property)", () => {
    fc.assert(
      fc.property(
        fc.array(batch, { maxLength: 30 }),
        fc.array(op, { maxLength: 60 }),
        fc.array(batch, { maxLength: 20 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 400 }),
        (before, during, after, chunkBytes, pullBytes) => {
          const { master, replica, syncing } = pair();
          const run = (commands: string[][]) =>
            master.run({ mode: commands.length > 1 ? "multi" : "single", commands, permission: "admin" });
          before.forEach(run);
          const s = psync(master, replica.log.replid, 0, 1000);
          if (s.kind !== "fullresync") throw new Error();
          syncing.now = true;
          beginFullSync(replica, s.replid, s.offset);
          let cursor: SnapshotCursor | null = START;
          const nextChunk = () => {
            if (cursor === null) return;
            const chunk = snapshotChunk(master, cursor, chunkBytes);
            loadChunk(replica, chunk);
            cursor = chunk.next;
          };
          for (const o of during) {
            if (o.kind === "write") run(o.commands);
            else nextChunk();
          }
          while (cursor !== null) nextChunk();
          endFullSync(replica);
          catchUp(master, replica, pullBytes);
          syncing.now = false;
          after.forEach(run);
          catchUp(master, replica, pullBytes);
          expect(digest(replica)).toBe(digest(master));
          expect(replica.log.offset).toBe(master.log.offset);
          countsExact(master);
          countsExact(replica);
          expect(replica.keyspace.usedBytes).toBe(master.keyspace.usedBytes);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("a big hash spanning many chunks, changed between every chunk", () => {
    const { master, replica, syncing } = pair();
    const run = (...argv: string[]) => master.run({ mode: "single", commands: [argv], permission: "admin" });
    for (let i = 0; i < 500; i++) run("HSET", "big", `f${String(i).padStart(3, "0")}`, `v${i}`);
    const s = psync(master, replica.log.replid, 0, 1000);
    if (s.kind !== "fullresync") throw new Error();
    syncing.now = true;
    beginFullSync(replica, s.replid, s.offset);
    let chunks = 0;
    for (let cursor: SnapshotCursor | null = START, i = 0; cursor !== null; i++) {
      const chunk = snapshotChunk(master, cursor, 300);
      loadChunk(replica, chunk);
      cursor = chunk.next;
      chunks++;
      // Fields already sent, fields not yet sent, and the hash whole.
      run("HINCRBY", "big", `f${String(i).padStart(3, "0")}`, "1");
      run("HINCRBY", "big", `f${String(499 - i).padStart(3, "0")}`, "1");
      run("HDEL", "big", `f${String((i * 7) % 500).padStart(3, "0")}`);
      if (i === 20) run("RENAME", "big", "big2");
      if (i === 21) run("RENAME", "big2", "big");
    }
    expect(chunks).toBeGreaterThan(10);
    endFullSync(replica);
    catchUp(master, replica, 500);
    syncing.now = false;
    expect(digest(replica)).toBe(digest(master));
    countsExact(replica);
    countsExact(master);
    expect(replica.keyspace.usedBytes).toBe(master.keyspace.usedBytes);
    const hlen = (e: Engine) => e.run({ mode: "single", commands: [["HLEN", "big"]], permission: "admin" });
    expect(hlen(replica)).toEqual(hlen(master));
  });
});
