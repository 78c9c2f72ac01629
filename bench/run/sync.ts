/** Full sync (Flaredis and Redis, with peak memory), partial resync, and SQLite rows per command. */
import { readFileSync, rmSync } from "node:fs";
import { HttpClient, NEW_YORK, PARIS } from "../lib/http.ts";
import { round, sleep } from "../lib/load.ts";
import { type RedisServer, type Started, peakSampler, rssOf, startFlaredis, startRedis } from "../lib/systems.ts";
import { adminJson, adminText, fullSyncs, replicaCaughtUp, type Topology } from "./admin.ts";
import { type Bench, TOKEN, VALUE, pipelineOf, servedBy } from "./context.ts";

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
    const [a, b] = await Promise.all(["enam", "weur"].map((n) => adminJson<{ digest: string }>(f, `/admin/nodes/${n}/digest`)));
    bench.record(`fullsync_${keys >= 1e6 ? `${keys / 1e6}m` : `${keys / 1e3}k`}`, "flaredis", {
      seconds: round(seconds, 2),
      peak_rss_mb: peak.stop(),
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
    const size = Number(await r.call("DBSIZE"));
    r.close();
    c.close();
    bench.record(`fullsync_${keys >= 1e6 ? `${keys / 1e6}m` : `${keys / 1e3}k`}`, "redis", {
      seconds: round(seconds, 2),
      peak_rss_mb: peak.stop(),
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

/** SQLite rows per command under pipelined load, from the runtime's cursor counters. */
export async function storageRows(bench: Bench, f: Started): Promise<void> {
  const http = new HttpClient(f.url, TOKEN, f.headers, 4);
  const usage = (node: string) => adminJson<{ rows_read: number; rows_written: number }>(f, `/admin/nodes/${node}/storage`);
  const N = 10_000;
  try {
    let before = await usage("enam");
    for (let i = 0; i < N; i += 100)
      servedBy(await http.post("/pipeline", pipelineOf(100, (j) => ["SET", `rows:${i + j}`, VALUE]), { "MF-CF-Blob": NEW_YORK }), "primary:enam");
    let after = await usage("enam");
    bench.record("storage_rows_per_set", "flaredis", {
      rows_written: round((after.rows_written - before.rows_written) / N),
      rows_read: round((after.rows_read - before.rows_read) / N),
    });
    await replicaCaughtUp(bench, f, 10_000);
    before = await usage("weur");
    for (let i = 0; i < N; i += 100)
      servedBy(await http.post("/pipeline", pipelineOf(100, (j) => ["GET", `rows:${i + j}`]), { "MF-CF-Blob": PARIS }), "replica:weur");
    after = await usage("weur");
    bench.record("storage_rows_per_get", "flaredis", {
      rows_written: round((after.rows_written - before.rows_written) / N),
      rows_read: round((after.rows_read - before.rows_read) / N),
    });
  } finally {
    http.close();
  }
}
