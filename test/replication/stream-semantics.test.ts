// Issue 13's replication defects, each on two engines (in-memory storage, one manual clock): what
// the review reproduced, stated as the property that must hold.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { WaitForReplicas } from "../../durable-objects/engine/command";
import { type Batch, Engine } from "../../durable-objects/engine/engine";
import { REQUEST_LIMITS } from "../../durable-objects/engine/limits";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { START, type SnapshotCursor } from "../../durable-objects/engine/replication/protocol";
import { applyEntries, beginFullSync, consistentAt, digest, endFullSync, loadChunk, psync, snapshotChunk } from "../../durable-objects/engine/replication/sync";
import { fixedRandom } from "../support/fixtures";

function pair() {
  const clock = new ManualClock(1_000_000);
  const master = new Engine(new MemoryStorage(), { clock, random: fixedRandom });
  const replica = new Engine(new MemoryStorage(), { clock, random: { next: () => 0.5, hex: (n) => "cd".repeat(n) }, role: "slave" });
  const batch = (mode: Batch["mode"], ...commands: (string | number)[][]) =>
    master.run({ mode, commands: commands.map((c) => c.map(String)), permission: "admin" });
  return { clock, master, replica, batch };
}

/** A full sync of the replica in one go, then streaming to the master's offset. */
function fullSync(master: Engine, replica: Engine) {
  const s = psync(master, "?", 0, 1000);
  if (s.kind !== "fullresync") throw new Error("expected FULLRESYNC");
  beginFullSync(replica, s.replid, s.offset);
  for (let cursor: SnapshotCursor | null = START; cursor !== null; ) {
    const chunk = snapshotChunk(master, cursor, 1 << 20);
    loadChunk(replica, chunk);
    cursor = chunk.next;
  }
  endFullSync(replica);
}

/**
 * A replica in the middle of a full sync of 20 keys: FULLRESYNC taken and the first chunk (a few
 * keys) loaded; `loadRest` loads the other chunks, read at the master's offset by then.
 */
function halfSynced() {
  const p = pair();
  for (let i = 0; i < 20; i++) p.batch("single", ["SET", `k${i}`, "v"]);
  const s = psync(p.master, "?", 0, 1000);
  if (s.kind !== "fullresync") throw new Error("expected FULLRESYNC");
  beginFullSync(p.replica, s.replid, s.offset);
  const first = snapshotChunk(p.master, START, 40);
  loadChunk(p.replica, first);
  const loadRest = () => {
    let last = first;
    for (let cursor = first.next; cursor !== null; cursor = last.next) loadChunk(p.replica, (last = snapshotChunk(p.master, cursor, 40)));
    endFullSync(p.replica);
    return last;
  };
  return { ...p, loadRest };
}

function catchUp(master: Engine, replica: Engine) {
  while (replica.log.offset < master.log.offset) {
    const reply = psync(master, replica.log.replid, replica.log.offset, 1 << 20);
    if (reply.kind !== "continue") throw new Error("unexpected FULLRESYNC");
    expect(applyEntries(replica, reply.entries)).toBe(true);
  }
}

describe("FLUSHALL/FLUSHDB inside a transaction", () => {
  const transactions: [string, (string | number)[][]][] = [
    ["SET a, FLUSHALL, SET b", [["SET", "a", "1"], ["FLUSHALL"], ["SET", "b", "2"]]],
    ["SET c, FLUSHALL, SET c", [["SET", "c", "1"], ["FLUSHALL"], ["SET", "c", "2"]]],
    ["RENAME, FLUSHDB, EXPIRE", [["SET", "r", "1"], ["RENAME", "r", "s"], ["FLUSHDB"], ["SET", "s", "2"], ["EXPIRE", "s", 100], ["SET", "t", "3"]]],
    ["FLUSHALL first, then writes to old keys", [["FLUSHALL"], ["SET", "old", "new"], ["APPEND", "old", "+"], ["INCR", "n"]]],
  ];
  for (const [name, commands] of transactions)
    it(`leaves the replica with the master's digest: ${name}`, () => {
      const { master, replica, batch } = pair();
      batch("pipeline", ["SET", "old", "x"], ["SET", "a", "0"], ["SET", "s", "0"], ["SET", "n", "5"]);
      fullSync(master, replica);
      catchUp(master, replica);
      const r = batch("multi", ...commands);
      expect("outcomes" in r && r.outcomes.every((o) => "result" in o)).toBe(true);
      catchUp(master, replica);
      expect(digest(replica)).toBe(digest(master));
      expect(replica.keyspace.keyCount).toBe(master.keyspace.keyCount);
    });

  it("also when the transaction is replayed during a full sync, chunks read before and after it", () => {
    const { master, replica, batch, loadRest } = halfSynced();
    batch("multi", ["SET", "k19", "before"], ["FLUSHALL"], ["SET", "k0", "after"], ["SET", "k19", "after"]);
    loadRest();
    catchUp(master, replica);
    expect(digest(replica)).toBe(digest(master));
  });

  it("applies APPEND and SETRANGE once when replayed over chunks read before and after them", () => {
    const { master, replica, batch, loadRest } = halfSynced();
    batch("multi", ["APPEND", "k0", "+a"], ["SETRANGE", "k19", "3", "zz"], ["APPEND", "k19", "+b"]);
    batch("single", ["APPEND", "k0", "+c"]);
    loadRest();
    batch("single", ["SETRANGE", "k0", "1", "!"]);
    catchUp(master, replica);
    expect(digest(replica)).toBe(digest(master));
  });
});

