/** Replication lag: a write on the primary until a read through the replica sees it, Flaredis and Redis. */
import { HttpClient, NEW_YORK, PARIS } from "../lib/http.ts";
import { replicationLag } from "../lib/load.ts";
import type { RedisServer, Started } from "../lib/systems.ts";
import { type Bench, TOKEN, VALUE, clients, servedBy } from "./context.ts";

/** `BENCH_LAG_TRACE=1`: each write's times go to bench/results/lag-trace-<system>.jsonl. */
const lagTrace = (system: string) => (process.env.BENCH_LAG_TRACE ? `bench/results/lag-trace-${system}.jsonl` : undefined);

export async function flaredisLag(bench: Bench, f: Started): Promise<void> {
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
      1000,
      lagTrace("flaredis"),
    );
    bench.record("repl_lag", "flaredis", figures);
  } finally {
    http.close();
  }
}

export async function redisLag(bench: Bench, master: RedisServer, replica: RedisServer): Promise<void> {
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
      1000,
      lagTrace("redis"),
    );
    bench.record("repl_lag", "redis", figures);
  } finally {
    for (const c of [...writers, reader]) c.close();
  }
}
