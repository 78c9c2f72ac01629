/** Time source, injected so that expiry, lag and failover timing are exact in tests. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Randomness source (replids, RANDOMKEY), injected for the same reason. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** `n` random bytes as lowercase hex. */
  hex(n: number): string;
}

export const cryptoRandom: Random = {
  next: () => crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32,
  hex: (n) => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, "0")).join(""),
};
