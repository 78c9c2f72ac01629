/**
 * A closed-loop load generator: `concurrency` workers each run `op` back to back for a fixed
 * time after a warm-up; every operation's latency is recorded. The same shape drives every
 * system, so their figures compare.
 */
import { writeFileSync } from "node:fs";

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

/**
 * An open loop: `op` started at a steady `rate` per second whatever the answers' pace, for
 * `seconds` after a second of warm-up; each latency from the op's actual start (a client late to
 * start one does not bill the server).
 */
export async function openLoop(rate: number, seconds: number, op: (i: number) => Promise<void>): Promise<{ p50_ms: number; p99_ms: number; over_5ms_pct: number }> {
  const latencies: number[] = [];
  const ops: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < rate * (seconds + 1); i++) {
    await slot(start, i, rate);
    const t0 = performance.now();
    ops.push(op(i).then(() => void (i >= rate && latencies.push(performance.now() - t0))));
  }
  await Promise.all(ops);
  return tail(latencies);
}

/** p50, p99 and the share over 5 ms of latencies (sorted here). */
function tail(latencies: number[]): { p50_ms: number; p99_ms: number; over_5ms_pct: number } {
  latencies.sort((a, b) => a - b);
  const over = latencies.filter((ms) => ms > 5).length;
  return { p50_ms: round(quantile(latencies, 0.5)), p99_ms: round(quantile(latencies, 0.99)), over_5ms_pct: round((100 * over) / latencies.length, 2) };
}

/** Waits for the i-th slot of a steady `rate` per second from `start` (now, when late). */
async function slot(start: number, i: number, rate: number): Promise<void> {
  const wait = start + (i * 1000) / rate - performance.now();
  if (wait > 1) await sleep(wait);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Write acknowledged on the primary -> visible on a replica, at a steady `rate` writes/s: write i
 * sets key `lag:i` at its time slot; a poller reads every pending key from the replica (one MGET
 * per poll, back to back), and the lag of write i is the arrival time of the first poll answer
 * that holds it minus the arrival time of its acknowledgment (0 when the replica had it first).
 * `tracePath` gets every write's times (JSON lines: the run's start as Unix ms, then
 * `[i, acked_ms, seen_ms]` from it), to lay the slow writes beside a `--trace-gc` log.
 */
export async function replicationLag(
  write: (key: string) => Promise<void>,
  readReplica: (keys: string[]) => Promise<(string | null)[]>,
  seconds: number,
  rate = 1000,
  tracePath?: string,
): Promise<{ p50_ms: number; p99_ms: number; over_5ms_pct: number; writes: number }> {
  const acked = new Map<number, number>();
  const seen = new Map<number, number>();
  const pending = new Set<number>();
  let writing = true;
  const poller = (async () => {
    while (writing || pending.size > 0) {
      const ids = [...pending];
      if (ids.length === 0) {
        await sleep(0);
        continue;
      }
      const values = await readReplica(ids.map((i) => `lag:${i}`));
      const at = performance.now();
      ids.forEach((id, k) => {
        if (values[k] !== null && !seen.has(id)) {
          seen.set(id, at);
          pending.delete(id);
        }
      });
    }
  })();
  const total = Math.round(seconds * rate);
  const start = performance.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    await slot(start, i, rate);
    pending.add(i);
    writes.push(write(`lag:${i}`).then(() => void acked.set(i, performance.now())));
  }
  await Promise.all(writes);
  const deadline = performance.now() + 10_000;
  while (pending.size > 0 && performance.now() < deadline) await sleep(10);
  writing = false;
  pending.clear();
  await poller;
  if (tracePath) {
    const times = Array.from({ length: total }, (_, i) => JSON.stringify([i, round(acked.get(i)! - start), round((seen.get(i) ?? NaN) - start)]));
    writeFileSync(tracePath, `${JSON.stringify({ start_unix_ms: round(performance.timeOrigin + start) })}\n${times.join("\n")}\n`);
  }
  // The first second is a warm-up.
  const lags: number[] = [];
  for (let i = rate; i < total; i++) lags.push(Math.max(0, (seen.get(i) ?? Infinity) - acked.get(i)!));
  return { ...tail(lags), writes: lags.length };
}
