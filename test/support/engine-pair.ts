/**
 * A master and a replica engine on in-memory storage and one manual clock, for the replication
 * tests of the collection types: the master is told when a full sync is in progress (RENAME and
 * COPY of a collection are then logged as what they wrote), PSYNC catch-up with every delivery
 * duplicated, and a full sync in chunks that a test interleaves with writes.
 */
import { expect } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import type { ReplicationView } from "../../durable-objects/engine/replication/view";
import { START, type SnapshotCursor } from "../../durable-objects/engine/replication/protocol";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { applyEntries, beginFullSync, endFullSync, loadChunk, psync, snapshotChunk } from "../../durable-objects/engine/replication/sync";

export interface EnginePair {
  readonly clock: ManualClock;
  readonly master: Engine;
  readonly replica: Engine;
  /** Set while a replica loads a full sync (the master's `fullSyncInProgress`). */
  readonly syncing: { now: boolean };
}

/** What a master engine is told of its replicas: only whether one loads a full sync now (`syncing.now`). */
export function masterView(syncing: { now: boolean }): ReplicationView {
  return {
    goodReplicas: () => 0,
    replicaRefusal: () => null,
    writeRefusal: () => null,
    info: () => ({ slaves: [], master: [], failoverState: "no-failover" }),
    fullSyncInProgress: () => syncing.now,
  };
}

export function enginePair(random = 0.5): EnginePair {
  const clock = new ManualClock(1_000_000);
  const syncing = { now: false };
  const view = masterView(syncing);
  const master = new Engine(new MemoryStorage(), { clock, random: { next: () => random, hex: (n) => "ab".repeat(n) }, replication: view });
  const replica = new Engine(new MemoryStorage(), { clock, random: { next: () => random, hex: (n) => "cd".repeat(n) }, role: "slave" });
  return { clock, master, replica, syncing };
}

/** Pulls with PSYNC until the replica has the master's offset; each batch delivered twice (a duplicate). */
export function catchUp(master: Engine, replica: Engine, maxBytes: number): void {
  for (let rounds = 0; replica.log.offset < master.log.offset; rounds++) {
    if (rounds > 10_000) throw new Error("no progress");
    const reply = psync(master, replica.log.replid, replica.log.offset, maxBytes);
    if (reply.kind !== "continue") throw new Error("unexpected FULLRESYNC");
    expect(applyEntries(replica, reply.entries)).toBe(true);
    expect(applyEntries(replica, reply.entries)).toBe(true);
  }
}

/** A full sync of the pair's replica from scratch, in chunks of `chunkBytes`, loaded when the test says. */
export function fullSync(p: EnginePair, chunkBytes: number) {
  const s = psync(p.master, p.replica.log.replid, 0, 1000);
  if (s.kind !== "fullresync") throw new Error("expected FULLRESYNC");
  p.syncing.now = true;
  beginFullSync(p.replica, s.replid, s.offset);
  let cursor: SnapshotCursor | null = START;
  let chunks = 0;
  return {
    /** Loads the next chunk (none after the last). */
    chunk(): void {
      if (cursor === null) return;
      const c = snapshotChunk(p.master, cursor, chunkBytes);
      loadChunk(p.replica, c);
      cursor = c.next;
      chunks++;
    },
    get chunks(): number {
      return chunks;
    },
    get done(): boolean {
      return cursor === null;
    },
    /** Loads the rest and ends the transfer (the replica then streams from the sync's start). */
    finish(): void {
      while (cursor !== null) this.chunk();
      endFullSync(p.replica);
    },
  };
}

/** One step while a full sync runs: a write (what `run` does with it), or the next snapshot chunk loaded. */
export type SyncStep<W> = { readonly kind: "write" } & W | { readonly kind: "chunk" };

/**
 * The full-sync property's course: `before` written, a full sync in chunks of `chunkBytes` with
 * `during`'s writes and chunks interleaved, the replica caught up, `after` written, and caught up
 * again (PSYNC answers of `pullBytes`, each delivered twice).
 */
export function writesAroundFullSync<B, W>(
  p: EnginePair,
  run: (write: B) => void,
  steps: { before: readonly B[]; during: readonly SyncStep<W>[]; after: readonly B[]; chunkBytes: number; pullBytes: number },
  write: (step: W) => B,
): void {
  steps.before.forEach(run);
  const sync = fullSync(p, steps.chunkBytes);
  for (const o of steps.during) {
    if (o.kind === "write") run(write(o as W));
    else sync.chunk();
  }
  sync.finish();
  catchUp(p.master, p.replica, steps.pullBytes);
  p.syncing.now = false;
  steps.after.forEach(run);
  catchUp(p.master, p.replica, steps.pullBytes);
}

/** Runs one command on `engine` (admin): its result, or its error thrown. */
export function runner(engine: Engine) {
  return (...argv: (string | number)[]): unknown => {
    const out = engine.run({ mode: "single", commands: [argv.map(String)], permission: "admin" }) as { outcomes: { result?: unknown; error?: string }[] };
    const o = out.outcomes[0]!;
    if (o.error !== undefined) throw new Error(o.error);
    return o.result;
  };
}

/** An engine alone on in-memory storage and a manual clock, with `runner`'s way to run a command. */
export function soloEngine() {
  return runner(new Engine(new MemoryStorage(), { clock: new ManualClock(1_000_000), random: { next: () => 0.5, hex: (n) => "ab".repeat(n) } }));
}
