/**
 * A move of hash slots [lo, hi] from shard A to shard B while clients keep writing (POST
 * /admin/reshard), Redis Cluster's migration done by one object, step by step, each step's state
 * stored, so a move resumes where it was after a crash:
 *
 * 1. clear: B's keys in the range go (what an earlier, interrupted move left there).
 * 2. copy: A's position in its log is noted, then its keys in the range are copied to B a page
 *    at a time (DUMP and PTTL on A, RESTORE ... REPLACE on B, DEL for a key gone meanwhile).
 * 3. catch up: the keys of the range that A's log wrote since the noted position are copied
 *    again, until few are left. A FLUSHALL, or a log that no longer reaches back (a failover onto
 *    another history), starts the move again from 1.
 * 4. freeze: A refuses the range's calls with TRYAGAIN (its slot guard, engine/slot-guard.ts,
 *    replicated); the last keys written are copied, until A's log has none left.
 * 5. flip: stored as its own phase first, after which the move never begins again: the slot
 *    map's next epoch gives the range to B; A refuses the range's calls with MOVED. The worker,
 *    refused either way, learns the new map and sends the call to B: a write that A acknowledged
 *    was copied before the flip, and one that A refused is sent again to B.
 * 6. cleanup: A's keys in the range go.
 * Every copy and delete is a write of the shard's primary, logged and replicated as any other,
 * so each shard's replicas stay equal to their primary. The guard does not apply to the move's
 * own calls (`Batch.slotMove`).
 */
import type { Bytes } from "../engine/bytes";
import { fromBytes } from "../engine/bytes";
import type { Outcome } from "../engine/dispatch";
import type { SlotGuard, SlotWrites } from "../engine/slot-guard";
import { SLOT_SPAN, hashSlot, hashSlotAt } from "../engine/slot";
import type { SlotMap } from "../protocol/shards";

/** What a move does to the shards, on each shard's primary. */
export interface ShardOps {
  /** Runs calls as one pipeline, past the slot guard; answers their outcomes. */
  run(shard: number, commands: string[][]): Promise<Outcome[]>;
  guard(shard: number): Promise<SlotGuard>;
  setGuard(shard: number, guard: SlotGuard): Promise<void>;
  writes(shard: number, replid: string, offset: number, from: number, to: number): Promise<SlotWrites>;
}

export type Phase = "clear" | "copy" | "catchup" | "freeze" | "flip" | "cleanup";

export interface Move {
  readonly from: number;
  readonly to: number;
  readonly lo: number;
  readonly hi: number;
  phase: Phase;
  /** clear, copy, cleanup: the SCAN cursor (a keyspace position). */
  cursor: number;
  /** catchup, freeze: A's log position the writes are read from. */
  replid: string;
  offset: number;
  /** Keys copied so far (a key copied again counts again). */
  copied: number;
  /** How many times the move began again at 1. */
  restarts: number;
}

/** Keys per page of a copy or a delete. */
const PAGE = 100;
/** Catch-up ends, and the freeze begins, once a round finds this few keys written. */
const FEW = 50;

const SCAN_DONE = -1;

/** A new move of [lo, hi] from `from` to `to`. */
export const newMove = (from: number, to: number, lo: number, hi: number): Move => ({ from, to, lo, hi, phase: "clear", cursor: lo * SLOT_SPAN, replid: "", offset: 0, copied: 0, restarts: 0 });

const outcome = (o: Outcome | undefined): unknown => {
  if (!o) throw new Error("cluster: a call of the move had no answer");
  if ("error" in o) throw new Error(`cluster: a call of the move failed: ${o.error}`);
  return o.result;
};

/** What a move needs of the object that runs it, besides the shards. */
export interface MoveHost {
  readonly map: SlotMap;
  /** Stores and serves the next slot map (before A refuses the range with MOVED: a refused call then finds it). */
  publish(map: SlotMap): Promise<void>;
  /** The shard primary's log position. */
  position(shard: number): Promise<{ replid: string; offset: number }>;
}

