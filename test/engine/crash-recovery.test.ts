// A crash at any point applies every acknowledged effect exactly once (SPEC §7). The node's real
// SQLite storage dies at a chosen statement (dying-storage.ts: that statement and all after it
// fail, the open transaction rolls back, what was committed stays), the node restarts on what is
// left, and its keyspace is compared with a model (the same commands on the in-memory storage).
// Every statement of each workload is a crash point, so each named point is hit: keys kept in
// memory and their store, the replay marker, the log's append and trim, collections' elements and
// their rank index, eviction, a full sync's snapshot install and the stream a replica applies.
// The writes are the ones a replay must not apply twice: APPEND, SETRANGE, INCRBY, INCRBYFLOAT,
// LPUSH, LMOVE, HINCRBY, ZINCRBY, SPOP, EXPIRE with relative times; and strings stored in pages.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ManualClock, type Random } from "../../durable-objects/engine/clock";
import { type Batch, type BatchResult, Engine } from "../../durable-objects/engine/engine";
import type { ReplicationView } from "../../durable-objects/engine/replication/view";
import { START, type SnapshotCursor } from "../../durable-objects/engine/replication/protocol";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { applyEntries, beginFullSync, digest, endFullSync, hasSynced, loadChunk, psync, snapshotChunk } from "../../durable-objects/engine/replication/sync";
import { SqliteStorage } from "../../durable-objects/sqlite/sqlite-storage";
import { seeded } from "../support/cluster";
import { DyingStorage, type Point, isCrash, wipe } from "../support/dying-storage";
import { masterView } from "../support/engine-pair";

/**
 * Randomness that depends only on the batch being run (reseeded before each), so SPOP and
 * eviction pick the same on the model and on a node that restarted in between.
 */
class BatchRandom implements Random {
  private inner = seeded(1);
  seed(batch: number): void {
    this.inner = seeded(1000 + batch * 7919);
  }
  next(): number {
    return this.inner.next();
  }
  hex(n: number): string {
    return this.inner.hex(n);
  }
}

const admin = (commands: string[][], mode: Batch["mode"] = "pipeline"): Batch => ({ mode, commands, permission: "admin" });

/** The primary's workload: deferred keys, non-idempotent writes, collections, a small backlog, eviction. */
function primaryWorkload(seed: number): Batch[] {
  const r = seeded(seed);
  const int = (n: number) => Math.floor(r.next() * n);
  const k = (p: string) => `${p}:${int(12)}`;
  const write = (): string[] =>
    [
      () => ["APPEND", k("a"), `x${int(10)}`],
      () => ["SETRANGE", k("a"), String(int(6)), "zz"],
      () => ["INCRBY", k("n"), String(int(9) - 4)],
      () => ["INCRBYFLOAT", k("f"), ["1.5", "-0.25", "1e3"][int(3)]!],
      () => ["LPUSH", k("l"), `e${int(5)}`, `e${int(5)}`],
      () => ["LMOVE", k("l"), k("l"), "LEFT", "RIGHT"],
      () => ["HINCRBY", k("h"), `f${int(4)}`, "3"],
      () => ["ZINCRBY", k("z"), "2.5", `m${int(4)}`],
      () => ["SADD", k("s"), ...Array.from({ length: 1 + int(4) }, () => `m${int(30)}`)],
      () => ["SPOP", k("s"), String(int(3))],
      () => ["EXPIRE", k("a"), String(50 + int(500))],
      () => ["SET", k("v"), "v".repeat(int(40))],
      () => ["DEL", k("v")],
      () => ["RENAME", k("a"), k("a")],
      // Strings stored in pages (past 1 MiB): a page written, an APPEND logged as a SETRANGE.
      () => ["SETRANGE", k("p"), String(1_048_570 + int(140_000)), "pp"],
      () => ["APPEND", k("p"), `q${int(10)}`],
    ][int(16)]!();
  const out: Batch[] = [admin([["CONFIG", "SET", "repl-backlog-size", "16384"]], "single")];
  for (let i = 0; i < 45; i++) {
    const roll = r.next();
    if (roll < 0.15)
      // Many keys at once: kept in memory after their transaction, stored later.
      out.push(admin(Array.from({ length: 40 + int(60) }, (_, j) => ["SET", `bulk:${i}:${j}`, "y".repeat(100)])));
    else if (roll < 0.2) out.push(admin([["ZADD", "big", ...Array.from({ length: 80 }, (_, j) => [String(j % 9), `m${i}:${j}`]).flat()]]));
    else if (roll < 0.25) out.push(admin([["SCAN", "0", "COUNT", "5"]], "single"));
    else if (roll < 0.3) out.push(admin([["ZRANK", "big", `m${int(i)}:3`], ["ZRANDMEMBER", "big", "-3"]]));
    else out.push(admin(Array.from({ length: 1 + int(6) }, write), r.next() < 0.3 ? "multi" : "pipeline"));
  }
  // Eviction: the bound lowered under the dataset, every write evicts (allkeys-random: the same picks on every storage).
  out.push(admin([["CONFIG", "SET", "maxmemory", "20kb", "maxmemory-policy", "allkeys-random"]], "single"));
  for (let i = 0; i < 6; i++) out.push(admin(Array.from({ length: 1 + int(4) }, write)));
  return out;
}

