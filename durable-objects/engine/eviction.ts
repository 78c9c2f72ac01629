/**
 * Eviction (Redis's evict.c): with `maxmemory` set, a master about to run a command that may
 * grow the dataset (flagged `denyoom`) first deletes keys chosen by `maxmemory-policy` until the
 * dataset's estimate (sizes.ts) is back within the bound; each eviction is replicated as a DEL
 * and counted in `evicted_keys`. Replicas never evict: they apply the master's DELs.
 *
 * As in Redis, LRU and LFU are approximated by sampling: each round reads `maxmemory-samples`
 * random keys (for volatile-* keys with a deadline), scores them and keeps the best candidates
 * in a small pool across rounds (Redis's EVPOOL_SIZE 16); the best of the pool goes.
 *
 * Access tracking is in memory on the node, never a row per read (rows written are billed): a
 * bounded map key → last access (a logical clock: strictly ordered even when a Worker's clock
 * stands still between I/O) and Redis's logarithmic LFU counter, decayed by the minutes since it
 * was last decremented. A key not in the map (never used since the node started, or pushed out
 * as the least recently used) counts as idle since the node started, with an LFU counter of 0.
 */
import type { Random } from "./clock";
import type { Config } from "./config";
import { type RedisError, errors } from "./errors";
import type { Change } from "./keyspace";
import type { DeadlineIndex } from "./keyspace/deadline-index";
import type { KeyStore } from "./storage";

/** Keys whose accesses the node remembers; past it the least recently used are forgotten. */
const TRACKED_KEYS = 65_536;
/** Redis's LFU_INIT_VAL: a new key starts with this counter, so it is not evicted at once. */
const LFU_INIT = 5;
/** Redis's lfu-log-factor and lfu-decay-time (minutes) defaults. */
const LFU_LOG_FACTOR = 10;
const LFU_DECAY_MINUTES = 1;
/** Keys a replica reports per interval at most (`AccessTracker.takeReport`): a bounded sample of what it served. */
export const REPORT_KEYS = 1024;
/** And their UTF-16 length in all, so a report of long keys stays small beside the ACK it rides on. */
export const REPORT_CHARS = 64 * 1024;
/** Accesses folded per key of a report at most: beyond a few, LFU's logarithmic counter hardly moves. */
const REPORT_HITS = 16;
/** Redis's EVPOOL_SIZE. */
const POOL_SIZE = 16;
/**
 * Most keys evicted before one command. Past it the command runs (Redis's EVICT_RUNNING) and the
 * next one goes on, so a lowered maxmemory never holds the node for long.
 */
const MAX_EVICTIONS_PER_COMMAND = 256;
/** Keys sampled per round at most, whatever `maxmemory-samples` says (Redis's own advice stops at 10; each is a read). */
const MAX_SAMPLES = 64;
/** Sampling rounds that find nothing to evict before the command is refused (an OOM). */
const MAX_EMPTY_ROUNDS = 8;

interface Access {
  /** The logical time of the last access. */
  seq: number;
  /** The engine time (ms) of the last access: OBJECT IDLETIME. */
  at: number;
  /** Redis's 8-bit logarithmic frequency counter. */
  lfu: number;
  /** The minute the counter was last decayed. */
  decayedAt: number;
}

/** What the node remembers of key accesses, for LRU and LFU (see the module's comment). */
export class AccessTracker {
  private readonly keys = new Map<string, Access>();
  private seq = 0;

  constructor(
    private readonly random: Random,
    private readonly capacity = TRACKED_KEYS,
  ) {}

  /**
   * Records an access to `key` at `now` (ms): the LRU clock, and with `lfu` (an LFU policy is set)
   * Redis's updateLFU. As in Redis the counter moves only under an LFU policy: its increment is a
   * random draw, which no other policy should pay for.
   */
  touch(key: string, now: number, lfu: boolean): void {
    const minute = Math.floor(now / 60_000);
    const a = this.keys.get(key);
    this.seq++;
    if (a === undefined) {
      this.keys.set(key, { seq: this.seq, at: now, lfu: LFU_INIT, decayedAt: minute });
      if (this.keys.size > this.capacity) this.keys.delete(this.keys.keys().next().value!);
      return;
    }
    this.keys.delete(key); // most recently used last, as the map's order
    if (lfu) {
      a.lfu = this.logIncrement(decay(a, minute));
      a.decayedAt = minute;
    }
    a.seq = this.seq;
    a.at = Math.max(a.at, now);
    this.keys.set(key, a);
  }