/** One step of a move; "done" when it ended. */
export async function step(move: Move, ops: ShardOps, host: MoveHost): Promise<"done" | null> {
  const { from: a, to: b, lo, hi } = move;
  switch (move.phase) {
    case "clear": {
      const keys = await scanPage(ops, b, move, lo, hi);
      if (keys.length > 0) await ops.run(b, [["DEL", ...keys]]);
      if (move.cursor === SCAN_DONE) {
        // The copy reads A's keys after this position: a write after it is in A's log.
        Object.assign(move, await host.position(a), { phase: "copy", cursor: lo * SLOT_SPAN });
      }
      return null;
    }
    case "copy": {
      await copy(ops, move, await scanPage(ops, a, move, lo, hi));
      if (move.cursor === SCAN_DONE) move.phase = "catchup";
      return null;
    }
    case "catchup":
    case "freeze": {
      // Set again at every round of the freeze: a primary made by a failover may not have had it.
      if (move.phase === "freeze") await guardRange(ops, a, (g) => ({ ...g, frozen: [...minus(g.frozen, lo, hi), [lo, hi]] }), true);
      const w = await ops.writes(a, move.replid, move.offset, lo, hi);
      if ("all" in w) {
        // A FLUSHALL, or a history this position is not in: the range is copied whole again.
        await guardRange(ops, a, thawed(lo, hi));
        Object.assign(move, { phase: "clear", cursor: lo * SLOT_SPAN, restarts: move.restarts + 1 });
        return null;
      }
      for (let i = 0; i < w.keys.length; i += PAGE) await copy(ops, move, w.keys.slice(i, i + PAGE));
      move.replid = w.replid;
      move.offset = w.offset;
      const caughtUp = w.offset >= w.end;
      if (move.phase === "catchup") {
        if (caughtUp && w.keys.length <= FEW) move.phase = "freeze";
      } else if (caughtUp && w.keys.length === 0) move.phase = "flip"; // stored before the map changes
      return null;
    }
    case "flip": {
      // B holds the range now; A refuses it with MOVED, B takes it. Each of these may run again.
      // B's log position now holds every copy: reads of the range by clients with a token wait for it.
      if (!host.map.holds(b, lo, hi)) await host.publish(host.map.moved(lo, hi, b, await host.position(b)));
      await guardRange(ops, a, (g) => ({ frozen: minus(g.frozen, lo, hi), moved: [...minus(g.moved, lo, hi), [lo, hi, b]] }), true);
      await guardRange(ops, b, (g) => ({ frozen: minus(g.frozen, lo, hi), moved: minus(g.moved, lo, hi) }), true);
      Object.assign(move, { phase: "cleanup", cursor: lo * SLOT_SPAN });
      return null;
    }
    case "cleanup": {
      const keys = await scanPage(ops, a, move, lo, hi);
      if (keys.length > 0) await ops.run(a, [["DEL", ...keys]]);
      return move.cursor === SCAN_DONE ? "done" : null;
    }
  }
}

/**
 * Changes a shard's guard (read, changed, set: the object that moves is the guard's only writer);
 * set only when it changed, unless `always` (the shard's primary may have lost it in a failover).
 */
async function guardRange(ops: ShardOps, shard: number, change: (g: SlotGuard) => SlotGuard, always = false): Promise<void> {
  const before = await ops.guard(shard);
  const after = change(before);
  if (always || JSON.stringify(after) !== JSON.stringify(before)) await ops.setGuard(shard, after);
}

/** Guarded ranges without the slots [lo, hi]: a range that overlaps them keeps the parts outside. */
export function minus<R extends readonly number[]>(ranges: readonly R[], lo: number, hi: number): R[] {
  const out: R[] = [];
  for (const r of ranges) {
    const [from, to] = r as unknown as [number, number];
    if (to < lo || from > hi) out.push(r);
    else {
      if (from < lo) out.push([from, lo - 1, ...r.slice(2)] as unknown as R);
      if (to > hi) out.push([hi + 1, to, ...r.slice(2)] as unknown as R);
    }
  }
  return out;
}

/** A guard without the freeze of slots [lo, hi]. */
const thawed = (lo: number, hi: number) => (g: SlotGuard): SlotGuard => ({ ...g, frozen: minus(g.frozen, lo, hi) });

/** A frozen range that cannot finish (B unreachable) is given back to A's clients: the move goes on catching up. */
export async function unfreeze(move: Move, ops: ShardOps): Promise<void> {
  await guardRange(ops, move.from, thawed(move.lo, move.hi), true);
  move.phase = "catchup";
}

/** The next page of `shard`'s keys in hash slots [lo, hi] from the move's cursor; the cursor moves on (SCAN_DONE at the end). */
async function scanPage(ops: ShardOps, shard: number, move: Move, lo: number, hi: number): Promise<string[]> {
  const [reply] = await ops.run(shard, [["SCAN", String(move.cursor), "COUNT", String(PAGE)]]);
  const [nextBytes, keys] = outcome(reply) as [Bytes, Bytes[]];
  const next = Number(fromBytes(nextBytes));
  move.cursor = next === 0 || hashSlotAt(next) > hi ? SCAN_DONE : next;
  return keys.map(fromBytes).filter((k) => {
    const slot = hashSlot(k);
    return slot >= lo && slot <= hi;
  });
}

/** Copies keys from A to B as they are on A now: value and deadline, or their absence. */
async function copy(ops: ShardOps, move: Move, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const read = await ops.run(move.from, keys.flatMap((k) => [["DUMP", k], ["PTTL", k]]));
  const writes = keys.map((key, i) => {
    const payload = outcome(read[2 * i]) as Bytes | null;
    const pttl = Number(outcome(read[2 * i + 1]));
    return payload === null ? ["DEL", key] : ["RESTORE", key, String(pttl > 0 ? pttl : 0), fromBytes(payload), "REPLACE"];
  });
  for (const o of await ops.run(move.to, writes)) outcome(o);
  move.copied += keys.length;
}
