/**
 * An RDB file of the keyspace as it was at one replication offset (GET /admin/export and the
 * backups), written a chunk at a time while commands go on, never holding more than a chunk and
 * one key's value in memory.
 *
 * Redis's BGSAVE gets its point-in-time view from fork's copy-on-write of memory pages; this gets
 * it from a copy-on-write of keys. The export walks the keys in storage order (slot, key) and
 * writes each whole when it reaches it. Before a commit changes a key the export has not reached
 * yet (`preserve`, called by the engine's commit), the key's value as it is then, which is its
 * value at the export's offset, is saved as a DUMP payload (or saved as absent: the key was
 * created since); the walk takes a saved value where there is one. A key is saved at most once
 * per export, so a write costs its own rows plus, the first time it touches a key ahead of the
 * walk, one more row (and reading that value: a large collection is read whole once, as DUMP
 * reads it). A write never fails because of an export: what cannot be saved stops the export.
 *
 * One export runs at a time. It stops, and its next chunk answers why, when the keyspace is
 * flushed (saving every key would cost the keyspace inside one command), when the node stops
 * being the master of its history, when nobody asked for a chunk for EXPORT_IDLE_MS (writes
 * no longer pay for a reader that went away), or at a value past EXPORT_VALUE_MAX. A file that
 * stopped has no EOF and no checksum, so no loader takes it for whole.
 */
import { toBytes } from "../bytes";
import type { Engine } from "../engine";
import { RedisError } from "../errors";
import { serializedValue } from "../generic/serialized";
import { REDIS_VERSION } from "../info";
import type { Change } from "../keyspace";
import { RdbFileWriter } from "../rdb/file";
import { dumpPayload } from "../rdb/payload";
import { RDB_VERSION_MAX, RDB_VERSION_PLAIN, type RdbValue } from "../rdb/value";
import { type KeyPosition, slotOf } from "../slot";
import { type KeyRow, NO_FIELD_DEADLINE, compareFields } from "../storage";
import type { SavedKey } from "./saved";

/** Keys read per storage page by the walk: inline strings are up to 1 MiB each, so at most 32 MiB. */
const PAGE = 32;
/**
 * The largest value an export writes (it holds one whole in memory, and a chunk with it crosses
 * one RPC): a larger one stops the export, naming the key.
 */
export const EXPORT_VALUE_MAX = 16 * 1024 * 1024;
/** An export that nobody asked a chunk of for this long stops. */
export const EXPORT_IDLE_MS = 60_000;

/** What an export says of itself when it begins. */
export interface ExportStart {
  readonly id: string;
  /** The replication offset whose keyspace the file holds, and its history. */
  readonly offset: number;
  readonly replid: string;
  /** The file's RDB version: 10 (Redis 7.0 loads it), 12 when a hash has field deadlines (7.4). */
  readonly version: number;
  readonly keys: number;
}

/** Positions in storage order. */
const compare = (a: KeyPosition, b: KeyPosition): number => a.slot - b.slot || compareFields(a.key, b.key);

export class RdbExport {
  readonly start: ExportStart;
  /** The last key written to the file (null: none yet). */
  private cursor: KeyPosition | null = null;
  /** Null once the file's end was handed out. */
  private writer: RdbFileWriter | null;
  /** Why the export stopped, or null. */
  private stopped: string | null = null;
  private lastAsked: number;

  /** Begins an export of `engine`'s keyspace as it is now (the caller makes it the engine's `export`). */
  constructor(
    private readonly engine: Engine,
    id: string,
    now: number,
  ) {
    // A hash ready for field deadlines whose bound is a real deadline: a field may have one.
    const fieldDeadlines = engine.storage.deadlines.dueFieldKeys(NO_FIELD_DEADLINE - 1, 1).length > 0;
    const version = fieldDeadlines ? RDB_VERSION_MAX : RDB_VERSION_PLAIN;
    this.start = { id, offset: engine.log.offset, replid: engine.log.replid, version, keys: engine.keyspace.keyCount };
    const aux: [string, string][] = [
      ["redis-ver", REDIS_VERSION],
      ["redis-bits", "64"],
      ["ctime", String(Math.floor(now / 1000))],
      ["used-mem", String(engine.keyspace.usedBytes)],
      ["aof-base", "0"],
    ];
    this.writer = new RdbFileWriter(version, aux, engine.keyspace.keyCount, 0);
    // The libraries as they are now: Redis writes them before the keys.
    for (const code of engine.functions.codes()) this.writer.functionLibrary(toBytes(code));
    engine.transaction(() => engine.storage.saved.clear());
    this.lastAsked = now;
  }

  /** True while the export goes on (not finished, not stopped). */
  get running(): boolean {
    return this.writer !== null && this.stopped === null;
  }

  /** True when nobody asked for a chunk since EXPORT_IDLE_MS before `now`. */
  idle(now: number): boolean {
    return now - this.lastAsked > EXPORT_IDLE_MS;
  }

  /** Ends the export early (its reader went away, or see the file's comment); what was saved goes. */
  stop(reason: string): void {
    if (this.running) this.engine.transaction(() => this.end(reason));
  }

  /** Stops (the caller holds a storage transaction). */
  private end(reason: string): void {
    this.stopped = reason;
    this.writer = null;
    this.engine.storage.saved.clear();
  }

