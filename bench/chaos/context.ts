/**
 * What every part of the chaos run takes from the command line, passed to it explicitly: the
 * seeded generator, the parts of the workload kept (`--without`), and the clock.
 */

import { sleep } from "../lib/load.ts";

/** The monotonic clock, in milliseconds. */
export const now = () => performance.now();

/** Waits `ms`, or less once the run's time is up (a fault then undoes itself early). */
export async function sleepUnlessStopping(ctx: { stopping(): boolean }, ms: number): Promise<void> {
  const until = now() + ms;
  while (now() < until && !ctx.stopping()) await sleep(50);
}

/** A small seeded generator (mulberry32), so a run can be repeated with --seed. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  between(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }
}

/** The parts of the workload that `--without` may leave out. */
export const PARTS = ["surrogates", "flush", "multi", "wait", "probe", "ttl", "far-future", "rename", "append", "incr", "collections"] as const;
export type Part = (typeof PARTS)[number];

/** The parts of the workload kept: `--without surrogates,flush` leaves those out, to find which one a violation needs. */
export class Parts {
  private readonly without: ReadonlySet<string>;

  constructor(without: string) {
    this.without = new Set(without.split(",").filter(Boolean));
    for (const w of this.without) if (!(PARTS as readonly string[]).includes(w)) throw new Error(`--without: one of ${PARTS.join(", ")}`);
  }

  has(part: Part): boolean {
    return !this.without.has(part);
  }
}
