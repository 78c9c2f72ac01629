/**
 * A shard's guard over hash slots that are moving to another shard, or have (worker/cluster.ts,
 * durable-objects/cluster/): kept in the replicated configuration, so every node of the shard
 * refuses the same calls. While a range is `frozen` (the last keys of a move are copied), a call
 * on one of its keys is refused with TRYAGAIN; once `moved`, with MOVED naming the shard that holds
 * it now. The worker takes either as "ask again": it learns the new slot map and sends the call
 * where it belongs, so a client sees neither. Nothing of a refused call runs.
 */
import { type Command, allKeysOf } from "./command";
import { RedisError } from "./errors";
import type { ReplicationLog } from "./replication/log";
import { keysWrittenBy } from "./replication/effects";
import { hashSlot } from "./slot";

export interface SlotGuard {
  /** Ranges [from, to] whose calls wait while the last of their keys are copied. */
  readonly frozen: readonly (readonly [number, number])[];
  /** Ranges [from, to] held by another shard now, with that shard. */
  readonly moved: readonly (readonly [number, number, number])[];
}

export const NO_GUARD: SlotGuard = { frozen: [], moved: [] };

/** The refusal of a call whose keys are in a guarded range, or null. */
export function guardRefusal(guard: SlotGuard | undefined, command: Command, argv: readonly string[]): RedisError | null {
  if (!guard || (guard.frozen.length === 0 && guard.moved.length === 0)) return null;
  for (const key of allKeysOf(command, argv)) {
    const slot = hashSlot(key);
    for (const [from, to, shard] of guard.moved) if (slot >= from && slot <= to) return new RedisError(`MOVED ${slot} shard ${shard}`);
    for (const [from, to] of guard.frozen) if (slot >= from && slot <= to) return new RedisError(`TRYAGAIN hash slot ${slot} is moving to another shard`);
  }
  return null;
}

/** Whether an error is a guard's refusal (the worker asks again elsewhere). */
export const isGuardRefusal = (message: string): boolean => message.startsWith("MOVED ") || message.startsWith("TRYAGAIN hash slot ");

/** What the log says of the keys of hash slots [from, to] written after a position. */
export type SlotWrites =
  /** `end`: the log's offset; the keys are all of them when `offset` reached it. */
  | { readonly keys: string[]; readonly replid: string; readonly offset: number; readonly end: number }
  /** The log cannot be read from the position (another history, a backlog that no longer reaches back), or holds a FLUSHALL. */
  | { readonly all: true; readonly replid: string; readonly offset: number };

/**
 * The keys of hash slots [from, to] the log's effects wrote after (replid, offset), read up to
 * `maxBytes` of the log; the position reached, from which to ask again.
 */
export function slotWrites(log: ReplicationLog, replid: string, offset: number, from: number, to: number, maxBytes: number): SlotWrites {
  if (!log.canContinue(replid, offset)) return { all: true, replid: log.replid, offset: log.offset };
  const keys = new Set<string>();
  let reached = offset;
  for (const entry of log.entriesAfter(offset, maxBytes)) {
    reached = entry.offset + entry.frame.length;
    const written = keysWrittenBy(entry.frame);
    if (written === null) return { all: true, replid: log.replid, offset: log.offset };
    for (const key of written) {
      const slot = hashSlot(key);
      if (slot >= from && slot <= to) keys.add(key);
    }
  }
  return { keys: [...keys], replid: log.replid, offset: reached, end: log.offset };
}
