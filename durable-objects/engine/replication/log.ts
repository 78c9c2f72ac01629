/**
 * The replication log of a node: the append-only stream of write effects, RESP-framed, and the
 * Redis bookkeeping around it (`master_replid`, `master_repl_offset`, the backlog).
 *
 * Offsets count bytes of the stream, as in Redis: an entry appended at offset O with a frame of L
 * bytes moves the offset to O + L. The entries of one storage transaction (a request's commits, a
 * push a replica applies) are stored as one run of frames, one row keyed by the offset it starts
 * at (cut at LOG_ROW_BYTES), in that transaction, so the keyspace and the log never disagree, a
 * restarted node keeps its replid, offset and backlog, and a pipeline of writes costs one log row,
 * not one per command. Readers get the entries frame by frame, from any frame's offset.
 *
 * A commit with several effects (MSET, RENAME, a MULTI) is framed as MULTI ... EXEC (framing.ts), as
 * Redis propagates transactions, so a replica can apply it atomically.
 */
import type { Random } from "../clock";
import type { Effect } from "../keyspace";
import type { LogEntry, Position } from "./protocol";
import { concatBytes } from "../bytes";
import { encodeCommand, splitFrames } from "./resp";
import { LOG_ROW_BYTES, type Storage } from "../storage";
import { framed, isExec, isMulti } from "./framing";

/** Redis's default backlog (1 MiB); CONFIG `repl-backlog-size` changes it. */
export const DEFAULT_BACKLOG_BYTES = 1024 * 1024;

/**
 * Bytes of the newest entries also kept in memory (up to twice this between trims): a streaming replica is usually a few entries
 * behind, and the push that follows a commit is then served without reading back from storage what
 * was just written. Small on purpose: what it holds is memory the GC must walk, and a replica
 * further behind is served from storage as before.
 */
const TAIL_BYTES = 32 * 1024;

export class ReplicationLog {
  /** 40 hex characters, new for every new history (a new master). */
  replid: string;
  /** The previous replid after a promotion, and the offset up to which it is valid. */
  replid2: string;
  secondOffset: number;
  /** `master_repl_offset`: bytes of the stream so far. */
  offset: number;
  /** Offset of the first byte the backlog holds, minus one (0 with an empty backlog). */
  private backlogStart: number;
  /** Keep the backlog from this offset on (a full sync in progress needs it), or null (`retain`). */
  private retainFrom: number | null = null;
  /** The newest entries, in order, contiguous, ending at `offset` (see TAIL_BYTES). */
  private tail: LogEntry[] = [];
  private tailBytes = 0;
  /** Entries appended in the open storage transaction, not yet written (see `flush`), in order. */
  private pending: LogEntry[] = [];
  /**
   * True while the engine holds a storage transaction: appended entries wait for `flush` at its
   * end, so the transaction writes one run. Outside one, each append is written at once.
   */
  deferred = false;

  constructor(
    private readonly storage: Storage,
    random: Random,
    public backlogBytes: number = DEFAULT_BACKLOG_BYTES,
  ) {
    const meta = storage.meta;
    let replid = meta.get("replid");
    if (typeof replid !== "string") {
      replid = random.hex(20);
      meta.set("replid", replid);
    }
    this.replid = replid;
    this.replid2 = String(meta.get("replid2") ?? "0".repeat(40));
    this.secondOffset = Number(meta.get("second_repl_offset") ?? -1);
    const bounds = storage.log.bounds();
    const base = Number(meta.get("log_base_offset") ?? 0);
    this.offset = bounds ? bounds.lastOffset + bounds.lastLength : base;
    this.backlogStart = bounds ? bounds.first : this.offset;
  }

  /** Keeps the backlog from `from` on however large it grows (a full sync in progress needs it), or no longer (null). */
  retain(from: number | null): void {
    this.retainFrom = from;
  }