describe("WAIT inside a transaction", () => {
  it("waits for the offset after the transaction's own writes", () => {
    const { master, batch } = pair();
    batch("single", ["SET", "before", "v"]);
    const acked = master.log.offset;
    const r = batch("multi", ["SET", "wk", "v"], ["WAIT", 1, 0]);
    if (!("outcomes" in r)) throw new Error(r.error);
    const wait = (r.outcomes[1] as { result: unknown }).result;
    expect(wait).toBeInstanceOf(WaitForReplicas);
    expect((wait as WaitForReplicas).offset).toBe(master.log.offset);
    expect(master.log.offset).toBeGreaterThan(acked);
  });

  it("in a pipeline, waits for the writes before it, not after", () => {
    const { master, batch } = pair();
    const r = batch("pipeline", ["SET", "a", "1"], ["WAIT", 1, 0], ["SET", "b", "2"]);
    if (!("outcomes" in r)) throw new Error(r.error);
    const wait = (r.outcomes[1] as { result: WaitForReplicas }).result;
    expect(wait.offset).toBeLessThan(master.log.offset);
    expect(wait.offset).toBeGreaterThan(0);
  });
});

describe("the log grows by the change, not by the value", () => {
  it("logs APPEND as APPEND and SETRANGE as SETRANGE, and replicas end equal", () => {
    const { master, replica, batch } = pair();
    batch("single", ["SET", "big", "x".repeat(1 << 20)]);
    fullSync(master, replica);
    catchUp(master, replica);
    const before = master.log.offset;
    for (let i = 0; i < 100; i++) batch("single", ["APPEND", "big", "y"]);
    batch("single", ["SETRANGE", "big", 10, "hello"]);
    batch("single", ["SETRANGE", "fresh", 5, "z"]);
    batch("single", ["APPEND", "new", "abc"]);
    expect(master.log.offset - before).toBeLessThan(100 * 64 + 3 * 64);
    catchUp(master, replica);
    expect(digest(replica)).toBe(digest(master));
  });

  it("refuses a request that would grow the log past its bound, applying nothing of it", () => {
    const { master, batch } = pair();
    batch("single", ["SET", "big", "x".repeat(1 << 20)]);
    const offset = master.log.offset;
    const copies = Math.ceil(REQUEST_LIMITS.maxLogBytes / (1 << 20)) + 2;
    for (const mode of ["pipeline", "multi"] as const) {
      const r = batch(mode, ...Array.from({ length: copies }, (_, i) => ["COPY", "big", `copy${i}`]), ["PING"]);
      expect(r, mode).toMatchObject({ error: expect.stringMatching(/^ERR .*replication log/) });
      expect(master.keyspace.keyCount).toBe(1);
      expect(master.log.offset).toBe(offset);
    }
    // Under the bound, a pipeline runs as usual.
    const ok = batch("pipeline", ["COPY", "big", "one"], ["PING"]);
    expect(ok).toMatchObject({ outcomes: [{ result: 1 }, { result: "PONG" }] });
  });
});

describe("a request's work is bounded", () => {
  it("refuses a batch over the bounds as a whole, applying nothing", () => {
    const { master, batch } = pair();
    const many = Array.from({ length: REQUEST_LIMITS.maxCommands + 1 }, (_, i) => ["SET", `k${i}`, "v"]);
    expect(batch("pipeline", ...many)).toMatchObject({ error: expect.stringMatching(/^ERR .*commands/) });
    const args = ["MSET", ...Array.from({ length: REQUEST_LIMITS.maxArguments }, (_, i) => `a${i >> 1}`)];
    expect(batch("single", args)).toMatchObject({ error: expect.stringMatching(/^ERR .*arguments/) });
    expect(master.keyspace.keyCount).toBe(0);
    expect(master.log.offset).toBe(0);
  });
});

describe("a replica is consistent only once it has passed the last chunk's offset", () => {
  it("names the offset at which the loaded keyspace is consistent", () => {
    const { master, replica, batch, loadRest } = halfSynced();
    batch("multi", ["SET", "k0", "x"], ["SET", "k19", "x"]); // half in the first chunk, half after
    const last = loadRest();
    expect(consistentAt(replica)).toBe(last.offset);
    expect(replica.log.offset).toBeLessThan(consistentAt(replica));
    catchUp(master, replica);
    expect(replica.log.offset).toBeGreaterThanOrEqual(consistentAt(replica));
  });
});