  /**
   * Records the accesses of a change that commits (with `lfu`, an LFU policy is set); keys it
   * deleted are forgotten. On a replica (`replica`) each is noted for the master too (`note`).
   */
  record(change: Change, lfu: boolean, replica: boolean): void {
    if (change.cleared) this.clear();
    for (const [key, { after }] of change.touched) if (after === null) this.forget(key);
    for (const key of change.accessed)
      if (change.touched.get(key)?.after !== null) {
        this.touch(key, change.now, lfu);
        if (replica) this.note(key);
      }
    for (const [key, usage] of change.usage) if (change.touched.get(key)?.after) this.setUsage(key, change.now, lfu, usage);
  }

  /**
   * RESTORE's IDLETIME (under an LRU policy) or FREQ (under an LFU one), as Redis's
   * objectSetLRUOrLFU sets them. The idle time is OBJECT IDLETIME's; for eviction a key restored
   * idle counts as older than every access the node remembers (its logical clock has no time).
   */
  private setUsage(key: string, now: number, lfu: boolean, usage: { readonly idleMs?: number; readonly frequency?: number }): void {
    const a = this.keys.get(key);
    if (a === undefined) return;
    if (lfu) {
      if (usage.frequency === undefined) return;
      a.lfu = usage.frequency;
      a.decayedAt = Math.floor(now / 60_000);
    } else if (usage.idleMs !== undefined && usage.idleMs > 0) {
      a.at = now - usage.idleMs;
      a.seq = 0;
    }
  }

  forget(key: string): void {
    this.keys.delete(key);
    if (this.reported.delete(key)) this.reportedChars -= key.length;
  }

  /**
   * Keys accessed since the last report, with their counts: a replica's record of the reads it
   * served, for the master's LRU and LFU (`fold`). Bounded by REPORT_KEYS: once full, keys not
   * yet in it are left out until the next report (a hot key is seen early in any interval).
   */
  private readonly reported = new Map<string, number>();
  private reportedChars = 0;

  /** Notes an access for the next report (within REPORT_KEYS keys and REPORT_CHARS of them). */
  note(key: string): void {
    const n = this.reported.get(key);
    if (n !== undefined) this.reported.set(key, n + 1);
    else if (this.reported.size < REPORT_KEYS && this.reportedChars + key.length <= REPORT_CHARS) {
      this.reported.set(key, 1);
      this.reportedChars += key.length;
    }
  }

  /** The accesses noted since the last report, emptied. */
  takeReport(): [string, number][] {
    const report = [...this.reported];
    this.reported.clear();
    this.reportedChars = 0;
    return report;
  }

  /**
   * Folds a replica's report in at `now`: each key counts as used now (LRU), and under an LFU
   * policy as used as often as reported (at most REPORT_HITS draws of Redis's LFULogIncr).
   */
  fold(report: readonly (readonly [string, number])[], now: number, lfu: boolean): void {
    for (const [key, hits] of report) {
      const draws = lfu ? Math.min(Math.max(Math.floor(hits), 1), REPORT_HITS) : 1;
      for (let i = 0; i < draws; i++) this.touch(key, now, lfu);
    }
  }

  clear(): void {
    this.keys.clear();
    this.reported.clear();
    this.reportedChars = 0;
  }

  /** Accesses since `key`'s last one (all since the node started when unknown): LRU's idle time. */
  idle(key: string): number {
    return this.seq - (this.keys.get(key)?.seq ?? 0);
  }

  /** Milliseconds since `key`'s last access at `now`; since `since` (the node's start) when unknown. */
  idleMs(key: string, now: number, since: number): number {
    return Math.max(0, now - (this.keys.get(key)?.at ?? since));
  }

  /** `key`'s LFU counter decayed to `now` (0 when unknown). */
  frequency(key: string, now: number): number {
    const a = this.keys.get(key);
    return a === undefined ? 0 : decay(a, Math.floor(now / 60_000));
  }