/** A node engine on `storage`. */
const nodeEngine = (storage: DurableObjectStorage, clock: ManualClock, random: Random, replication?: ReplicationView) =>
  new Engine(new SqliteStorage(storage), { clock, random, node: "node", ...(replication ? { replication } : {}) });

/** Replies with SPOP's (random) picks and the offsets left out: equal replies mean equal work. */
const comparable = (r: BatchResult) => ("outcomes" in r ? r.outcomes : r);

/**
 * Runs `batches` on a node that dies at statement `dieAt` (null: never) and restarts, and on the
 * model; answers the points of the statements run, and whether it died.
 */
function runPrimary(state: DurableObjectState, batches: readonly Batch[], dieAt: number | null): { trace: Point[]; died: boolean } {
  wipe(state.storage);
  const clock = new ManualClock(Date.UTC(2026, 11, 4));
  const random = new BatchRandom();
  const dying = new DyingStorage(state.storage, dieAt);
  let node = nodeEngine(dying.storage, clock, random);
  dying.arm();
  const model = new Engine(new MemoryStorage(), { clock, random, node: "model" });
  let died = false;
  batches.forEach((batch, i) => {
    clock.advance(11);
    random.seed(i);
    let result: BatchResult;
    try {
      result = node.run(batch);
      // The alarm's work, now and then: expiry and the purge of dropped collections.
      if (i % 5 === 4) {
        node.sweep();
        node.purge();
      }
    } catch (e) {
      if (!isCrash(e) || died) throw e;
      died = true;
      // The restart: a new storage object on what was committed, nothing of the dead one's memory.
      node = nodeEngine(state.storage, clock, random);
      // The batch it died in was applied whole or not at all (one transaction): which, the node says.
      if (digest(node) !== digest(model)) {
        random.seed(i);
        model.run(batch);
        expect(digest(node), `after dying at statement ${dieAt}, in batch ${i}`).toBe(digest(model));
      }
      return;
    }
    random.seed(i);
    expect(comparable(result), `batch ${i}: ${JSON.stringify(batch.commands).slice(0, 200)}`).toEqual(comparable(model.run(batch)));
  });
  dying.disarm();
  expect(digest(node), `the end, having died at statement ${dieAt}`).toBe(digest(model));
  // And a restart with no crash at all (the keys it keeps in memory come back from the log).
  expect(digest(nodeEngine(state.storage, clock, random))).toBe(digest(model));
  return { trace: dying.trace, died };
}

/** Statements to die at: about `samples` spread over the run, and each named point's first, middle and last. */
function crashPoints(trace: readonly Point[], samples: number): number[] {
  const at = new Set<number>();
  const stride = Math.max(1, Math.floor(trace.length / samples));
  for (let i = 1 + (trace.length % stride); i <= trace.length; i += stride) at.add(i);
  const byPoint = new Map<Point, number[]>();
  trace.forEach((p, i) => byPoint.set(p, [...(byPoint.get(p) ?? []), i + 1]));
  for (const list of byPoint.values()) for (const i of [list[0]!, list[list.length >> 1]!, list[list.length - 1]!]) at.add(i);
  return [...at].sort((a, b) => a - b);
}

