/**
 * Replication: how a replica node follows the master, in Redis's vocabulary.
 *
 * THE STREAM
 * The master appends every write *effect* to its backlog as a RESP frame (see replication/log.ts):
 * `SET k v [PXAT t]`, `DEL k`, `PEXPIREAT k t`, `PERSIST k`, `APPEND k s`, `SETRANGE k o s`,
 * `FLUSHALL`, each collection type's own (`HSET k f v ...`, `HDEL k f ...`: types/<type>/effects.ts),
 * `RENAME`/`COPY` of a collection (only while no replica loads a full sync; else written whole),
 * and `MULTI` ... `EXEC` around a commit of several effects (framing.ts). Each module declares its
 * own effects with `defineEffect` (effect.ts); effects.ts is their table. Offsets
 * count bytes of this stream. An entry that starts at offset O with a frame of L bytes "ends" at
 * O + L; a node that has applied it has offset O + L.
 * A replica stores the frames it applies in its own backlog at the same offsets, under the
 * master's replid, so that after a promotion the other replicas can continue from it.
 *
 * MOD OFFSETS
 * Every stored key carries `mod`: the stream offset at which it was last written (the end offset
 * of the entry, or of the snapshot chunk, that wrote it; inside a MULTI group each effect has its
 * own end offset, so a FLUSHALL in a group removes what the group wrote before it, not after). Applying an effect to key K at end
 * offset O is skipped when K is present with `mod >= O`: K already reflects it. This one rule
 * lets a full sync read the keyspace in chunks without a point-in-time copy (below). With today's
 * effects (whole values, deadlines, deletions) replaying an older effect would converge anyway;
 * the rule is what keeps non-idempotent effects of the collection types (LPUSH, ...) applied once,
 * and it saves rewriting keys the snapshot already has. A collection's elements carry their own
 * `mod`, and its element effects are judged per element: one collection may span chunks read at
 * different offsets (effects.ts; its count is recomputed once the replica is consistent).
 * Duplicated deliveries are caught earlier:
 * a replica applies only entries that start at its own offset.
 *
 * PSYNC (replica -> master)
 * The replica sends (replid, offset). The master answers
 * - CONTINUE with the entries after `offset` (whole MULTI groups, about `maxBytes` at most) when
 *   `replid` is its replid (or its replid2 and offset <= second_repl_offset, after a promotion)
 *   and `offset` is still in its backlog;
 * - FULLRESYNC(replid, S) otherwise, where S is the master's offset at that moment.
 * A CONTINUE that returns nothing new is the replica's ACK: the master records the offset and the
 * time (REPLCONF ACK) for INFO, WAIT and min-replicas.
 *
 * FULL SYNC
 * On FULLRESYNC(replid, S) the replica clears its keyspace and backlog and sets its replid and
 * offset to (replid, S). It then pulls snapshot chunks: each chunk is a run of keys in the
 * keyspace's (slot, key) order (slot.ts: the same on every node, so the replica inserts them at
 * the end of its own table, and a key is in one chunk only), read in one synchronous step, stamped with the master's offset C at that
 * step, and bounded in bytes, so neither side's memory grows with the keyspace. The replica stores
 * each key with `mod = C`. When the last chunk is in, it pulls the stream from S with PSYNC and
 * the mod rule: an effect older than a key's chunk is already in that key; a key that is absent
 * was deleted before its chunk was read, and replaying its history from S passes through that
 * deletion. FLUSHALL during the catch-up removes only the keys with `mod` below its offset. Until
 * the replica has applied the stream up to the newest chunk's offset its keyspace mixes chunks
 * read at different offsets (half of an MSET could show): it stays LOADING until then. The
 * master keeps its backlog from S until the replica's sync has finished, so a slow full sync does
 * not loop, and no longer than repl-timeout after the replica last asked for a chunk.
 *
 * LOW LAG
 * After every commit the master pushes the new entries to each connected replica (one push in
 * flight per replica; entries that arrive meanwhile go with the next push, which batches them
 * under load). A replica applies a push only when it starts exactly at its offset; otherwise
 * (a gap, a new replid) it goes back to PSYNC. The push's answer is the replica's ACK. Nothing
 * runs on a timer on the replica. An idle master still pings every 10 s (Redis's
 * repl-ping-replica-period), so silence for repl-timeout means the master is gone: the replica
 * marks its link down.
 *
 * SYNC TOKENS
 * A client's token names a Position (replid, offset). A replica serves a read carrying one only
 * when its own history holds it (`ReplicationLog.holds`): the same replid and at least that
 * offset, or the replid it continued (replid2) up to second_repl_offset. A position of a history
 * it does not share is the primary's to answer, so a read never goes back in time.
 */
