// BullMQ, unchanged, through `flaredis proxy` (issue 34, acceptance 1): a Queue, a Worker of
// concurrency 3, delayed and prioritized jobs, retries with backoff, a FlowProducer's parent and
// children, QueueEvents (XREAD BLOCK on the queue's events stream), a job scheduler (repeatable
// jobs), getJobCounts and obliterate. BullMQ runs its own Lua scripts (cmsgpack among them), reads
// INFO, names its connections with CLIENT SETNAME and waits on BZPOPMIN. The run passes against a
// redis-server of our own first, then against the worker, then again right after a failover.
import { FlowProducer, Queue, QueueEvents, Worker, type ConnectionOptions, type Job } from "bullmq";
import Redis from "ioredis";
import { describe, expect, it } from "vitest";
import { sideBySide } from "./side-by-side";

const t = sideBySide(["dev-token"]);


/** Polls `done` every 50 ms, at most `polls` times; whether it came true. */
async function eventually(done: () => Promise<boolean> | boolean, polls = 600): Promise<boolean> {
  for (let i = 0; i < polls; i++) {
    if (await done()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** What one run of the scenario saw, for the assertions (the same for every target). */
interface Outcome {
  counts: Record<string, number>;
  wrongResults: string[];
  boomAttempts: number[];
  boomState: string;
  parentResult: unknown;
  eventsCompleted: number;
  scheduled: number;
  keysAfterObliterate: number;
}

async function scenario(port: number, queueName: string): Promise<Outcome> {
  // maxRetriesPerRequest null: BullMQ's requirement for a Worker's blocking connection.
  const connection: ConnectionOptions = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
  const queue = new Queue(queueName, { connection });
  const events = new QueueEvents(queueName, { connection });
  const flows = new FlowProducer({ connection });
  const completed = new Map<string, unknown>();
  const eventsCompleted = new Set<string>();
  const boomAttempts: number[] = [];
  let worker: Worker | undefined;
  try {
    await events.waitUntilReady();
    events.on("completed", ({ jobId }) => eventsCompleted.add(jobId));
    worker = new Worker(
      queueName,
      async (job: Job) => {
        if (job.name === "boom") throw new Error("always fails");
        if (job.name === "parent") {
          const children = await job.getChildrenValues<number>();
          return Object.values(children).reduce((a, b) => a + b, 0);
        }
        return (job.data as { x: number }).x * 2;
      },
      { connection, concurrency: 3 },
    );
    worker.on("completed", (job, result) => completed.set(job.id!, result));
    worker.on("failed", (job) => {
      if (job?.name === "boom") boomAttempts.push(job.attemptsMade);
    });
    const jobs: Job[] = [];
    for (let i = 0; i < 20; i++) jobs.push(await queue.add("plain", { x: i }));
    for (let i = 0; i < 5; i++) jobs.push(await queue.add("delayed", { x: 100 + i }, { delay: 300 }));
    // Added last, highest priority last: each still runs, in its priority's order among the waiting.
    for (let i = 0; i < 5; i++) jobs.push(await queue.add("prioritized", { x: 200 + i }, { priority: 5 - i }));
    const boom = await queue.add("boom", {}, { attempts: 3, backoff: { type: "exponential", delay: 50 } });
    const flow = await flows.add({
      name: "parent",
      queueName,
      children: [
        { name: "child", queueName, data: { x: 1000 } },
        { name: "child", queueName, data: { x: 2000 } },
      ],
    });
    // 30 jobs, 2 children and their parent complete; the boom job fails for good.
    await eventually(async () => {
      const counts = await queue.getJobCounts("completed", "failed");
      return counts.completed === 33 && counts.failed === 1;
    });
    await eventually(() => eventsCompleted.size === 33);
    const wrongResults = jobs.filter((job) => completed.get(job.id!) !== (job.data as { x: number }).x * 2).map((job) => `${job.name} ${job.id}`);
    const boomState = await (await queue.getJob(boom.id!))!.getState();
    // A job scheduler (repeatable job) every 100 ms: its jobs complete while it is there.
    await queue.upsertJobScheduler("every-100ms", { every: 100 }, { name: "plain", data: { x: 7 } });
    await eventually(async () => ((await queue.getJobCounts("completed")).completed ?? 0) >= 35);
    const scheduled = (await queue.getJobSchedulers()).length;
    await queue.removeJobScheduler("every-100ms");
    const counts = await queue.getJobCounts("completed", "failed", "waiting", "active", "delayed", "prioritized", "waiting-children");
    await worker.close();
    worker = undefined;
    await queue.obliterate({ force: true });
    const client = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 0 });
    const keysAfterObliterate = (await client.keys(`bull:${queueName}:*`)).length;
    client.disconnect();
    return {
      counts,
      wrongResults,
      boomAttempts,
      boomState,
      parentResult: completed.get(flow.job.id!),
      eventsCompleted: eventsCompleted.size,
      scheduled,
      keysAfterObliterate,
    };
  } finally {
    await worker?.close();
    await Promise.all([events.close(), flows.close(), queue.close()]);
  }
}

function expectTheRun(outcome: Outcome, name: string): void {
  expect(outcome.wrongResults, name).toEqual([]);
  expect(outcome.parentResult, name).toBe(6000);
  expect(outcome.boomAttempts, name).toEqual([1, 2, 3]);
  expect(outcome.boomState, name).toBe("failed");
  // QueueEvents saw every completion of the first part (at least 33: the scheduler's came after).
  expect(outcome.eventsCompleted, name).toBeGreaterThanOrEqual(33);
  expect(outcome.scheduled, name).toBe(1);
  expect(outcome.counts.failed, name).toBe(1);
  expect(outcome.counts.completed, name).toBeGreaterThanOrEqual(35);
  expect(outcome.counts["waiting-children"], name).toBe(0);
  expect(outcome.keysAfterObliterate, name).toBe(0);
}

describe("BullMQ", () => {
  it("runs plain, delayed and prioritized jobs, retries, a flow, events and a scheduler as against redis-server", async () => {
    if (t.reference) expectTheRun(await scenario(t.reference.port, "jobs-t.reference"), "redis-server");
    expectTheRun(await scenario(t.proxy.port, "jobs"), "flaredis");
  });

  it("runs the same again right after POST /admin/failover", async () => {
    const failover = await fetch(`${t.server.url}/admin/failover`, {
      method: "POST",
      headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" },
      body: JSON.stringify({ to: "weur" }),
    });
    expect(failover.status).toBe(200);
    expect(await failover.json()).toMatchObject({ primary: "weur" });
    expectTheRun(await scenario(t.proxy.port, "jobs-after-failover"), "flaredis after failover");
  });
});