describe("a crash at any statement applies every acknowledged effect exactly once", () => {
  it("on a primary: keys kept in memory and their store, the replay marker, the log and its trim, collections, eviction", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("crash-primary")), (_node, state) => {
      for (const seed of [2, 3]) {
        const batches = primaryWorkload(seed);
        const { trace } = runPrimary(state, batches, null);
        // The workload reaches every named point a primary has.
        for (const p of ["keys-store", "replay-marker", "log-append", "log-trim", "elements", "pages", "rank-index", "meta"] satisfies Point[])
          expect(trace, `seed ${seed} reaches ${p}`).toContain(p);
        const points = crashPoints(trace, 40);
        for (const at of points) expect(runPrimary(state, batches, at).died, `died at ${at}`).toBe(true);
      }
    });
  }, 600_000);

  it("on a replica: a full sync's snapshot install, its recount, the stream it applies and its keys kept in memory", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("crash-replica")), (_node, state) => {
      const run = (dieAt: number | null) => runReplica(state, dieAt);
      const { trace } = run(null);
      for (const p of ["snapshot-load", "keys-store", "replay-marker", "log-append", "elements", "pages", "meta"] satisfies Point[]) expect(trace, `reaches ${p}`).toContain(p);
      for (const at of crashPoints(trace, 60)) expect(run(at).died, `died at ${at}`).toBe(true);
    });
  }, 600_000);
});

/**
 * A master on the in-memory storage writes while a replica on the dying storage full-syncs in
 * small chunks, then streams; after its death the replica restarts and syncs as a node does (PSYNC
 * when it has synced, else a full sync from scratch). It ends with the master's digest.
 */
function runReplica(state: DurableObjectState, dieAt: number | null): { trace: Point[]; died: boolean } {
  wipe(state.storage);
  const clock = new ManualClock(Date.UTC(2026, 11, 4));
  const random = new BatchRandom();
  const syncing = { now: false };
  const master = new Engine(new MemoryStorage(), { clock, random, node: "master", replication: masterView(syncing) });
  const writes = primaryWorkload(3).slice(1, 30);
  let next = 0;
  const write = () => {
    if (next >= writes.length) return;
    clock.advance(11);
    random.seed(next);
    master.run(writes[next++]!);
  };
  for (let i = 0; i < 12; i++) write();
  const dying = new DyingStorage(state.storage, dieAt);
  const start = (storage: DurableObjectStorage) => new Engine(new SqliteStorage(storage), { clock, random: seeded(5), node: "replica", role: "slave" });
  let replica = start(dying.storage);
  dying.arm();
  let died = false;
  /** One sync as ReplicaRole.syncWithMaster does it, writes landing on the master in between. */
  const sync = () => {
    if (!hasSynced(replica)) {
      const s = psync(master, "?", 0, 1);
      if (s.kind !== "fullresync") throw new Error("expected FULLRESYNC");
      syncing.now = true;
      beginFullSync(replica, s.replid, s.offset);
      for (let cursor: SnapshotCursor | null = START; cursor !== null; ) {
        const chunk = snapshotChunk(master, cursor, 600);
        loadChunk(replica, chunk);
        cursor = chunk.next;
        write();
      }
      endFullSync(replica);
      syncing.now = false;
    }
    for (let rounds = 0; replica.log.offset < master.log.offset; rounds++) {
      if (rounds > 1000) throw new Error("no progress");
      const reply = psync(master, replica.log.replid, replica.log.offset, 700);
      if (reply.kind !== "continue") throw new Error("expected CONTINUE");
      expect(applyEntries(replica, reply.entries)).toBe(true);
      write();
    }
  };
  for (let attempt = 0; ; attempt++) {
    try {
      sync();
      while (next < writes.length) {
        write();
        sync();
      }
      break;
    } catch (e) {
      if (!isCrash(e) || died) throw e;
      died = true;
      syncing.now = false;
      replica = start(state.storage);
    }
  }
  dying.disarm();
  expect(replica.log.offset).toBe(master.log.offset);
  expect(digest(replica), `having died at statement ${dieAt}`).toBe(digest(master));
  expect(digest(start(state.storage))).toBe(digest(master));
  return { trace: dying.trace, died };
}