  /** Appends the effects of one commit; call inside the storage transaction of that commit. */
  append(effects: readonly Effect[]): void {
    if (effects.length === 0) return;
    for (const effect of framed(effects)) {
      const entry = { offset: this.offset, frame: encodeCommand(effect) };
      this.pending.push(entry);
      this.remember(entry);
      this.offset += entry.frame.length;
    }
    if (!this.deferred) this.flush();
  }

  /**
   * Appends the master's entries as they are (a replica's copy of the stream).
   * @throws Error when an entry does not start at the current offset.
   */
  appendVerbatim(entries: readonly LogEntry[]): void {
    for (const e of entries) {
      if (e.offset !== this.offset) throw new Error(`replication: entry at ${e.offset}, log at ${this.offset}`);
      this.pending.push(e);
      this.remember(e);
      this.offset += e.frame.length;
    }
    if (!this.deferred) this.flush();
  }

  /**
   * Writes the entries appended since the last flush as runs of frames (one row each, cut at
   * LOG_ROW_BYTES), then trims the backlog. Call inside the storage transaction that appended them.
   */
  flush(): void {
    if (this.pending.length === 0) return;
    let run: LogEntry[] = [];
    let bytes = 0;
    const write = () => {
      if (run.length > 0) this.storage.log.append(run[0]!.offset, run.length === 1 ? run[0]!.frame : concatBytes(run.map((e) => e.frame)));
      run = [];
      bytes = 0;
    };
    for (const e of this.pending) {
      if (bytes > 0 && bytes + e.frame.length > LOG_ROW_BYTES) write();
      run.push(e);
      bytes += e.frame.length;
    }
    write();
    this.pending = [];
    this.trim();
  }

  private remember(entry: LogEntry): void {
    this.tail.push(entry);
    this.tailBytes += entry.frame.length;
    // Trimmed in batches once it holds twice its size: a splice per append moved the whole tail.
    if (this.tailBytes <= 2 * TAIL_BYTES) return;
    let drop = 0;
    while (this.tailBytes > TAIL_BYTES && drop < this.tail.length - 1) this.tailBytes -= this.tail[drop++]!.frame.length;
    if (drop > 0) this.tail.splice(0, drop);
  }

  private forgetTail(): void {
    this.tail = [];
    this.tailBytes = 0;
  }

  // Trims in steps of half the backlog, not on every write (each trim is four statements), and
  // never past `retainFrom`.
  private trim(): void {
    if (this.offset - this.backlogStart <= this.backlogBytes * 1.5) return;
    let start = this.offset - this.backlogBytes;
    if (this.retainFrom !== null) start = Math.min(start, this.retainFrom);
    if (start <= this.backlogStart) return;
    this.storage.log.trimBefore(start);
    const bounds = this.storage.log.bounds();
    this.backlogStart = bounds ? bounds.first : this.offset;
    // The tail never reaches before the backlog (a repl-backlog-size smaller than the tail).
    while (this.tail.length > 0 && this.tail[0]!.offset < this.backlogStart) this.tailBytes -= this.tail.shift()!.frame.length;
    this.storage.meta.set("log_base_offset", this.offset);
  }

  /**
   * True when this node's history holds `position`: it is on that history (or on one that
   * continued it: replid2 up to second_repl_offset) and has applied up to its offset. A position
   * of a history this node does not share is never held, whatever the offsets.
   */
  holds(position: Position): boolean {
    const { replid, offset } = position;
    if (offset > this.offset) return false;
    return replid === this.replid || (replid === this.replid2 && offset <= this.secondOffset);
  }

  /** True when a replica at (replid, offset) can continue from this backlog (PSYNC CONTINUE). */
  canContinue(replid: string, offset: number): boolean {
    const history = replid === this.replid || (replid === this.replid2 && offset <= this.secondOffset);
    return history && offset >= this.backlogStart && offset <= this.offset;
  }

