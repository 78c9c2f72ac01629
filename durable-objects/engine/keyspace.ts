/**
 * The keyspace: SQLite is the source of truth, an LRU of recently used keys sits in front of it
 * (so a keyspace larger than a Durable Object's 128 MB works), and every change goes through a
 * `Change` overlay first.
 *
 * Why an overlay: a command (or a whole MULTI) reads and writes the overlay; only when it has
 * finished without error is the overlay committed to storage, the cache and the replication log
 * together. A command that fails half-way therefore changes nothing, and the effects it recorded
 * (deterministic write effects: SET ... PXAT, DEL, PEXPIREAT, PERSIST, FLUSHALL) are exactly the
 * changes that were committed, which is what replicas apply.
 */
import { type Bytes, concatBytes, overwriteBytes } from "./bytes";
import { encode } from "./effects";
import { errors } from "./errors";
import type { Entry, KeyRow, Storage } from "./storage";

/** A deterministic write effect, as a Redis command (name first). */
export type Effect = (string | Bytes)[];

/** Roles use Redis's vocabulary: INFO prints them. */
export type Role = "master" | "slave";

export interface KeyspaceLimits {
  /** Largest string value in bytes. */
  readonly maxValueBytes: number;
  /** Budget of the hot cache, in (approximate) bytes. */
  readonly cacheBytes: number;
}

const ENTRY_OVERHEAD = 64;
const sizeOf = (key: string, e: Entry | null) => ENTRY_OVERHEAD + key.length * 2 + (e ? e.value.length : 0);

/** Recently used entries, including known-absent keys (null), bounded by bytes. */
class HotCache {
  private map = new Map<string, Entry | null>();
  private bytes = 0;
  constructor(private readonly budget: number) {}

  has(key: string): boolean {
    return this.map.has(key);
  }
  get(key: string): Entry | null | undefined {
    const e = this.map.get(key);
    if (e !== undefined) {
      this.map.delete(key);
      this.map.set(key, e); // most recently used last
    }
    return e;
  }
  set(key: string, e: Entry | null): void {
    this.drop(key);
    this.map.set(key, e);
    this.bytes += sizeOf(key, e);
    for (const [k] of this.map) {
      if (this.bytes <= this.budget) break;
      this.drop(k);
    }
  }
  drop(key: string): void {
    if (!this.map.has(key)) return;
    this.bytes -= sizeOf(key, this.map.get(key)!);
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
  get size(): number {
    return this.bytes;
  }
}

export class Keyspace {
  private readonly cache: HotCache;
  /** Number of keys, logically expired ones included (as Redis's DBSIZE counts them). */
  keyCount: number;

  constructor(
    readonly storage: Storage,
    readonly limits: KeyspaceLimits,
  ) {
    this.cache = new HotCache(limits.cacheBytes);
    const stored = storage.meta.get("key_count");
    this.keyCount = typeof stored === "number" ? stored : storage.keys.count();
  }

  /** The stored entry, expired or not. */
  read(key: string): Entry | null {
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const e = this.storage.keys.get(key);
    this.cache.set(key, e);
    return e;
  }

  /** Opens an overlay for one command or one MULTI. */
  begin(now: number, role: Role): Change {
    return new Change(this, now, role);
  }

  /**
   * Writes a finished overlay to storage, stamping every written key with `mod`, the replication
   * offset of the commit, or (null) with the `mod` each entry carries (a replica applying the
   * stream stamps each key with the end offset of the effect that wrote it). The caller holds a
   * storage transaction and appends `change.effects` to the replication log inside it.
   */
  commit(change: Change, mod: number | null): void {
    const keys = this.storage.keys;
    let count = change.cleared ? 0 : this.keyCount;
    if (change.cleared) {
      keys.clear();
      this.cache.clear();
    }
    for (const [key, { before, after }] of change.touched) {
      const stored = after && (mod === null ? after : { ...after, mod });
      if (stored) keys.put(key, stored);
      else keys.delete(key);
      count += Number(after !== null) - Number(before);
      this.cache.set(key, stored);
    }
    if (count !== this.keyCount || change.cleared) this.storage.meta.set("key_count", count);
    this.keyCount = count;
  }

  /** Deletes the keys last written before `offset` (a FLUSHALL replayed during a full sync). */
  deleteWrittenBefore(offset: number): void {
    this.storage.keys.deleteWrittenBefore(offset);
    this.recount();
  }

