// Holes in the collections engine found in review (issue 15), each test failing before its fix:
// A counts trusted too early in the batch that reaches consistency, B old elements orphaned by a
// key written again between chunks, C SQLite reusing a deleted key's position under a snapshot
// cursor, D a RENAME logged as itself while a replica loads chunks (the master forgot the sync),
// E the size of one element and of one effect.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { FullSyncNeeded, splitEffect } from "../../durable-objects/engine/replication/effects";
import { Engine } from "../../durable-objects/engine/engine";
import type { ReplicationView } from "../../durable-objects/engine/replication/view";
import { START, type SnapshotCursor } from "../../durable-objects/engine/replication/protocol";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { applyEntries, beginFullSync, digest, endFullSync, forgetSync, loadChunk, psync, snapshotChunk } from "../../durable-objects/engine/replication/sync";
import { SqliteStorage } from "../../durable-objects/sqlite/sqlite-storage";
import { Cluster } from "../support/cluster";
import { enginePair } from "../support/engine-pair";
import { inNode } from "../support/helpers";
const pair = () => enginePair();
/** One command's outcome. */
const R = (e: Engine, ...argv: string[]) => {
  const r = e.run({ mode: "single", commands: [argv], permission: "admin" });
  return "outcomes" in r ? r.outcomes[0] : r;
};