  /**
   * The entries after `from`, about `maxBytes` of them, ending on a whole MULTI group.
   * Call only when `canContinue` holds for `from`.
   */
  entriesAfter(from: number, maxBytes: number): LogEntry[] {
    const out: LogEntry[] = [];
    let size = 0;
    let inGroup = false;
    let at = from;
    while (at < this.offset) {
      const page = this.fromTail(at) ?? this.readStored(at, Math.max(1, maxBytes - size));
      if (page.length === 0 || page[0]!.offset !== at) throw new Error(`replication: no entry at ${at}`);
      for (const e of page) {
        out.push(e);
        size += e.frame.length;
        at = e.offset + e.frame.length;
        if (isMulti(e.frame)) inGroup = true;
        else if (isExec(e.frame)) inGroup = false;
        if (size >= maxBytes && !inGroup) return out;
      }
    }
    return out;
  }

  /** Stored entries from the one at `offset` on, about `maxBytes` of them (whole runs). */
  private readStored(offset: number, maxBytes: number): LogEntry[] {
    this.flush();
    const out: LogEntry[] = [];
    for (const row of this.storage.log.read(offset, maxBytes)) {
      let at = row.offset;
      for (const frame of splitFrames(row.frame)) {
        if (at >= offset) out.push({ offset: at, frame });
        at += frame.length;
      }
    }
    return out;
  }

  /** The entries of the in-memory tail from the one at `offset` on, or null when it does not hold it. */
  private fromTail(offset: number): LogEntry[] | null {
    const tail = this.tail;
    if (tail.length === 0 || offset < tail[0]!.offset) return null;
    let lo = 0;
    let hi = tail.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tail[mid]!.offset < offset) lo = mid + 1;
      else hi = mid;
    }
    return tail[lo]!.offset === offset ? tail.slice(lo) : null;
  }

  /** Starts a new history at (replid, offset) with an empty backlog (a replica's full sync). */
  adopt(replid: string, offset: number): void {
    this.forgetTail();
    this.pending = [];
    this.storage.log.clear();
    this.replid = replid;
    this.offset = offset;
    this.backlogStart = offset;
    // A new history continues no other (Redis clears replid2 on a full sync too).
    this.replid2 = "0".repeat(40);
    this.secondOffset = -1;
    this.storage.meta.set("replid", replid);
    this.storage.meta.set("replid2", this.replid2);
    this.storage.meta.set("second_repl_offset", this.secondOffset);
    this.storage.meta.set("log_base_offset", offset);
  }

  /**
   * Starts history `replid` here (Redis's shiftReplicationId): the history so far stays valid
   * under its old replid up to the current offset. A promoted node does it with a new replid, so
   * the old master's replicas continue with a partial sync; a replica does it with the replid of
   * a new master that accepted its PSYNC on the old one.
   */
  shiftReplid(replid: string): void {
    this.replid2 = this.replid;
    this.secondOffset = this.offset;
    this.replid = replid;
    this.storage.meta.set("replid2", this.replid2);
    this.storage.meta.set("second_repl_offset", this.secondOffset);
    this.storage.meta.set("replid", replid);
  }

  /** Forgets the pending entries from `offset` on (a nested transaction that appended them failed). */
  dropPendingFrom(offset: number): void {
    if (offset >= this.offset) return;
    this.pending = this.pending.filter((e) => e.offset < offset);
    while (this.tail.length > 0 && this.tail[this.tail.length - 1]!.offset >= offset) this.tailBytes -= this.tail.pop()!.frame.length;
    this.offset = offset;
  }

  /** Re-reads the offset from storage after a failed transaction. */
  reset(): void {
    this.forgetTail();
    this.pending = [];
    const bounds = this.storage.log.bounds();
    this.offset = bounds ? bounds.lastOffset + bounds.lastLength : Number(this.storage.meta.get("log_base_offset") ?? 0);
    this.backlogStart = bounds ? bounds.first : this.offset;
  }

  /** INFO replication's backlog fields. */
  get backlog(): { firstByteOffset: number; histlen: number } {
    return { firstByteOffset: this.backlogStart + 1, histlen: this.offset - this.backlogStart };
  }
}