  /** Forgets cached state after a failed storage transaction; storage is the truth. */
  reset(): void {
    this.cache.clear();
    const stored = this.storage.meta.get("key_count");
    this.keyCount = typeof stored === "number" ? stored : this.storage.keys.count();
  }

  /** Recounts the keys from storage (after a bulk change such as a full sync). */
  recount(): void {
    this.cache.clear();
    this.keyCount = this.storage.keys.count();
    this.storage.meta.set("key_count", this.keyCount);
  }

  get cacheBytes(): number {
    return this.cache.size;
  }
}

interface Savepoint {
  readonly touched: Map<string, { before: boolean; after: Entry | null }>;
  readonly effects: number;
  readonly cleared: boolean;
  readonly expired: number;
}

/**
 * The pending changes of one command or MULTI. Reads see the changes made so far; nothing is
 * visible to anyone else until `Keyspace.commit`.
 */
export class Change {
  /** Per touched key: did it exist before, and its entry after (null: deleted). */
  readonly touched = new Map<string, { before: boolean; after: Entry | null }>();
  readonly effects: Effect[] = [];
  cleared = false;
  /** Keys this change removed because their deadline had passed (INFO `expired_keys`). */
  expired = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly keyspace: Keyspace,
    /** The time of this command: one instant for the whole command, as Redis does. */
    readonly now: number,
    readonly role: Role,
  ) {}

  /** The stored entry of `key` as this change sees it, expired or not. */
  peek(key: string): Entry | null {
    return this.raw(key);
  }

  /**
   * Writes `key` as a replica applies the master's effect (or a snapshot row): as told, recording
   * no effect, stamped with `mod`, the end offset of what wrote it (see `Keyspace.commit`).
   */
  writeAsTold(key: string, entry: Entry | null, mod: number): void {
    this.write(key, entry && { ...entry, mod });
  }

  private raw(key: string): Entry | null {
    const t = this.touched.get(key);
    if (t) return t.after;
    return this.cleared ? null : this.keyspace.read(key);
  }

  private write(key: string, after: Entry | null): void {
    const t = this.touched.get(key);
    if (t) t.after = after;
    else this.touched.set(key, { before: !this.cleared && this.keyspace.read(key) !== null, after });
  }

  /**
   * The live entry of `key`, or null. A key past its deadline is missing: the master deletes it
   * (and replicates a DEL, as Redis does); a replica leaves it for the master's DEL.
   */
  get(key: string): Entry | null {
    const e = this.raw(key);
    if (e === null || e.expiresAt === null || e.expiresAt > this.now) return e;
    if (this.role === "master") {
      this.write(key, null);
      this.effects.push(encode.del(key));
      this.expired++;
    }
    return null;
  }

  /** Like `get`, counting a keyspace hit or miss (INFO stats). */
  lookup(key: string): Entry | null {
    const e = this.get(key);
    if (e) this.hits++;
    else this.misses++;
    return e;
  }

  /** The string value of `key`, null when missing. @throws WRONGTYPE */
  getString(key: string): Bytes | null {
    const e = this.lookup(key);
    if (e === null) return null;
    if (e.type !== "string") throw errors.wrongType();
    return e.value;
  }

  exists(key: string): boolean {
    return this.get(key) !== null;
  }

  /** Sets a string value with an absolute deadline (null: none); a past deadline deletes. */
  setString(key: string, value: Bytes, expiresAt: number | null): void {
    this.checkSize(value.length);
    if (expiresAt !== null && expiresAt <= this.now) {
      this.delete(key);
      return;
    }
    this.write(key, { type: "string", value, expiresAt });
    this.effects.push(encode.set(key, value, expiresAt));
  }

  /**
   * Appends to the string at `key` (created when missing), keeping its deadline; logged as APPEND,
   * so the log grows by the suffix, not by the value. @returns the new length
   * @throws WRONGTYPE, or ERR when the value would pass the size limit
   */
  appendString(key: string, suffix: Bytes): number {
    const current = this.getString(key);
    this.checkSize((current?.length ?? 0) + suffix.length);
    const value = current === null ? suffix : concatBytes([current, suffix]);
    this.rewriteString(key, value, encode.append(key, suffix));
    return value.length;
  }