  /**
   * Saves, before `change` is committed, the value of every key it writes that the walk has not
   * reached and that is not saved yet (see the file's comment). The caller holds the commit's
   * storage transaction.
   */
  preserve(change: Change): void {
    if (!this.running) return;
    if (change.cleared) return this.end("the keyspace was flushed while it was read");
    if (this.idle(change.now)) return this.end(`no chunk of it was asked for in ${EXPORT_IDLE_MS / 1000} s`);
    const saved = this.engine.storage.saved;
    for (const key of change.writtenKeys()) {
      if (!this.ahead(key) || saved.has(key)) continue;
      // Storage holds the key as it was before this change.
      let found: { value: RdbValue; expiresAt: number | null } | null;
      try {
        found = this.valueAt(key, change.now);
      } catch (e) {
        if (!(e instanceof RedisError)) throw e;
        return this.end(e.message);
      }
      saved.save(key, found && dumpPayload(found.value), found?.expiresAt ?? null);
    }
  }

  /**
   * The stored value of `key` and its deadline (null: none, or past its deadline), read through a
   * view of its own (no command's read bounds: a string is read by its pages).
   * @throws RedisError past EXPORT_VALUE_MAX
   */
  private valueAt(key: string, now: number): { value: RdbValue; expiresAt: number | null } | null {
    const read = this.engine.keyspace.begin(now, "master", this.engine.log.offset);
    const e = read.lookup(key);
    if (e === null) return null;
    const size = e.type === "string" ? read.stringLength(e) : (e.bytes ?? 0);
    if (size > EXPORT_VALUE_MAX) throw new RedisError(`${key} holds a value of ${size} bytes, more than the ${EXPORT_VALUE_MAX} an export holds in memory`);
    if (e.type !== "string") return { value: serializedValue(read, key)!, expiresAt: e.expiresAt };
    return { value: { type: "string", value: read.bytesOf(e, 0, size) }, expiresAt: e.expiresAt };
  }

  /**
   * The file's next bytes: at least `maxBytes` unless the file ends (then with its EOF and
   * checksum), or null once the end was handed out.
   * @throws RedisError when the export stopped (see the file's comment)
   */
  next(maxBytes: number, now: number): Uint8Array | null {
    if (this.stopped === null && (this.engine.role !== "master" || this.engine.log.replid !== this.start.replid))
      this.stop("the node stopped being the master of the history it was exported from");
    if (this.stopped !== null) throw new RedisError(`ERR the export stopped: ${this.stopped}`);
    const writer = this.writer;
    if (writer === null) return null;
    this.lastAsked = now;
    try {
      return this.walk(writer, maxBytes, now);
    } catch (e) {
      if (!(e instanceof RedisError)) throw e;
      this.stop(e.message);
      throw new RedisError(`ERR the export stopped: ${e.message}`);
    }
  }

  /** The walk's next bytes (see `next`). */
  private walk(writer: RdbFileWriter, maxBytes: number, now: number): Uint8Array {
    const saved = this.engine.storage.saved;
    let size = 0;
    for (;;) {
      const slot = this.cursor?.slot ?? 0;
      const after = this.cursor?.key ?? null;
      const live = this.engine.storage.keys.scan(slot, after, PAGE);
      const kept = saved.scan(slot, after, PAGE);
      // Past the last position of a full page, the next page of that side is unknown.
      const bounds = [live.length === PAGE ? live[PAGE - 1]! : null, kept.length === PAGE ? kept[PAGE - 1]! : null].filter((b) => b !== null);
      const bound = bounds.length === 0 ? null : bounds.reduce((a, b) => (compare(a, b) <= 0 ? a : b));
      let i = 0;
      let j = 0;
      while (i < live.length || j < kept.length) {
        const l: KeyRow | undefined = live[i];
        const k: SavedKey | undefined = kept[j];
        const order = l === undefined ? 1 : k === undefined ? -1 : compare(l, k);
        const at = order <= 0 ? l! : k!;
        if (bound !== null && compare(at, bound) > 0) break;
        if (order >= 0) {
          if (!k!.absent) {
            const payload = saved.payload(k!.key);
            writer.dumped(toBytes(k!.key), payload, k!.expiresAt);
            size += payload.length;
          }
          j++;
          if (order === 0) i++;
        } else {
          const found = this.valueAt(l!.key, now);
          if (found !== null) writer.key(toBytes(l!.key), found.value, found.expiresAt);
          size += l!.key.length + l!.entry.value.length + (l!.entry.bytes ?? 0);
          i++;
        }
        this.cursor = { slot: at.slot, key: at.key };
        if (size >= maxBytes) return writer.take();
      }
      if (bound === null) break;
    }
    this.writer = null;
    this.engine.transaction(() => this.engine.storage.saved.clear());
    return writer.end();
  }

  /** True when `key` comes after the walk's position: the export has not written it yet. */
  private ahead(key: string): boolean {
    return this.cursor === null || compare({ slot: slotOf(key), key }, this.cursor) > 0;
  }
}

/**
 * Begins an export of `engine`'s keyspace (a master's), unless one is running that was read
 * within EXPORT_IDLE_MS (an idle one is stopped and replaced).
 * @throws RedisError when one is running, or on a replica
 */
export function beginExport(engine: Engine, id: string, now: number): ExportStart {
  if (engine.role !== "master") throw new RedisError("READONLY You can't export from a read only replica.");
  const running = engine.exporting;
  if (running?.running && !running.idle(now)) throw new RedisError("ERR an export is in progress: one runs at a time");
  running?.stop("another export replaced it");
  engine.exporting = new RdbExport(engine, id, now);
  return engine.exporting.start;
}

/**
 * The next bytes of export `id` (see `RdbExport.next`); null once it ended.
 * @throws RedisError when it stopped, or when this node runs no export of that id (it restarted)
 */
export function exportChunk(engine: Engine, id: string, maxBytes: number, now: number): Uint8Array | null {
  const e = engine.exporting;
  if (e === null || e.start.id !== id) throw new RedisError("ERR the export stopped: its node restarted or another export replaced it");
  return e.next(maxBytes, now);
}
