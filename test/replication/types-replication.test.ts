// Collections through replication (issue 15): a hash that spans snapshot chunks read at different
// offsets while it keeps changing must end on the replica exactly as on the master, with its
// count exact; element effects are not idempotent (HINCRBY), so replays and duplicated
// deliveries must apply each once. Two engines on in-memory storage and one manual clock; the
// master is told when a full sync is in progress (RENAME and COPY of a collection are then logged
// as what they wrote, else as themselves).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Engine } from "../../durable-objects/engine/engine";
import { digest } from "../../durable-objects/engine/replication/sync";
import { catchUp, enginePair, fullSync, writesAroundFullSync } from "../support/engine-pair";
import { sizesExact } from "../support/dataset";



/** Every collection's stored count equals its elements, and its size (with the dataset's) is exact, on `engine`. */
function countsExact(engine: Engine) {
  for (const row of engine.storage.keys.scan(0, null, 1_000_000))
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

/** The engines' random source (SPOP and friends choose with it). */
const RANDOM = 0.5;

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
          const p = enginePair(RANDOM);
          const { master, replica, syncing } = p;
          const run = (commands: string[][]) =>
            master.run({ mode: commands.length > 1 ? "multi" : "single", commands, permission: "admin" });
          writesAroundFullSync(p, run, { before, during, after, chunkBytes, pullBytes }, (o: { commands: string[][] }) => o.commands);
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
    const p = enginePair(RANDOM);
    const { master, replica, syncing } = p;
    const run = (...argv: string[]) => master.run({ mode: "single", commands: [argv], permission: "admin" });
    for (let i = 0; i < 500; i++) run("HSET", "big", `f${String(i).padStart(3, "0")}`, `v${i}`);
    const sync = fullSync(p, 300);
    for (let i = 0; !sync.done; i++) {
      sync.chunk();
      // Fields already sent, fields not yet sent, and the hash whole.
      run("HINCRBY", "big", `f${String(i).padStart(3, "0")}`, "1");
      run("HINCRBY", "big", `f${String(499 - i).padStart(3, "0")}`, "1");
      run("HDEL", "big", `f${String((i * 7) % 500).padStart(3, "0")}`);
      if (i === 20) run("RENAME", "big", "big2");
      if (i === 21) run("RENAME", "big2", "big");
    }
    expect(sync.chunks).toBeGreaterThan(10);
    sync.finish();
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
