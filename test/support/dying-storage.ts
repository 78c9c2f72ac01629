/**
 * A Durable Object's storage that dies at a chosen statement, as a process killed there would:
 * that statement and everything after it fail, the open transaction rolls back, and what was
 * committed before stays. A restart is a new `SqliteStorage` on the real storage, with nothing of
 * the dead one's memory. Statements are named by what they do (the crash points a test aims at).
 */

/** Thrown where the storage died (and at every call after). */
export class Crash extends Error {
  override readonly name = "Crash";
}

/** True for a crash, also when the storage wrapped it in an error naming the statement. */
export function isCrash(e: unknown): boolean {
  return e instanceof Crash || (e instanceof Error && e.cause !== undefined && isCrash(e.cause));
}

/** What a statement does, by its text: the named crash points. */
export type Point =
  | "keys-store"
  | "replay-marker"
  | "log-append"
  | "log-trim"
  | "elements"
  | "pages"
  | "rank-index"
  | "snapshot-load"
  | "meta"
  | "read";

export function pointOf(sql: string): Point {
  if (/keyspace_replay_from/.test(sql)) return "replay-marker";
  if (/INSERT OR REPLACE INTO keyspace \(slot, key, type, encoding, value, expires_at, mod_offset\)\s+SELECT/.test(sql)) return "snapshot-load";
  if (/^\s*(INSERT|DELETE|UPDATE)[^;]*\bkeyspace\b/.test(sql)) return "keys-store";
  if (/INSERT INTO backlog/.test(sql)) return "log-append";
  if (/DELETE FROM backlog/.test(sql)) return "log-trim";
  if (/^\s*(INSERT|DELETE|UPDATE)[^;]*\b(ranks|ranked)\b/.test(sql)) return "rank-index";
  if (/^\s*(INSERT|DELETE|UPDATE)[^;]*\bpages\b/.test(sql)) return "pages";
  if (/^\s*(INSERT|DELETE|UPDATE)[^;]*\b(elements|dropped)\b/.test(sql)) return "elements";
  if (/^\s*(INSERT|DELETE|UPDATE)[^;]*\bmeta\b/.test(sql)) return "meta";
  return "read";
}

/**
 * Wraps `inner`; `dieAt` is the statement (1-based, counted from `arm()`) that fails, null for
 * none. `trace` records each statement's point once armed.
 */
export class DyingStorage {
  private count = 0;
  private armed = false;
  dead = false;
  readonly trace: Point[] = [];

  constructor(
    private readonly inner: DurableObjectStorage,
    private readonly dieAt: number | null,
  ) {}

  /** Counts from now on (a storage's own start-up is not what is being crashed). */
  arm(): void {
    this.armed = true;
  }

  /** Stops counting (the checks after a workload are not what is being crashed). */
  disarm(): void {
    this.armed = false;
  }

  private tick(sql: string): void {
    if (this.dead) throw new Crash("the storage is dead");
    if (!this.armed) return;
    this.trace.push(pointOf(sql));
    if (++this.count === this.dieAt) {
      this.dead = true;
      throw new Crash(`killed at statement ${this.count} (${pointOf(sql)})`);
    }
  }

  get sql(): SqlStorage {
    const inner = this.inner.sql;
    const exec = (query: string, ...params: unknown[]) => {
      this.tick(query);
      return inner.exec(query, ...params);
    };
    return {
      exec,
      get databaseSize() {
        return inner.databaseSize;
      },
    } as unknown as SqlStorage;
  }

  transactionSync<T>(fn: () => T): T {
    if (this.dead) throw new Crash("the storage is dead");
    return this.inner.transactionSync(fn);
  }

  /** As a `DurableObjectStorage` (only `sql` and `transactionSync` are used by `SqliteStorage`). */
  get storage(): DurableObjectStorage {
    return this as unknown as DurableObjectStorage;
  }
}

/** Empties a database, as a new Durable Object's. */
export function wipe(storage: DurableObjectStorage): void {
  for (const t of ["keyspace", "elements", "pages", "backlog", "meta", "dropped", "ranks", "ranked", "saved", "keyspace_v6"]) storage.sql.exec(`DROP TABLE IF EXISTS ${t}`);
}
