// The replication protocol on two engines (in-memory storage, one manual clock): full sync in
// chunks with writes in between, partial resync, duplicated and re-ordered deliveries, and the
// digest. A property test drives random writes through a full sync at random points.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { ReplicationLog } from "../../durable-objects/engine/replication/log";
import { START, type SnapshotCursor, packEntries, unpackEntries } from "../../durable-objects/engine/replication/protocol";
import { applyEntries, beginFullSync, digest, loadChunk, psync, snapshotChunk } from "../../durable-objects/engine/replication/sync";
import { fixedRandom } from "../support/fixtures";

function pair() {
  const clock = new ManualClock(1_000_000);
  const master = new Engine(new MemoryStorage(), { clock, random: { next: () => 0.5, hex: (n) => "ab".repeat(n) } });
  const replica = new Engine(new MemoryStorage(), { clock, random: { next: () => 0.5, hex: (n) => "cd".repeat(n) }, role: "slave" });
  const write = (...argv: (string | number)[]) =>
    master.run({ mode: "single", commands: [argv.map(String)], permission: "admin" });
  return { clock, master, replica, write };
}

/** Pulls with PSYNC until the replica has the master's offset. */
function catchUp(master: Engine, replica: Engine, maxBytes = 200) {
  for (let rounds = 0; replica.log.offset < master.log.offset; rounds++) {
    if (rounds > 10_000) throw new Error("no progress");
    const reply = psync(master, replica.log.replid, replica.log.offset, maxBytes);
    if (reply.kind !== "continue") throw new Error("unexpected FULLRESYNC");
    expect(applyEntries(replica, reply.entries)).toBe(true);
  }
}

