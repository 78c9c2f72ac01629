/**
 * The storage seam of the engine. A node uses the SQLite-backed implementation
 * (`durable-objects/sqlite-storage.ts`); engine tests use `MemoryStorage` below. Both are
 * synchronous, which keeps every command (and every MULTI) atomic within one event.
 */
import type { Bytes } from "./bytes";

/** Redis's value types; codes are the RDB type codes so a snapshot can carry them as they are. */
export const TYPE_CODES = { string: 0, list: 1, set: 2, zset: 3, hash: 4 } as const;
export type ValueType = keyof typeof TYPE_CODES;

/**
 * One key's record. `value` holds the whole value for strings; collection types (a later
 * issue) keep a small header here and their elements in rows of their own, so that no value
 * outgrows SQLite's 2 MB row limit.
 */
export interface Entry {
  readonly type: ValueType;
  readonly value: Bytes;
  /** Absolute deadline in ms since the epoch, or null for a key without TTL. */
  readonly expiresAt: number | null;
  /** Replication offset at which the key was last written (set by the commit; see replication.ts). */
  readonly mod?: number;
}

export interface KeyRow {
  readonly id: number;
  readonly key: string;
  readonly entry: Entry;
}

export interface KeyStore {
  get(key: string): Entry | null;
  /** Inserts or replaces; a replaced key keeps its scan position. */
  put(key: string, entry: Entry): void;
  delete(key: string): void;
  clear(): void;
  /** Deletes the keys last written before `offset` (FLUSHALL replayed during a full sync). */
  deleteWrittenBefore(offset: number): void;
  /** Keys in scan order (stable ids), those with id > `afterId`, at most `limit`. */
  scan(afterId: number, limit: number): KeyRow[];
  /** Keys whose deadline is at or before `now`, earliest first. */
  due(now: number, limit: number): string[];
  nextDeadline(): number | null;
  /** A key picked at a random position `r` in [0, 1) of the key order, or null when empty. */
  random(r: number): string | null;
  countWithDeadline(): number;
  /** An exact count; the engine keeps its own running count and uses this only to seed it. */
  count(): number;
}

/** The replication backlog: frames of the effect stream, each starting just after `offset`. */
export interface LogStore {
  append(offset: number, frame: Bytes): void;
  /** The earliest and the latest entry, or null when the log is empty. */
  bounds(): { first: number; lastOffset: number; lastLength: number } | null;
  /** Drops every entry that starts before `offset`. */
  trimBefore(offset: number): void;
  clear(): void;
  /** Entries starting at or after `offset`, in order, up to about `maxBytes`. */
  read(offset: number, maxBytes: number): { offset: number; frame: Bytes }[];
}

export interface MetaStore {
  get(name: string): string | number | null;
  set(name: string, value: string | number): void;
}

export interface Storage {
  readonly keys: KeyStore;
  readonly log: LogStore;
  readonly meta: MetaStore;
  /** Runs `fn` so that all of its writes land, or none. */
  transaction<T>(fn: () => T): T;
}

/** In-memory `Storage` for engine tests. Transactions roll back on throw, as SQLite's do. */
export class MemoryStorage implements Storage {
  private rows = new Map<string, { id: number; entry: Entry }>();
  private nextId = 1;
  private frames = new Map<number, Bytes>();
  private metaRows = new Map<string, string | number>();

  readonly keys: KeyStore = {
    get: (key) => this.rows.get(key)?.entry ?? null,
    put: (key, entry) => {
      const row = this.rows.get(key);
      this.rows.set(key, { id: row?.id ?? this.nextId++, entry });
    },
    delete: (key) => void this.rows.delete(key),
    clear: () => this.rows.clear(),
    deleteWrittenBefore: (offset) => {
      for (const [key, r] of this.rows) if ((r.entry.mod ?? 0) < offset) this.rows.delete(key);
    },
    scan: (afterId, limit) =>
      [...this.rows]
        .filter(([, r]) => r.id > afterId)
        .sort((a, b) => a[1].id - b[1].id)
        .slice(0, limit)
        .map(([key, r]) => ({ id: r.id, key, entry: r.entry })),
    due: (now, limit) =>
      [...this.rows]
        .filter(([, r]) => r.entry.expiresAt !== null && r.entry.expiresAt <= now)
        .sort((a, b) => a[1].entry.expiresAt! - b[1].entry.expiresAt!)
        .slice(0, limit)
        .map(([key]) => key),
    nextDeadline: () => {
      let min: number | null = null;
      for (const r of this.rows.values()) {
        const at = r.entry.expiresAt;
        if (at !== null && (min === null || at < min)) min = at;
      }
      return min;
    },
    random: (r) => {
      const keys = [...this.rows.keys()];
      return keys.length === 0 ? null : keys[Math.floor(r * keys.length)]!;
    },
    countWithDeadline: () => [...this.rows.values()].filter((r) => r.entry.expiresAt !== null).length,
    count: () => this.rows.size,
  };

  readonly log: LogStore = {
    append: (offset, frame) => void this.frames.set(offset, frame),
    bounds: () => {
      const offsets = [...this.frames.keys()];
      if (offsets.length === 0) return null;
      const last = Math.max(...offsets);
      return { first: Math.min(...offsets), lastOffset: last, lastLength: this.frames.get(last)!.length };
    },
    trimBefore: (offset) => {
      for (const o of this.frames.keys()) if (o < offset) this.frames.delete(o);
    },
    clear: () => this.frames.clear(),
    read: (offset, maxBytes) => {
      const out: { offset: number; frame: Bytes }[] = [];
      let size = 0;
      for (const o of [...this.frames.keys()].filter((o) => o >= offset).sort((a, b) => a - b)) {
        if (out.length > 0 && size >= maxBytes) break;
        const frame = this.frames.get(o)!;
        out.push({ offset: o, frame });
        size += frame.length;
      }
      return out;
    },
  };

  readonly meta: MetaStore = {
    get: (name) => this.metaRows.get(name) ?? null,
    set: (name, value) => void this.metaRows.set(name, value),
  };

  transaction<T>(fn: () => T): T {
    const saved = {
      rows: new Map(this.rows),
      frames: new Map(this.frames),
      meta: new Map(this.metaRows),
      nextId: this.nextId,
    };
    try {
      return fn();
    } catch (e) {
      Object.assign(this, { rows: saved.rows, frames: saved.frames, metaRows: saved.meta, nextId: saved.nextId });
      throw e;
    }
  }
}