describe("collections through a full sync", () => {
  it("A: HDEL after consistentAt in the same applyEntries batch as fuzzy effects deletes a non-empty hash", () => {
    const { master, replica, syncing } = pair();
    for (let i = 0; i < 20; i++) R(master, "HSET", "h", `f${String(i).padStart(2, "0")}`, "v");
    const s = psync(master, replica.log.replid, 0, 1000);
    if (s.kind !== "fullresync") throw new Error();
    syncing.now = true;
    beginFullSync(replica, s.replid, s.offset);
    let cursor: SnapshotCursor | null = START;
    const c1 = snapshotChunk(master, cursor, 60); loadChunk(replica, c1); cursor = c1.next;
    expect(cursor?.field).not.toBeNull();
    R(master, "HSET", "h", "zz", "new"); // lands after the cursor: the replica gets it from a later chunk
    while (cursor !== null) { const c = snapshotChunk(master, cursor, 1_000_000); loadChunk(replica, c); cursor = c.next; }
    endFullSync(replica);
    syncing.now = false; // the master clears syncFrom at the replica's first PSYNC
    for (let i = 0; i < 20; i++) R(master, "HDEL", "h", `f${String(i).padStart(2, "0")}`);
    const reply = psync(master, replica.log.replid, replica.log.offset, 1_000_000);
    if (reply.kind !== "continue") throw new Error();
    expect(applyEntries(replica, reply.entries)).toBe(true);
    expect(R(master, "HLEN", "h")).toEqual({ result: 1 });
    expect(R(replica, "HLEN", "h")).toEqual({ result: 1 });
    expect(digest(replica)).toBe(digest(master));
  });
  it("B: a collection deleted and re-created between the chunks it spans leaves its old elements orphaned on the replica", () => {
    const { master, replica, syncing } = pair();
    for (let i = 0; i < 20; i++) R(master, "HSET", "h", `f${String(i).padStart(2, "0")}`, "v");
    R(master, "SET", "zlast", "x"); // h is not the last row, so a re-created h gets a later id
    const s = psync(master, replica.log.replid, 0, 1000);
    if (s.kind !== "fullresync") throw new Error();
    syncing.now = true;
    beginFullSync(replica, s.replid, s.offset);
    let cursor: SnapshotCursor | null = START;
    const c1 = snapshotChunk(master, cursor, 60); loadChunk(replica, c1); cursor = c1.next;
    const oldEid = replica.storage.keys.get("h")!.eid!;
    expect(replica.storage.elements.count(oldEid)).toBeGreaterThan(0);
    R(master, "DEL", "h");
    R(master, "HSET", "h", "new", "1");
    while (cursor !== null) { const c = snapshotChunk(master, cursor, 1_000_000); loadChunk(replica, c); cursor = c.next; }
    endFullSync(replica);
    syncing.now = false;
    const reply = psync(master, replica.log.replid, replica.log.offset, 1_000_000);
    if (reply.kind !== "continue") throw new Error();
    applyEntries(replica, reply.entries);
    replica.purge(1_000_000);
    expect(digest(replica)).toBe(digest(master));
    expect(replica.storage.keys.get("h")!.eid).not.toBe(oldEid);
    expect(replica.storage.elements.count(oldEid), "orphaned elements of the first incarnation").toBe(0);
  });
  it("D: a compact RENAME logged while a replica is inside the collection (master lost its syncFrom, e.g. restarted) diverges", () => {
    const { master, replica, syncing } = pair();
    for (let i = 0; i < 20; i++) R(master, "HSET", "h", `f${String(i).padStart(2, "0")}`, "v");
    const s = psync(master, replica.log.replid, 0, 1000);
    if (s.kind !== "fullresync") throw new Error();
    syncing.now = true;
    beginFullSync(replica, s.replid, s.offset);
    let cursor: SnapshotCursor | null = START;
    const c1 = snapshotChunk(master, cursor, 60); loadChunk(replica, c1); cursor = c1.next;
    syncing.now = false; // links (syncFrom) are in memory: a restarted primary forgets the sync in progress
    R(master, "RENAME", "h", "h2");
    while (cursor !== null) { const c = snapshotChunk(master, cursor, 1_000_000); loadChunk(replica, c); cursor = c.next; }
    endFullSync(replica);
    const reply = psync(master, replica.log.replid, replica.log.offset, 1_000_000);
    if (reply.kind !== "continue") throw new Error();
    // It cannot be applied over chunks read at different offsets: the replica must full-sync again.
    expect(() => applyEntries(replica, reply.entries)).toThrow(FullSyncNeeded);
  });

  it("D, on nodes: a primary restarted while a replica loads its chunks still logs RENAME as what it wrote; the replica ends equal", async () => {
    const c = await new Cluster({ sentinels: { sentinels: [] } }).start();
    for (let b = 0; b < 4; b++) await c.run("HSET", "big", ...Array.from({ length: 50 }, (_, i) => [`f${b * 50 + i}`, "x".repeat(10_000)]).flat());
    forgetSync(c.node("weur").engine);
    const enam = c.node("enam");
    const serve = enam.snapshot.bind(enam);
    let served = 0;
    enam.snapshot = (replica, cursor) => {
      const chunk = serve(replica, cursor);
      if (++served === 1) setTimeout(() => void c.restartNode("enam").then(() => c.run("RENAME", "big", "big2")), 0);
      return chunk;
    };
    await c.restartNode("weur");
    for (let i = 0; i < 20 && (await c.node("weur").catchUp()).offset < c.node("enam").engine.log.offset; i++) await c.settle();
    await c.settle();
    await c.node("weur").catchUp();
    expect(served).toBeGreaterThanOrEqual(1);
    expect(c.node("weur").digest().digest).toBe(c.node("enam").digest().digest);
  });
});

