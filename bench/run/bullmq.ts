/**
 * BullMQ (group `bullmq`, issue 34): jobs per second of the most used Node job queue, its code
 * unchanged, against redis-server and through `flaredis proxy` to a Flaredis primary with one
 * replica, in the same run. Two phases on each system: N jobs added (`Queue.addBulk`, 50 a call,
 * 4 producers: BullMQ's addJob script per job), then a `Worker` of concurrency 16 taking and
 * completing them (its moveToActive and moveToFinished scripts, and BZPOPMIN while it waits),
 * until the last job has completed.
 */
import { Queue, Worker } from "bullmq";
import { startProxy } from "../../test/interop/proxy-process.ts";
import { round } from "../lib/load.ts";
import type { RedisServer, Started } from "../lib/systems.ts";
import { type Bench, TOKEN } from "./context.ts";

const PRODUCERS = 4;
const BATCH = 50;
const CONCURRENCY = 16;

async function phases(bench: Bench, system: "flaredis" | "redis", port: number): Promise<void> {
  const jobs = bench.quick ? 1_000 : 4_000;
  // maxRetriesPerRequest null: BullMQ's requirement for a Worker's blocking connection.
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
  const name = `bench-${system}`;
  const queue = new Queue(name, { connection, defaultJobOptions: { removeOnComplete: true } });
  try {
    await queue.obliterate({ force: true });
    const added = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        while (next < jobs) {
          const from = next;
          next = Math.min(jobs, next + BATCH);
          await queue.addBulk(Array.from({ length: next - from }, (_, i) => ({ name: "job", data: { i: from + i } })));
        }
      }),
    );
    const addSeconds = (performance.now() - added) / 1000;
    let completed = 0;
    let sum = 0;
    const begun = performance.now();
    const done = new Promise<void>((resolve, reject) => {
      const worker = new Worker(name, async (job) => (job.data as { i: number }).i, { connection, concurrency: CONCURRENCY, autorun: false });
      worker.on("completed", (_job, result: number) => {
        sum += result;
        if (++completed === jobs) void worker.close().then(resolve, reject);
      });
      worker.on("failed", (job, error) => reject(new Error(`job ${job?.id} failed: ${error.message}`)));
      worker.on("error", reject);
      void worker.run();
    });
    await done;
    const processSeconds = (performance.now() - begun) / 1000;
    // Every job ran once with its own data: 0 + 1 + ... + (jobs - 1).
    if (sum !== (jobs * (jobs - 1)) / 2) throw new Error(`the jobs' results sum to ${sum}, not ${(jobs * (jobs - 1)) / 2}`);
    bench.record("bullmq_jobs", system, {
      jobs,
      add_jobs_per_s: round(jobs / addSeconds, 0),
      process_jobs_per_s: round(jobs / processSeconds, 0),
      producers: PRODUCERS,
      batch: BATCH,
      concurrency: CONCURRENCY,
    });
  } finally {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}

export async function redisBullmq(bench: Bench, redis: RedisServer): Promise<void> {
  await phases(bench, "redis", redis.port);
}

export async function flaredisBullmq(bench: Bench, flaredis: Started): Promise<void> {
  const proxy = await startProxy(flaredis.url, TOKEN);
  try {
    await phases(bench, "flaredis", proxy.port);
  } finally {
    proxy.stop();
  }
}
