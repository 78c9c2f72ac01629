/**
 * Replication lag: a write on the primary until a read through the replica sees it, Flaredis and
 * Redis, at half of Flaredis's SET capacity: measured first, closed loop, on the lag's own system
 * (at or past the capacity, the tail would measure the queue, not the replication). redis-server's
 * lag runs at the same rate (main.ts runs Flaredis's first), as does the echo open loop
 * (echo_open_lag_rate), whose tail is the one repl_lag's is compared with.
 */
import { HttpClient, NEW_YORK, PARIS } from "../lib/http.ts";
import { replicationLag, runLoad, sleep } from "../lib/load.ts";
import type { RedisServer, Started } from "../lib/systems.ts";
import { replicaCaughtUp } from "./admin.ts";
import { type Bench, CONCURRENCY, TOKEN, VALUE, clients, servedBy } from "./context.ts";
import { setOp } from "./throughput.ts";

/** `BENCH_LAG_TRACE=1`: each write's times go to bench/results/lag-trace-<system>.jsonl. */
const lagTrace = (system: string) => (process.env.BENCH_LAG_TRACE ? `bench/results/lag-trace-${system}.jsonl` : undefined);

/** The rate when no capacity was measured in this run (redis-server's lag without Flaredis's). */
const FALLBACK_RATE = 1000;

/**
 * The SET capacity (ops/s) of the system `f`, measured as the `set` benchmark measures it (the
 * same operation, CONCURRENCY requests at a time, after a warm-up second), for a few seconds;
 * then waits until the replica has every write.
 */
async function setCapacity(bench: Bench, f: Started): Promise<number> {
  const http = new HttpClient(f.url, TOKEN, f.headers, CONCURRENCY);
  try {
    const { ops_per_s } = await runLoad({ concurrency: CONCURRENCY, seconds: bench.quick ? 3 : 5 }, setOp(http));
    await replicaCaughtUp(bench, f, 30_000);
    return ops_per_s;
  } finally {
    http.close();
  }
}

export async function flaredisLag(bench: Bench, f: Started): Promise<void> {
  const capacity = await setCapacity(bench, f);
  const rate = Math.max(1, Math.round(capacity / 2));
  bench.lagRate = { rate_per_s: rate, set_capacity_ops_per_s: capacity };
  console.log(`repl_lag: SET capacity ${capacity} ops/s on the lag's system; the lag at half of it, ${rate} writes/s`);
  // What the capacity load left in flight (the replica's last pushes, deferred key writes) settles.
  await sleep(1000);
  const http = new HttpClient(f.url, TOKEN, f.headers, 64);
  try {
    const figures = await replicationLag(
      async (key) => servedBy(await http.post("/", ["SET", key, VALUE], { "MF-CF-Blob": NEW_YORK }), "primary:enam"),
      async (keys) => {
        const reply = await http.post("/", ["MGET", ...keys], { "MF-CF-Blob": PARIS });
        servedBy(reply, "replica:weur");
        return (JSON.parse(reply.body) as { result: (string | null)[] }).result;
      },
      bench.quick ? 5 : 15,
      rate,
      lagTrace("flaredis"),
    );
    bench.record("repl_lag", "flaredis", { ...figures, rate_per_s: rate, set_capacity_ops_per_s: capacity });
  } finally {
    http.close();
  }
}

/** redis-server's lag, at Flaredis's lag rate of this run (FALLBACK_RATE when it was not measured). */
export async function redisLag(bench: Bench, master: RedisServer, replica: RedisServer): Promise<void> {
  const rate = bench.lagRate?.rate_per_s ?? FALLBACK_RATE;
  const writers = await clients(master, 16);
  const reader = await replica.client();
  let next = 0;
  try {
    const figures = await replicationLag(
      async (key) => {
        const reply = await writers[next++ % writers.length]!.send("SET", key, VALUE);
        if (reply instanceof Error) throw reply;
      },
      async (keys) => (await reader.call("MGET", ...keys)) as (string | null)[],
      bench.quick ? 5 : 15,
      rate,
      lagTrace("redis"),
    );
    bench.record("repl_lag", "redis", { ...figures, rate_per_s: rate, rate_from: bench.lagRate ? "Flaredis's lag rate" : "1,000/s (Flaredis's lag not run)" });
  } finally {
    for (const c of [...writers, reader]) c.close();
  }
}