  /**
   * Overwrites bytes of the string at `key` from `offset` (zero-padded, created when missing),
   * keeping its deadline; logged as SETRANGE. @returns the new length
   * @throws WRONGTYPE, or ERR when the value would pass the size limit
   */
  setRange(key: string, offset: number, bytes: Bytes): number {
    const current = this.getString(key);
    if (bytes.length === 0) return current?.length ?? 0;
    this.checkSize(Math.max(current?.length ?? 0, offset + bytes.length));
    const value = overwriteBytes(current ?? new Uint8Array(0), offset, bytes);
    this.rewriteString(key, value, encode.setrange(key, offset, bytes));
    return value.length;
  }

  /** @throws ERR when a string of `size` bytes would pass the value limit */
  private checkSize(size: number): void {
    const limit = this.keyspace.limits.maxValueBytes;
    if (size > limit) throw errors.valueTooLarge(limit, size);
  }

  /** Gives the (live or missing) string at `key` a new value, keeping its deadline, and logs `effect`. */
  private rewriteString(key: string, value: Bytes, effect: Effect): void {
    this.write(key, { type: "string", value, expiresAt: this.raw(key)?.expiresAt ?? null });
    this.effects.push(effect);
  }

  /** Puts a whole entry under `key` (RENAME, COPY). */
  put(key: string, entry: Entry): void {
    if (entry.type !== "string") throw new Error(`put: type ${entry.type} is not supported yet`);
    this.setString(key, entry.value, entry.expiresAt);
  }

  /** Deletes `key`; true when a live key was removed. */
  delete(key: string): boolean {
    const live = this.get(key) !== null;
    if (live) {
      this.write(key, null);
      this.effects.push(encode.del(key));
    }
    return live;
  }

  /** Sets or clears the deadline of a live key; a past deadline deletes it. */
  setDeadline(key: string, expiresAt: number | null): boolean {
    const e = this.get(key);
    if (e === null) return false;
    if (expiresAt !== null && expiresAt <= this.now) return this.delete(key);
    this.write(key, { ...e, expiresAt });
    this.effects.push(encode.deadline(key, expiresAt));
    return true;
  }

  /**
   * One page of live keys in storage order after position `after`; `next` is 0 on the last page.
   * Keys this change created appear on the last page.
   */
  scan(after: number, limit: number): { rows: KeyRow[]; next: number } {
    const stored = this.cleared ? [] : this.keyspace.storage.keys.scan(after, limit);
    const rows: KeyRow[] = [];
    for (const row of stored) {
      const entry = this.touched.has(row.key) ? this.touched.get(row.key)!.after : row.entry;
      if (entry !== null && (entry.expiresAt === null || entry.expiresAt > this.now)) rows.push({ ...row, entry });
    }
    const last = stored.length === limit ? stored[stored.length - 1]!.id : 0;
    if (last === 0)
      for (const [key, t] of this.touched)
        if (!t.before && t.after !== null && (t.after.expiresAt === null || t.after.expiresAt > this.now))
          rows.push({ id: 0, key, entry: t.after });
    return { rows, next: last };
  }

  /** A random live key, or null; `random` gives floats in [0, 1). */
  randomKey(random: () => number): string | null {
    for (let tries = 0; tries < 100; tries++) {
      const key = this.cleared ? null : this.keyspace.storage.keys.random(random());
      if (key === null) break;
      if (this.get(key) !== null) return key;
    }
    for (const [key, t] of this.touched) if (t.after !== null && this.get(key) !== null) return key;
    return null;
  }

  /** A point to roll back to (one call inside a MULTI that fails at run time). */
  savepoint(): Savepoint {
    return {
      touched: new Map([...this.touched].map(([k, v]) => [k, { ...v }])),
      effects: this.effects.length,
      cleared: this.cleared,
      expired: this.expired,
    };
  }

  rollback(s: Savepoint): void {
    this.touched.clear();
    for (const [k, v] of s.touched) this.touched.set(k, v);
    this.effects.length = s.effects;
    this.cleared = s.cleared;
    this.expired = s.expired;
  }

  flush(): void {
    // Effects before the FLUSHALL stay: replaying them and then FLUSHALL gives the same result.
    this.touched.clear();
    this.cleared = true;
    this.effects.push(encode.flushall());
  }

  /** Number of keys if this change were committed now. */
  get keyCount(): number {
    let n = this.cleared ? 0 : this.keyspace.keyCount;
    for (const { before, after } of this.touched.values()) n += Number(after !== null) - Number(before);
    return n;
  }

  get maxValueBytes(): number {
    return this.keyspace.limits.maxValueBytes;
  }

  /** True when committing would change storage. */
  get dirty(): boolean {
    return this.touched.size > 0 || this.cleared;
  }
}
