/**
 * What every benchmark group shares: the run's settings and its results (`Bench`), the load's
 * constants, and the checks every measured request goes through.
 */
import type { LoadResult } from "../lib/load.ts";
import type { RedisServer } from "../lib/systems.ts";
import type { RespClient } from "../lib/resp.ts";

/** Concurrent requests (connections) for single commands, and for 100-command pipelines. */
export const CONCURRENCY = 16;
export const PIPELINE_CONCURRENCY = 4;
export const VALUE = "x".repeat(100);
/** A value of 100 bytes of UTF-8 text beyond ASCII (50 two-byte characters). */
export const VALUE_UTF8 = "é".repeat(50);
export const TOKEN = "dev-token";
export const ADMIN = "dev-admin-token";

export type Figures = Record<string, number | string | boolean>;
export interface Result extends Figures {
  name: string;
  /** `upstash`: a published price, not a measurement (cost_per_million). */
  system: "flaredis" | "redis" | "workerd" | "upstash";
}

/** One run of the suite: its settings, and the results recorded so far. */
export class Bench {
  /** `--quick`: every figure measured for less time, the 1M-key full sync left out. */
  readonly quick: boolean;
  /** Seconds each throughput figure is measured for (after a warm-up second). */
  readonly seconds: number;
  readonly results: Result[] = [];
  /**
   * The rate (writes/s) the lag group ran at, half of the SET capacity it measured first on its
   * own system, once it has run: redis-server's lag and the echo open loop (echo_open_lag_rate)
   * run at the same rate, so that their tails compare with Flaredis's.
   */
  lagRate: { rate_per_s: number; set_capacity_ops_per_s: number } | null = null;

  constructor(quick: boolean) {
    this.quick = quick;
    this.seconds = quick ? 4 : 15;
  }

  /** Keeps a result and prints it as a line of JSON. */
  record(name: string, system: Result["system"], figures: Figures): void {
    const result = { name, system, ...figures };
    this.results.push(result);
    console.log(JSON.stringify(result));
  }
}

export const load = (r: LoadResult) => ({ ops_per_s: r.ops_per_s, p50_ms: r.p50_ms, p99_ms: r.p99_ms });

/** The replica must serve what is measured as a read through it. */
export function servedBy(reply: { status: number; headers: Record<string, unknown>; body: string }, expected: string): void {
  if (reply.status !== 200) throw new Error(`${reply.status} ${reply.body}`);
  if (reply.headers["flaredis-served-by"] !== expected)
    throw new Error(`served by ${String(reply.headers["flaredis-served-by"])}, not ${expected}`);
}

export function pipelineOf(n: number, make: (i: number) => string[]): string[][] {
  return Array.from({ length: n }, (_, i) => make(i));
}

export async function clients(server: RedisServer, n: number): Promise<RespClient[]> {
  return Promise.all(Array.from({ length: n }, () => server.client()));
}