describe("replication between two engines", () => {
  it("full sync, then streaming: same digest, offset and replid", () => {
    const { master, replica, write } = pair();
    for (let i = 0; i < 50; i++) write("SET", `k${i}`, `v${i}`, ...(i % 3 === 0 ? ["PX", 60_000] : []));
    const start = psync(master, replica.log.replid, replica.log.offset, 1000);
    expect(start.kind).toBe("fullresync");
    if (start.kind !== "fullresync") return;
    beginFullSync(replica, start.replid, start.offset);
    for (let cursor: SnapshotCursor | null = START; cursor !== null; ) {
      const chunk = snapshotChunk(master, cursor, 100);
      loadChunk(replica, chunk);
      cursor = chunk.next;
    }
    catchUp(master, replica);
    write("INCR", "counter");
    write("MSET", "a", "1", "b", "2");
    write("DEL", "k1");
    catchUp(master, replica);
    expect(digest(replica)).toBe(digest(master));
    expect(replica.log.offset).toBe(master.log.offset);
    expect(replica.log.replid).toBe(master.log.replid);
    expect(replica.keyspace.keyCount).toBe(master.keyspace.keyCount);
  });

  it("a push's run of frames applies as its entries, each kept as its own bytes, not a view of the whole run (what a promoted node ships on)", () => {
    const { master, replica, write } = pair();
    const s = psync(master, replica.log.replid, 0, 1000);
    if (s.kind !== "fullresync") throw new Error();
    beginFullSync(replica, s.replid, s.offset);
    loadChunk(replica, snapshotChunk(master, START, 1000));
    const from = master.log.offset;
    for (let i = 0; i < 20; i++) write("SET", `r${i}`, "x".repeat(i * 10));
    write("MSET", "a", "1", "b", "2");
    const run = packEntries(master.log.entriesAfter(from, Number.MAX_SAFE_INTEGER));
    expect(unpackEntries(run)).toEqual(master.log.entriesAfter(from, Number.MAX_SAFE_INTEGER));
    expect(unpackEntries(null)).toEqual([]);
    expect(applyEntries(replica, unpackEntries(run))).toBe(true);
    expect(digest(replica)).toBe(digest(master));
    for (const e of replica.log.entriesAfter(from, Number.MAX_SAFE_INTEGER)) expect(e.frame.byteLength).toBe(e.frame.buffer.byteLength);
  });

  it("applies duplicated and re-ordered deliveries once, and reports a gap", () => {
    const { master, replica, write } = pair();
    const s = psync(master, replica.log.replid, 0, 1000);
    if (s.kind !== "fullresync") throw new Error();
    beginFullSync(replica, s.replid, s.offset);
    loadChunk(replica, snapshotChunk(master, START, 1000));
    write("SET", "a", "1");
    write("INCR", "a");
    write("APPEND", "a", "x");
    const all = master.log.entriesAfter(0, Infinity);
    expect(applyEntries(replica, all.slice(1))).toBe(false); // a gap: resync
    expect(applyEntries(replica, all.slice(0, 2))).toBe(true);
    expect(applyEntries(replica, all)).toBe(true); // the first two again: skipped
    expect(applyEntries(replica, all.slice(1))).toBe(true);
    expect(digest(replica)).toBe(digest(master));
    expect(replica.log.offset).toBe(master.log.offset);
  });

  it("continues after a cut (partial resync), and needs a full sync once the backlog is overrun", () => {
    const { master, replica, write } = pair();
    master.log.backlogBytes = 2000;
    const s = psync(master, replica.log.replid, 0, 1000);
    if (s.kind !== "fullresync") throw new Error();
    beginFullSync(replica, s.replid, s.offset);
    loadChunk(replica, snapshotChunk(master, START, 1000));
    for (let i = 0; i < 10; i++) write("SET", `k${i}`, "v");
    expect(psync(master, replica.log.replid, replica.log.offset, 100).kind).toBe("continue");
    catchUp(master, replica);
    for (let i = 0; i < 200; i++) write("SET", `k${i}`, "w".repeat(20));
    expect(psync(master, replica.log.replid, replica.log.offset, 100).kind).toBe("fullresync");
  });

  it("a replica refuses data commands while it cannot serve them (LOADING), not PING or INFO", async () => {
    const { errors } = await import("../../durable-objects/engine/errors");
    let refusal: ReturnType<typeof errors.loading> | null = errors.loading();
    const replication = { goodReplicas: () => 0, replicaRefusal: () => refusal, writeRefusal: () => null, info: () => ({ slaves: [], master: [], failoverState: "no-failover" }), fullSyncInProgress: () => false };
    const replica = new Engine(new MemoryStorage(), { clock: new ManualClock(), random: fixedRandom, role: "slave", replication });
    const run = (...argv: string[]) => replica.run({ mode: "single", commands: [argv], permission: "admin" });
    expect(run("GET", "k")).toMatchObject({ outcomes: [{ error: "LOADING Redis is loading the dataset in memory" }] });
    expect(run("MGET", "a", "b")).toMatchObject({ outcomes: [{ error: expect.stringMatching(/^LOADING/) }] });
    expect(run("PING")).toMatchObject({ outcomes: [{ result: "PONG" }] });
    expect(run("INFO", "replication")).toMatchObject({ outcomes: [{ result: expect.any(Uint8Array) }] });
    refusal = null;
    expect(run("GET", "k")).toMatchObject({ outcomes: [{ result: null }] });
  });

  it("a replica never expires keys; the master's DEL removes them", () => {
    const { clock, master, replica, write } = pair();
    const s = psync(master, replica.log.replid, 0, 1000);
    if (s.kind !== "fullresync") throw new Error();
    beginFullSync(replica, s.replid, s.offset);
    loadChunk(replica, snapshotChunk(master, START, 1000));
    write("SET", "t", "v", "PX", 100);
    catchUp(master, replica);
    clock.advance(200);
    expect(replica.run({ mode: "single", commands: [["GET", "t"]], permission: "admin" })).toMatchObject({ outcomes: [{ result: null }] });
    expect(replica.storage.keys.get("t")).not.toBeNull();
    expect(master.sweep()).toBe(1);
    catchUp(master, replica);
    expect(replica.storage.keys.get("t")).toBeNull();
    expect(digest(replica)).toBe(digest(master));
  });

  type Op = { kind: "write"; argv: string[] } | { kind: "chunk" } | { kind: "advance"; ms: number };
  const key = fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h");
  const write = fc.oneof(
    fc.tuple(key, fc.string({ maxLength: 5 })).map(([k, v]) => ["SET", k, v]),
    fc.tuple(key, fc.integer({ min: 1, max: 50 })).map(([k, ms]) => ["SET", k, "t", "PX", String(ms)]),
    key.map((k) => ["DEL", k]),
    key.map((k) => ["INCR", k]),
    fc.tuple(key, fc.string({ maxLength: 3 })).map(([k, v]) => ["APPEND", k, v]),
    fc.tuple(key, key).map(([a, b]) => ["RENAME", a, b]),
    fc.tuple(key, fc.integer({ min: 1, max: 50 })).map(([k, s]) => ["PEXPIRE", k, String(s)]),
    key.map((k) => ["PERSIST", k]),
    fc.tuple(key, key).map(([a, b]) => ["MSET", a, "m", b, "n"]),
    fc.constant(["FLUSHALL"] as string[]),
    key.map((k) => ["GET", k]),
  );
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: write.map((argv) => ({ kind: "write" as const, argv })) },
    { weight: 2, arbitrary: fc.constant({ kind: "chunk" as const }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 30 }).map((ms) => ({ kind: "advance" as const, ms })) },
  );

  it("a full sync in chunks with writes in between ends equal to the master (property)", () => {
    fc.assert(
      fc.property(
        fc.array(write, { maxLength: 30 }),
        fc.array(op, { maxLength: 60 }),
        fc.array(write, { maxLength: 20 }),
        fc.integer({ min: 1, max: 60 }),
        (before, during, after, chunkBytes) => {
          const { clock, master, replica } = pair();
          const run = (argv: string[]) => master.run({ mode: "single", commands: [argv], permission: "admin" });
          before.forEach(run);
          const s = psync(master, replica.log.replid, 0, 1000);
          if (s.kind !== "fullresync") throw new Error();
          beginFullSync(replica, s.replid, s.offset);
          let cursor: SnapshotCursor | null = START;
          let done = false;
          const nextChunk = () => {
            if (cursor === null) return;
            const chunk = snapshotChunk(master, cursor, chunkBytes);
            loadChunk(replica, chunk);
            cursor = chunk.next;
            done = chunk.next === null;
          };
          for (const o of during) {
            if (o.kind === "write") run(o.argv);
            else if (o.kind === "chunk") nextChunk();
            else clock.advance(o.ms);
          }
          while (!done) nextChunk();
          catchUp(master, replica, 64);
          after.forEach(run);
          master.sweep(1000);
          catchUp(master, replica, 64);
          expect(digest(replica)).toBe(digest(master));
          expect(replica.log.offset).toBe(master.log.offset);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("the log's in-memory tail", () => {
  /** Every entry start in the backlog, as stored (a log made afresh on the storage has no tail). */
  const starts = (log: ReplicationLog) => {
    const first = log.backlog.firstByteOffset - 1;
    return first >= log.offset ? [] : log.entriesAfter(first, Number.MAX_SAFE_INTEGER).map((e) => e.offset);
  };

  it("answers entriesAfter exactly as storage does, through trims, groups and a failed transaction (property)", () => {
    const command = fc.oneof(
      fc.tuple(fc.nat(20), fc.nat(4000)).map(([k, n]) => ["SET", `k${k}`, "v".repeat(n)]),
      fc.array(fc.tuple(fc.nat(20), fc.nat(2000)), { minLength: 2, maxLength: 4 }).map((kv) => ["MSET", ...kv.flatMap(([k, n]) => [`k${k}`, "m".repeat(n)])]),
      fc.nat(20).map((k) => ["DEL", `k${k}`]),
      fc.constant(["FAIL"]),
    );
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 60 }), fc.integer({ min: 64, max: 200_000 }), fc.integer({ min: 1, max: 50_000 }), (commands, backlog, maxBytes) => {
        const { master } = pair();
        master.log.backlogBytes = backlog;
        for (const argv of commands) {
          if (argv[0] !== "FAIL") {
            master.run({ mode: "single", commands: [argv], permission: "admin" });
            continue;
          }
          // A commit whose transaction fails leaves neither storage nor the tail changed.
          expect(() => master.transaction(() => {
            master.log.append([["SET", "lost", "x"]]);
            throw new Error("fails");
          })).toThrow("fails");
        }
        const stored = new ReplicationLog(master.storage, fixedRandom, backlog);
        expect(stored.offset).toBe(master.log.offset);
        for (const from of starts(stored)) expect(master.log.entriesAfter(from, maxBytes)).toEqual(stored.entriesAfter(from, maxBytes));
      }),
      { numRuns: 200 },
    );
  });
});

it("fixtures stay importable", () => expect(fixedRandom.next()).toBe(0.5));
