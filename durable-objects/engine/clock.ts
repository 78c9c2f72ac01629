/** Time source, injected so that expiry, lag and failover timing are exact in tests. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Resolves once `ms` have passed on this clock. An aborted `signal` drops the timer and leaves
   * the promise pending (a pending timer keeps a Durable Object's request alive).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => clearTimeout(timer), { once: true });
    }),
};

/** A clock that moves only when told to; sleepers wake when it passes their deadline. */
export class ManualClock implements Clock {
  private sleepers: { at: number; wake: () => void }[] = [];
  private ms: number;
  // No parameter property: the CLI imports this module with Node's type stripping.
  constructor(ms: number = Date.UTC(2026, 0, 1)) {
    this.ms = ms;
  }
  now(): number {
    return this.ms;
  }
  /** Resolves once someone sleeps on this clock (tests move it only then). */
  whenSleeping(): Promise<void> {
    if (this.sleepers.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.sleepWatchers.push(resolve));
  }
  private sleepWatchers: (() => void)[] = [];
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((wake) => {
      const sleeper = { at: this.ms + ms, wake };
      this.sleepers.push(sleeper);
      for (const watcher of this.sleepWatchers.splice(0)) watcher();
      signal?.addEventListener("abort", () => (this.sleepers = this.sleepers.filter((s) => s !== sleeper)), { once: true });
    });
  }
  set(ms: number): void {
    this.ms = ms;
    const due = this.sleepers.filter((s) => s.at <= ms);
    this.sleepers = this.sleepers.filter((s) => s.at > ms);
    for (const s of due) s.wake();
  }
  advance(ms: number): void {
    this.set(this.ms + ms);
  }
}

/** Randomness source (replids, RANDOMKEY), injected for the same reason. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** `n` random bytes as lowercase hex. */
  hex(n: number): string;
}

/**
 * The runtime's randomness: ids (`hex`: replids, run ids) from the CSPRNG; `next` (LFU counters
 * at every key access, eviction samples, RANDOMKEY, election jitter: none a secret, as Redis's own
 * PRNG) from Math.random, where a CSPRNG call per key access was 2% of a pipelined write's CPU.
 */
export const systemRandom: Random = {
  next: () => Math.random(),
  hex: (n) => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, "0")).join(""),
};