  /** Redis's LFULogIncr: the counter grows ever more rarely as it grows (at most 255). */
  private logIncrement(counter: number): number {
    if (counter === 255) return 255;
    const base = Math.max(counter - LFU_INIT, 0);
    return this.random.next() < 1 / (base * LFU_LOG_FACTOR + 1) ? counter + 1 : counter;
  }
}

/** Redis's LFUDecrAndReturn: one off the counter per decay period since it was last decayed. */
function decay(a: Access, minute: number): number {
  const periods = Math.floor((minute - a.decayedAt) / LFU_DECAY_MINUTES);
  return Math.max(a.lfu - periods, 0);
}

type Policy = Config["maxmemory-policy"];

/** Chooses keys to evict per policy; the sampling pool lives as long as the node. */
export class Evictor {
  /** The best candidates seen so far, by ascending score (the best last). */
  private pool: { key: string; score: number }[] = [];

  constructor(
    private readonly keys: KeyStore,
    private readonly deadlines: DeadlineIndex,
    private readonly access: AccessTracker,
    private readonly random: Random,
  ) {}

  /**
   * Redis's performEvictions: evicts from `change` (to be committed by the caller) until its
   * dataset estimate is within `config.maxmemory`.
   * @returns the number of keys evicted and, when the dataset is still over the bound and nothing
   *   more can go (noeviction, nothing volatile for a volatile-* policy), the OOM error to answer
   */
  makeRoom(change: Change, config: Config): { evicted: number; refusal: RedisError | null } {
    const policy = config["maxmemory-policy"];
    let used = change.usedBytes;
    let evicted = 0;
    for (let empty = 0; used > config.maxmemory; ) {
      if (policy === "noeviction") return { evicted, refusal: errors.oom() };
      if (evicted >= MAX_EVICTIONS_PER_COMMAND) break;
      const key = this.candidate(change, policy, Math.min(config["maxmemory-samples"], MAX_SAMPLES));
      const freed = key === null ? 0 : change.evict(key);
      if (freed === 0) {
        if (++empty >= MAX_EMPTY_ROUNDS) return { evicted, refusal: evicted === 0 ? errors.oom() : null };
        continue;
      }
      used -= freed;
      evicted++;
      this.access.forget(key!);
    }
    return { evicted, refusal: null };
  }

  /** The next key to evict, or null when a round found none. */
  private candidate(change: Change, policy: Exclude<Policy, "noeviction">, samples: number): string | null {
    const volatile = policy.startsWith("volatile-");
    const pick = () => (volatile ? this.deadlines.randomWithDeadline(this.random.next()) : this.keys.random(this.random.next(), this.random.next()));
    if (policy === "allkeys-random" || policy === "volatile-random") return pick();
    for (let i = 0; i < samples; i++) {
      const key = pick();
      if (key === null) break;
      const score = this.score(change, key, policy);
      if (score !== null) this.offer(key, score);
    }
    // The best of the pool, re-scored: one used since it was sampled goes back with its new score.
    while (this.pool.length > 0) {
      const best = this.pool.pop()!;
      const score = change.peek(best.key) === null ? null : this.score(change, best.key, policy);
      if (score === null) continue;
      if (score < best.score) {
        this.offer(best.key, score);
        continue;
      }
      return best.key;
    }
    return null;
  }

  /** Higher is evicted first (Redis's idle); null for a key that is gone or not volatile. */
  private score(change: Change, key: string, policy: Policy): number | null {
    if (policy === "volatile-ttl" || policy.startsWith("volatile-")) {
      const e = change.peek(key);
      if (e === null || e.expiresAt === null) return null;
      if (policy === "volatile-ttl") return -e.expiresAt; // the soonest deadline first
    }
    if (policy.endsWith("-lfu")) return 255 - this.access.frequency(key, change.now);
    return this.access.idle(key);
  }

  /** Keeps `key` in the pool if it is among the best POOL_SIZE seen. */
  private offer(key: string, score: number): void {
    const pool = this.pool.filter((c) => c.key !== key);
    if (pool.length >= POOL_SIZE && score <= pool[0]!.score) {
      this.pool = pool;
      return;
    }
    let i = 0;
    while (i < pool.length && pool[i]!.score <= score) i++;
    pool.splice(i, 0, { key, score });
    if (pool.length > POOL_SIZE) pool.shift();
    this.pool = pool;
  }
}
