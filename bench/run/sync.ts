/** Full sync (Flaredis and Redis, with peak memory), partial resync, and SQLite rows, requests and dollars per command. */
import { readFileSync, rmSync } from "node:fs";
import { HttpClient, NEW_YORK, PARIS } from "../lib/http.ts";
import { round, sleep } from "../lib/load.ts";
import { type RedisServer, type Started, peakSampler, rssOf, startFlaredis, startRedis } from "../lib/systems.ts";
import { type UnitsPerCommand, PRICES, cloudflareUsdPerMillion } from "../lib/prices.ts";
import { adminJson, adminText, fullSyncs, replicaCaughtUp, replicasCaughtUp, type Topology } from "./admin.ts";
import { type Bench, CONCURRENCY, TOKEN, VALUE, pipelineOf, servedBy } from "./context.ts";

const workerdRss = () => rssOf((cmd) => cmd.includes("workerd") && cmd.includes(" serve"));

/** N keys of 100 bytes loaded into a primary alone, then a new replica syncs them. */
export async function flaredisFullSync(bench: Bench, keys: number): Promise<void> {
  let f = await startFlaredis({ replicas: "", keep: true });
  const persist = f.persist;
  try {
    const http = new HttpClient(f.url, TOKEN, f.headers, 4);
    const BATCH = 1000;
    const batches: Promise<void>[] = [];
    for (let i = 0; i < keys; i += BATCH) {
      const commands = Array.from({ length: Math.min(BATCH, keys - i) }, (_, j) => ["SET", `key:${i + j}`, VALUE]);
      batches.push(
        http.post("/pipeline", commands).then((r) => {
          if (r.status !== 200) throw new Error(`load: ${r.status} ${r.body}`);
        }),
      );
      if (batches.length === 4) await Promise.all(batches.splice(0));
    }
    await Promise.all(batches);
    http.close();
    await f.stop();
    f = await startFlaredis({ replicas: "weur", persist, keep: true });
    const before = workerdRss();
    const peak = peakSampler(workerdRss);
    const start = performance.now();
    await adminJson(f, "/admin/topology"); // wakes the primary, which wakes its replica
    await replicaCaughtUp(bench, f, 600_000);
    const seconds = (performance.now() - start) / 1000;
    // The sync's peak: the digests below read every key on both nodes, which is not the sync's memory.
    const peakMb = peak.stop();
    const [a, b] = await Promise.all(["enam", "weur"].map((n) => adminJson<{ digest: string }>(f, `/admin/nodes/${n}/digest`)));
    bench.record(`fullsync_${keys >= 1e6 ? `${keys / 1e6}m` : `${keys / 1e3}k`}`, "flaredis", {
      seconds: round(seconds, 2),
      peak_rss_mb: peakMb,
      rss_before_mb: before,
      digests_equal: a!.digest === b!.digest,
    });
  } finally {
    await f.stop();
    rmSync(persist, { recursive: true, force: true });
  }
}

export async function redisFullSync(bench: Bench, keys: number): Promise<void> {
  // Redis waits repl-diskless-sync-delay (5 s by default) for more replicas before a diskless
  // sync starts; one replica is expected here, so the sync starts at once.
  const master = await startRedis(undefined, ["--repl-diskless-sync-delay", "0"]);
  let replica: RedisServer | null = null;
  try {
    const c = await master.client();
    for (let i = 0; i < keys; i += 1000)
      await Promise.all(c.pipeline(Array.from({ length: Math.min(1000, keys - i) }, (_, j) => ["SET", `key:${i + j}`, VALUE])));
    const redisPids = () => new Set([master.process.pid, replica?.process.pid]);
    // The master's fork (the snapshot child) is counted too: its parent is the master.
    const redisRss = () =>
      rssOf((cmd, pid) => cmd.startsWith("redis-server") && (redisPids().has(pid) || parentOf(pid) === master.process.pid));
    const before = redisRss();
    const peak = peakSampler(redisRss, 20);
    const start = performance.now();
    replica = await startRedis(master.port);
    const r = await replica.client();
    for (;;) {
      const info = String(await r.call("INFO", "replication"));
      if (info.includes("master_link_status:up") && info.includes("master_sync_in_progress:0")) break;
      await sleep(20);
    }
    const seconds = (performance.now() - start) / 1000;
    const peakMb = peak.stop();
    const size = Number(await r.call("DBSIZE"));
    r.close();
    c.close();
    bench.record(`fullsync_${keys >= 1e6 ? `${keys / 1e6}m` : `${keys / 1e3}k`}`, "redis", {
      seconds: round(seconds, 2),
      peak_rss_mb: peakMb,
      rss_before_mb: before,
      digests_equal: size === keys,
    });
  } finally {
    await replica?.stop();
    await master.stop();
  }
}