import { type Bytes, concatBytes } from "../bytes";
import { splitFrames } from "./resp";
import type { PackedStrings } from "./snapshot-format";

/**
 * A position in a history of the stream: what a sync token names. Offsets alone are not enough:
 * after a failover onto another history, the same offset may hold other writes.
 */
export interface Position {
  readonly replid: string;
  readonly offset: number;
}

/** One backlog entry: a frame that starts just after `offset`. */
export interface LogEntry {
  readonly offset: number;
  readonly frame: Bytes;
}

/**
 * Entries as a push carries them: the first one's offset and their frames back to back, in one
 * buffer (the runtime serializes each buffer of a call on its own: 100 entries as objects cost a
 * call 110 us more than nothing, as one run 20).
 */
export interface EntryRun {
  readonly offset: number;
  readonly frames: Bytes;
}

export function packEntries(entries: readonly LogEntry[]): EntryRun | null {
  if (entries.length === 0) return null;
  return { offset: entries[0]!.offset, frames: entries.length === 1 ? entries[0]!.frame : concatBytes(entries.map((e) => e.frame)) };
}

/**
 * The entries of a run, each frame a copy: the replica keeps them in its log's tail, and a view
 * would carry the whole run wherever the frame is sent next (the runtime serializes a view's whole
 * buffer), as it is once this replica is promoted. @throws Error when the run is not whole frames
 */
export function unpackEntries(run: EntryRun | null): LogEntry[] {
  if (run === null) return [];
  let offset = run.offset;
  return splitFrames(run.frames).map((frame) => {
    const entry = { offset, frame };
    offset += frame.length;
    return entry;
  });
}

/** The master's answer to PSYNC. */
export type PsyncReply =
  | { readonly kind: "continue"; readonly replid: string; readonly entries: readonly LogEntry[]; readonly masterOffset: number }
  | { readonly kind: "fullresync"; readonly replid: string; readonly offset: number };

/**
 * Where a snapshot goes on: after the key at position (slot, key) in the keyspace's order
 * (slot.ts; key null: from the first), or, with `field`, first the rest of that key's collection
 * `eid` (its elements after `field`).
 */
export interface SnapshotCursor {
  readonly slot: number;
  readonly key: string | null;
  readonly field: string | null;
  /** With `field`: the collection it goes on with (checked: the key may hold another one by then). */
  readonly eid?: number;
}

/** A snapshot's first cursor. */
export const START: SnapshotCursor = { slot: 0, key: null, field: null };

/** One chunk of a full sync's snapshot. */
export interface SnapshotChunk {
  /** String keys, live at the time of reading, packed (storage.ts `PackedStrings`), their number and names' and values' bytes. */
  readonly strings: { readonly packed: PackedStrings; readonly count: number; readonly bytes: number };
  /** Collections in (slot, key) order, live at the time of reading: their headers (`count` its size). */
  readonly rows: readonly { key: string; type: number; value: Bytes; expiresAt: number | null; count?: number; fieldsExpireAt?: number }[];
  /** Elements of collections, in field order, each of a key in this chunk's rows or an earlier chunk's (`expiresAt`: a hash field's deadline). */
  readonly elements: readonly { key: string; field: string; value: Bytes; score: number | null; expiresAt?: number }[];
  /** Where to ask next; null when this was the last chunk. */
  readonly next: SnapshotCursor | null;
  /** The master's offset when the chunk was read: everything up to it is in the chunk. */
  readonly offset: number;
  /** In the first chunk: the function libraries' code (a replica takes them all, in place of its own). */
  readonly functions?: readonly string[];
}

/**
 * A replica's sync state, shown by INFO as `master_link_status` and `master_sync_in_progress`.
 * - `connect`: must send PSYNC (after start, a gap, an error, or a link cut).
 * - `transfer`: FULLRESYNC accepted; loading snapshot chunks. Reads are not served.
 * - `connected`: streaming; pushes and PSYNC CONTINUE keep it current.
 * Any failure goes back to `connect`, the one failure exit.
 */
export type SyncState = "connect" | "transfer" | "connected";
