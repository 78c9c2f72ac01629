/**
 * WATCH without a session (server/watch.ts): a MULTI carries the keys its client watched and the
 * replication position it watched them from, and runs only if nothing wrote them since.
 */
import { keysWrittenBy } from "./replication/effects";
import type { Keyspace } from "./keyspace";
import type { LogEntry } from "./replication/protocol";
import type { ReplicationLog } from "./replication/log";

export interface Watch {
  readonly replid: string;
  readonly offset: number;
  readonly keys: readonly string[];
}

/** The most of the log a WATCH looks through at EXEC: past it, the transaction is refused as if a key was written. */
const WATCH_SCAN_BYTES = 4 * 1024 * 1024;

/**
 * Whether any watched key may have been written after the watch's position: an effect naming it
 * in the log since (or a FLUSHALL), a deadline it has passed since (WATCH deleted those already
 * past theirs), or a position this node's log cannot be read from (another history, a backlog that
 * no longer reaches back, one not on an entry's boundary, more than WATCH_SCAN_BYTES since): then
 * the transaction is refused as if a key had been written, and the client retries, as after one.
 * Its cost is the log written since the WATCH, bounded.
 */
export function writtenSince(log: ReplicationLog, keyspace: Keyspace, watch: Watch, now: number): boolean {
  if (!log.canContinue(watch.replid, watch.offset)) return true;
  for (const key of watch.keys) {
    const e = keyspace.read(key);
    if (e !== null && e.expiresAt !== null && e.expiresAt <= now) return true;
  }
  const keys = new Set(watch.keys);
  let reached = watch.offset;
  let entries: LogEntry[];
  try {
    entries = log.entriesAfter(watch.offset, WATCH_SCAN_BYTES);
  } catch {
    return true; // not an entry's boundary: no position a WATCH answered
  }
  for (const { offset, frame } of entries) {
    reached = offset + frame.length;
    const written = keysWrittenBy(frame);
    if (written === null || written.some((k) => keys.has(k))) return true;
  }
  return reached < log.offset;
}