function parentOf(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/PPid:\s+(\d+)/)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** A replica cut off while 10,000 writes happen catches up by partial resync. */
export async function flaredisPartialResync(bench: Bench, f: Started): Promise<void> {
  const http = new HttpClient(f.url, TOKEN, f.headers, 4);
  try {
    await http.post("/", ["SET", "psync:start", VALUE]);
    await replicaCaughtUp(bench, f, 10_000);
    // A backlog that holds the writes missed: the partial resync is what is measured (at Redis's
    // default of 1 MB, 10,000 writes of 100-byte values overrun it and the replica full-syncs).
    await adminText(f, "/", ["CONFIG", "SET", "repl-backlog-size", "16mb"]);
    await adminJson(f, "/admin/nodes/weur/faults", { link: "down" });
    const before = (await adminJson<Topology>(f, "/admin/topology")).replicas.find((r) => r.node === "weur")!;
    for (let i = 0; i < 10_000; i += 1000)
      servedBy(await http.post("/pipeline", pipelineOf(1000, (j) => ["SET", `psync:${i + j}`, VALUE])), "primary:enam");
    const fullBefore = await fullSyncs(f);
    const start = performance.now();
    await adminJson(f, "/admin/nodes/weur/faults", { link: "up" });
    const after = (await replicaCaughtUp(bench, f, 60_000)).replicas.find((r) => r.node === "weur")!;
    const seconds = (performance.now() - start) / 1000;
    bench.record("psync_10k", "flaredis", {
      seconds: round(seconds, 3),
      entries_shipped: after.entries_shipped - before.entries_shipped,
      full_syncs: (await fullSyncs(f)) - fullBefore,
    });
  } finally {
    http.close();
  }
}

/** The replicas of the system the rows group runs on: the cost is figured at three replicas. */
export const ROWS_REPLICAS = ["wnam", "weur", "apac"] as const;

/** What `/admin/nodes/<node>/storage` answers: the runtime's row counters and the calls served. */
export interface Usage {
  rows_read: number;
  rows_written: number;
  /** Keys the node keeps in memory, a row each once stored: counted as written. */
  keys_deferred: number;
  requests: number;
  requests_by_method: Record<string, number>;
}

/** Runs `op(i)` for every i below `n`, `concurrency` at a time. */
async function each(n: number, concurrency: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await op(next++);
  }));
}

/**
 * What SETs and GETs cost, on a primary (enam) with three replicas: SQLite rows written and read
 * per command (the runtime's cursor counters) on the node that served them and summed over every
 * node once the replicas have caught up, the Durable Object requests every node served per
 * command (the call that served it, the pushes to the replicas, and whatever else the nodes
 * served meanwhile: routing status calls, the sentinels' pings), and the Workers requests per
 * command; pipelined (100 commands per request, one request at a time) and one command per
 * request (16 at a time, as `set` and `get` are measured). Then the dollars per million commands
 * at Cloudflare's list prices (bench/lib/prices.ts), beside Upstash's.
 */