describe("SQLite may give a deleted key's position to a new one", () => {
  it("C: RENAME of the newest collection while a replica is inside it breaks the full sync", async () => {
    const scratch = env.NODE.get(env.NODE.idFromName("zz-review-rowid"));
    await inNode(scratch, (_node, state) => {
      const clock = new ManualClock(1_000_000);
      const syncing = { now: true };
      const view: ReplicationView = {
        goodReplicas: () => 0, replicaRefusal: () => null, writeRefusal: () => null,
        info: () => ({ slaves: [], master: [], failoverState: "no-failover" }),
        fullSyncInProgress: () => syncing.now,
      };
      const master = new Engine(new SqliteStorage(state.storage), { clock, random: { next: () => 0.5, hex: (n) => "ab".repeat(n) }, replication: view });
      const replica = new Engine(new MemoryStorage(), { clock, random: { next: () => 0.5, hex: (n) => "cd".repeat(n) }, role: "slave" });
      const R = (...argv: string[]) => master.run({ mode: "single", commands: [argv], permission: "admin" });
      R("FLUSHALL");
      R("SET", "a", "1");
      for (let i = 0; i < 20; i++) R("HSET", "big", `f${String(i).padStart(2, "0")}`, "v"); // the newest row
      const s = psync(master, replica.log.replid, 0, 1 << 20);
      if (s.kind !== "fullresync") throw new Error();
      beginFullSync(replica, s.replid, s.offset);
      let cursor: SnapshotCursor | null = START;
      const c1 = snapshotChunk(master, cursor, 60); loadChunk(replica, c1); cursor = c1.next;
      expect(cursor?.field).not.toBeNull();
      R("RENAME", "big", "big2"); // big2 takes big's rowid (max rowid + 1 after the delete)
      let error: unknown = null;
      try {
        while (cursor !== null) { const c = snapshotChunk(master, cursor, 1 << 20); loadChunk(replica, c); cursor = c.next; }
        endFullSync(replica);
        syncing.now = false;
        const reply = psync(master, replica.log.replid, replica.log.offset, 1 << 20);
        if (reply.kind === "continue") applyEntries(replica, reply.entries);
      } catch (e) { error = e; }
      expect(error).toBeNull();
      expect(digest(replica)).toBe(digest(master));
    });
  });
});

describe("the size of one element and of one effect (SQLite's 2 MB row)", () => {
  it("an element whose field and value pass the record limit is refused, and changes nothing", () => {
    const { master } = pair();
    const big = "x".repeat(1024 * 1024 + 1);
    expect(R(master, "HSET", "h", "f", big)).toEqual({ error: expect.stringMatching(/^ERR max single record size exceeded/) });
    expect(R(master, "SADD", "s", big)).toEqual({ error: expect.stringMatching(/^ERR max single record size exceeded/) });
    expect(R(master, "EXISTS", "h", "s")).toEqual({ result: 0 });
  });

  it("a command with many elements is logged as several effects of at most about 64 KB", () => {
    const { master, replica } = pair();
    const members = Array.from({ length: 4000 }, (_, i) => `member-${i}-${"m".repeat(40)}`);
    const before = master.log.offset;
    expect(R(master, "SADD", "s", ...members)).toEqual({ result: 4000 });
    const entries = master.log.entriesAfter(before, Number.MAX_SAFE_INTEGER);
    expect(entries.length).toBeGreaterThan(3);
    for (const e of entries) expect(e.frame.length).toBeLessThan(80 * 1024);
    expect(splitEffect(["SET", "k", "v".repeat(100_000)])).toHaveLength(1);
    const s = psync(master, replica.log.replid, 0, 1 << 30);
    if (s.kind !== "fullresync") throw new Error();
    beginFullSync(replica, s.replid, s.offset);
    for (let cursor: SnapshotCursor | null = START; cursor !== null; ) {
      const chunk = snapshotChunk(master, cursor, 1 << 20);
      loadChunk(replica, chunk);
      cursor = chunk.next;
    }
    endFullSync(replica);
    expect(R(master, "SPOP", "s", "3000")).toMatchObject({ result: expect.any(Array) });
    const reply = psync(master, replica.log.replid, replica.log.offset, 1 << 30);
    if (reply.kind !== "continue") throw new Error();
    for (const e of reply.entries) expect(e.frame.length).toBeLessThan(80 * 1024);
    expect(applyEntries(replica, reply.entries)).toBe(true);
    expect(digest(replica)).toBe(digest(master));
  });
});
