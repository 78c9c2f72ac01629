/**
 * A closed-loop load generator: `concurrency` workers each run `op` back to back for a fixed
 * time after a warm-up; every operation's latency is recorded. The same shape drives every
 * system, so their figures compare.
 */

export interface LoadResult {
  /** Operations completed per second (each op may carry several commands: see `per`). */
  readonly ops_per_s: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly ops: number;
  readonly errors: number;
}

export interface LoadOptions {
  readonly concurrency: number;
  readonly seconds: number;
  readonly warmupSeconds?: number;
  /** Commands per operation (a 100-command pipeline counts 100): ops_per_s counts commands. */
  readonly per?: number;
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

/** Runs `op(worker)` from `concurrency` workers; an op that throws counts as an error. */
export async function runLoad(options: LoadOptions, op: (worker: number, i: number) => Promise<void>): Promise<LoadResult> {
  const { concurrency, seconds, warmupSeconds = 1, per = 1 } = options;
  const latencies: number[] = [];
  let errors = 0;
  let counting = false;
  let stop = false;
  let firstError: unknown = null;
  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const t0 = performance.now();
      try {
        await op(w, i);
        if (counting) latencies.push(performance.now() - t0);
      } catch (e) {
        firstError ??= e;
        if (counting) errors++;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  await sleep(warmupSeconds * 1000);
  counting = true;
  const start = performance.now();
  await sleep(seconds * 1000);
  counting = false;
  const elapsed = (performance.now() - start) / 1000;
  stop = true;
  await Promise.all(workers);
  if (latencies.length === 0) throw new Error(`no operation succeeded: ${String(firstError)}`);
  if (errors > latencies.length / 100) throw new Error(`${errors} of ${errors + latencies.length} operations failed: ${String(firstError)}`);
  latencies.sort((a, b) => a - b);
  return {
    ops_per_s: Math.round((latencies.length * per) / elapsed),
    p50_ms: round(quantile(latencies, 0.5)),
    p99_ms: round(quantile(latencies, 0.99)),
    ops: latencies.length,
    errors,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