export async function storageRows(bench: Bench, f: Started): Promise<void> {
  const primary = "enam";
  const nodes = [primary, ...ROWS_REPLICAS];
  const http = new HttpClient(f.url, TOKEN, f.headers, CONCURRENCY);
  const usage = async () => new Map(await Promise.all(nodes.map(async (n) => [n, await adminJson<Usage>(f, `/admin/nodes/${n}/storage`)] as const)));
  const single = bench.quick ? 1000 : 5000;
  const N = 10_000;
  /** Runs `load` (`n` commands, `perRequest` to a request) and records what it cost per command. */
  const measure = async (name: string, served: string, n: number, perRequest: number, load: () => Promise<void>): Promise<UnitsPerCommand> => {
    await replicasCaughtUp(bench, f, primary, ROWS_REPLICAS, 30_000);
    const before = await usage();
    await load();
    await replicasCaughtUp(bench, f, primary, ROWS_REPLICAS, 30_000);
    const after = await usage();
    const value = (u: Usage, figure: "rows_read" | "rows_written" | "requests") => u[figure] + (figure === "rows_written" ? u.keys_deferred : 0);
    const delta = (node: string, figure: "rows_read" | "rows_written" | "requests") => value(after.get(node)!, figure) - value(before.get(node)!, figure);
    // The INFO calls that waited for the replicas are the bench's, not the load's.
    const infos = (node: string) => (after.get(node)!.requests_by_method.info ?? 0) - (before.get(node)!.requests_by_method.info ?? 0);
    const sum = (figure: "rows_read" | "rows_written") => nodes.reduce((a, node) => a + delta(node, figure), 0);
    const units = {
      rows_written_all_nodes: sum("rows_written") / n,
      rows_read_all_nodes: sum("rows_read") / n,
      do_requests: nodes.reduce((a, node) => a + delta(node, "requests") - infos(node), 0) / n,
      workers_requests: 1 / perRequest,
    };
    bench.record(name, "flaredis", {
      rows_written: round(delta(served, "rows_written") / n),
      rows_read: round(delta(served, "rows_read") / n),
      ...Object.fromEntries(Object.entries(units).map(([k, v]) => [k, round(v)])),
    });
    return units;
  };
  try {
    const setsPipelined = await measure("storage_rows_per_set", primary, N, 100, async () => {
      for (let i = 0; i < N; i += 100)
        servedBy(await http.post("/pipeline", pipelineOf(100, (j) => ["SET", `rows:${i + j}`, VALUE]), { "MF-CF-Blob": NEW_YORK }), "primary:enam");
    });
    const sets = await measure("storage_rows_per_set_single", primary, single, 1, () =>
      each(single, CONCURRENCY, async (i) => servedBy(await http.post("/", ["SET", `rows1:${i}`, VALUE], { "MF-CF-Blob": NEW_YORK }), "primary:enam")),
    );
    const getsPipelined = await measure("storage_rows_per_get", "weur", N, 100, async () => {
      for (let i = 0; i < N; i += 100)
        servedBy(await http.post("/pipeline", pipelineOf(100, (j) => ["GET", `rows:${i + j}`]), { "MF-CF-Blob": PARIS }), "replica:weur");
    });
    const gets = await measure("storage_rows_per_get_single", "weur", single, 1, () =>
      each(single, CONCURRENCY, async (i) => servedBy(await http.post("/", ["GET", `rows:${i}`], { "MF-CF-Blob": PARIS }), "replica:weur")),
    );
    const usd = (u: UnitsPerCommand) => round(cloudflareUsdPerMillion(u));
    bench.record("cost_per_million", "flaredis", {
      sets_usd: usd(sets),
      sets_pipelined_usd: usd(setsPipelined),
      gets_usd: usd(gets),
      gets_pipelined_usd: usd(getsPipelined),
    });
    const upstash = PRICES.upstash_commands;
    bench.record("cost_per_million", "upstash", { sets_usd: upstash, sets_pipelined_usd: upstash, gets_usd: upstash, gets_pipelined_usd: upstash });
  } finally {
    http.close();
  }
}
