/**
 * Collections (issue 15), side by side with redis-server: HSET/HGET on a 100k-field hash,
 * ZADD/ZRANGE/ZRANK on a 100k-member sorted set, LPUSH/LPOP, and Flaredis's SQLite rows read and
 * written per command on those collections (the runtime's cursor counters). Reads go through the
 * replica on both systems; writes to the primary.
 */
import { HttpClient, NEW_YORK, PARIS } from "../lib/http.ts";
import { round, runLoad } from "../lib/load.ts";
import type { RedisServer, Started } from "../lib/systems.ts";
import { adminJson, replicaCaughtUp } from "./admin.ts";
import { type Bench, CONCURRENCY, TOKEN, clients, load, pipelineOf, servedBy } from "./context.ts";

const SIZE = 100_000;
const FIELD_VALUE = "v".repeat(50);
/** Commands per rows figure. */
const ROWS_N = 1000;

type Op = { readonly name: string; readonly read: boolean; readonly argv: (w: number, i: number) => string[] };

const member = (n: number) => `m${n % SIZE}`;
const OPS: readonly Op[] = [
  { name: "hset_100k", read: false, argv: (w, i) => ["HSET", "bench:h", `f${(w * 7919 + i * 31) % SIZE}`, FIELD_VALUE] },
  { name: "hget_100k", read: true, argv: (w, i) => ["HGET", "bench:h", `f${(w * 7919 + i * 31) % SIZE}`] },
  { name: "zadd_100k", read: false, argv: (w, i) => ["ZADD", "bench:z", String((w * 7919 + i) % 1000), member(w * 7919 + i * 13)] },
  { name: "zrange_100k", read: true, argv: () => ["ZRANGE", "bench:z", "0", "9", "WITHSCORES"] },
  { name: "zrank_100k", read: true, argv: (w, i) => ["ZRANK", "bench:z", member(w * 104729 + i * 17)] },
  { name: "lpush_lpop", read: false, argv: (w, i) => (i % 2 === 0 ? ["LPUSH", `bench:l${w}`, FIELD_VALUE] : ["LPOP", `bench:l${w}`]) },
];

/** Fills the 100k-field hash and the 100k-member sorted set, 1,000 per command. */
function fillCommands(): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < SIZE; i += 1000) {
    out.push(["HSET", "bench:h", ...Array.from({ length: 1000 }, (_, j) => [`f${i + j}`, FIELD_VALUE]).flat()]);
    out.push(["ZADD", "bench:z", ...Array.from({ length: 1000 }, (_, j) => [String((i + j) % 1000), member(i + j)]).flat()]);
  }
  return out;
}

export async function flaredisCollections(bench: Bench, f: Started): Promise<void> {
  const http = new HttpClient(f.url, TOKEN, f.headers, CONCURRENCY);
  const usage = (node: string) => adminJson<{ rows_read: number; rows_written: number }>(f, `/admin/nodes/${node}/storage`);
  try {
    for (const batch of chunk(fillCommands(), 10))
      servedBy(await http.post("/pipeline", batch, { "MF-CF-Blob": NEW_YORK }), "primary:enam");
    await replicaCaughtUp(bench, f, 60_000);
    for (const op of OPS) {
      const where = op.read ? { "MF-CF-Blob": PARIS } : { "MF-CF-Blob": NEW_YORK };
      const by = op.read ? "replica:weur" : "primary:enam";
      const node = op.read ? "weur" : "enam";
      const before = await usage(node);
      for (let i = 0; i < ROWS_N; i += 100)
        servedBy(await http.post("/pipeline", pipelineOf(100, (j) => op.argv(0, i + j)), where), by);
      const after = await usage(node);
      const timed = load(await runLoad({ concurrency: CONCURRENCY, seconds: bench.seconds }, async (w, i) => servedBy(await http.post("/", op.argv(w, i), where), by)));
      bench.record(op.name, "flaredis", {
        ...timed,
        rows_written: round((after.rows_written - before.rows_written) / ROWS_N),
        rows_read: round((after.rows_read - before.rows_read) / ROWS_N),
      });
      if (!op.read) await replicaCaughtUp(bench, f, 60_000);
    }
  } finally {
    http.close();
  }
}

export async function redisCollections(bench: Bench, master: RedisServer, replica: RedisServer): Promise<void> {
  const setup = await master.client();
  for (const batch of chunk(fillCommands(), 10)) await Promise.all(setup.pipeline(batch));
  await setup.call("WAIT", 1, 10_000);
  setup.close();
  const readers = await clients(replica, CONCURRENCY);
  const writers = await clients(master, CONCURRENCY);
  const ok = (reply: unknown) => {
    if (reply instanceof Error) throw reply;
  };
  try {
    for (const op of OPS) {
      const pool = op.read ? readers : writers;
      bench.record(op.name, "redis", load(await runLoad({ concurrency: CONCURRENCY, seconds: bench.seconds }, async (w, i) => ok(await pool[w]!.send(...op.argv(w, i))))));
    }
  } finally {
    for (const c of [...readers, ...writers]) c.close();
  }
}

function chunk<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}
