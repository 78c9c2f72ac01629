/**
 * SET throughput over 1, 2 and 4 shard groups (FLAREDIS_SHARDS; worker/cluster.ts) in the same
 * run: each a new deployment (a primary enam and a replica weur per shard), the same closed-loop
 * load as the `set` benchmark (1,000 keys, so every shard takes a share). Every node of every
 * shard runs in the one local workerd process, whose Durable Objects share its thread: the figures
 * say what a shard costs on one machine, not what shards spread over Cloudflare's machines give.
 */
import { HttpClient, NEW_YORK } from "../lib/http.ts";
import { runLoad } from "../lib/load.ts";
import { startFlaredis } from "../lib/systems.ts";
import { type Bench, CONCURRENCY, TOKEN, VALUE, load } from "./context.ts";

export const SHARD_COUNTS = [1, 2, 4] as const;

export async function flaredisShards(bench: Bench): Promise<void> {
  for (const shards of SHARD_COUNTS) {
    const f = await startFlaredis({ shards });
    const http = new HttpClient(f.url, TOKEN, f.headers, CONCURRENCY);
    try {
      // Every shard's primary started before the clock runs.
      for (let i = 0; i < 100; i++) await http.post("/", ["SET", `key:${i}`, VALUE], { "MF-CF-Blob": NEW_YORK });
      const result = await runLoad({ concurrency: CONCURRENCY, seconds: bench.seconds }, async (w, i) => {
        const reply = await http.post("/", ["SET", `key:${(w * 7919 + i) % 1000}`, VALUE], { "MF-CF-Blob": NEW_YORK });
        if (reply.status !== 200) throw new Error(`${reply.status} ${reply.body}`);
      });
      bench.record(`set_shards_${shards}`, "flaredis", { ...load(result), shards });
    } finally {
      http.close();
      await f.stop();
    }
  }
}
