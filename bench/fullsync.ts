/**
 * Full sync of a large keyspace to a new replica, measured (issue 3, acceptance 5).
 *
 *   npm run bench:fullsync -- --keys 1000000 --value-bytes 100
 *
 * 1. Starts the worker (wrangler's unstable_startWorker, local observability off) with a primary
 *    and no replicas, and loads N keys through the HTTP API in pipelines of 1,000 SETs.
 * 2. Restarts it on the same storage with one replica region that has never held data.
 * 3. Wakes the replica, waits (polling the admin topology) until it has the primary's offset,
 *    and reports the seconds, the peak resident memory of the workerd process meanwhile, and
 *    whether the two digests are equal. Prints one JSON line.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { unstable_startWorker } from "wrangler";

process.env.X_LOCAL_OBSERVABILITY = "false";
const { values } = parseArgs({ options: { keys: { type: "string", default: "100000" }, "value-bytes": { type: "string", default: "100" } } });
const KEYS = Number(values.keys);
const VALUE = "x".repeat(Number(values["value-bytes"]));
const ADMIN = { authorization: "Bearer dev-admin-token" };

async function start(persist: string, replicas: string) {
  const worker = await unstable_startWorker({
    config: "wrangler.toml",
    bindings: { FLAREDIS_REPLICAS: { type: "plain_text", value: replicas } },
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist, watch: false, logLevel: "none" },
  } as Parameters<typeof unstable_startWorker>[0]);
  await worker.ready;
  return { worker, url: String(await worker.url).replace(/\/$/, "") };
}

async function json(url: string, init: RequestInit = {}) {
  const r = await fetch(url, { ...init, headers: { ...ADMIN, ...init.headers } });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** Resident memory of the workerd processes now, and their peak (VmHWM), in MiB. */
function workerdMemory(): { rss: number; peak: number } {
  let rss = 0;
  let peak = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd")) continue;
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      rss += Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024;
      peak += Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
    } catch {
      // the process ended meanwhile
    }
  }
  return { rss: Math.round(rss), peak: Math.round(peak) };
}

const persist = mkdtempSync(join(tmpdir(), "flaredis-fullsync-"));
try {
  // 1. Load.
  let { worker, url } = await start(persist, "");
  const loadStart = performance.now();
  const BATCH = 1000;
  for (let i = 0; i < KEYS; i += BATCH) {
    const commands = Array.from({ length: Math.min(BATCH, KEYS - i) }, (_, j) => ["SET", `key:${i + j}`, VALUE]);
    const results = (await json(`${url}/pipeline`, { method: "POST", body: JSON.stringify(commands) })) as { error?: string }[];
    if (results.some((r) => r.error)) throw new Error(`load failed at ${i}`);
  }
  const loadSeconds = (performance.now() - loadStart) / 1000;
  await worker.dispose();

  // 2. Restart with a new replica, 3. sync it.
  ({ worker, url } = await start(persist, "weur"));
  const before = workerdMemory();
  const syncStart = performance.now();
  await json(`${url}/`, { method: "POST", body: JSON.stringify(["SET", "sync:trigger", "1"]) });
  let peakRss = before.rss;
  for (;;) {
    const t = (await json(`${url}/admin/topology`)) as { primary: { offset: number }; replicas: { offset: number; link: string }[] };
    peakRss = Math.max(peakRss, workerdMemory().rss);
    if (t.replicas[0]?.link === "up" && t.replicas[0].offset === t.primary.offset) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const syncSeconds = (performance.now() - syncStart) / 1000;
  const [primary, replica] = (await Promise.all(
    ["enam", "weur"].map((n) => json(`${url}/admin/nodes/${n}/digest`)),
  )) as { digest: string; offset: number }[];
  const after = workerdMemory();
  await worker.dispose();
  console.log(
    JSON.stringify({
      keys: KEYS,
      value_bytes: VALUE.length,
      load_seconds: Number(loadSeconds.toFixed(1)),
      fullsync_seconds: Number(syncSeconds.toFixed(1)),
      workerd_rss_mb_before_sync: before.rss,
      workerd_peak_rss_mb_during_sync: peakRss,
      workerd_vmhwm_mb: after.peak,
      digests_equal: primary!.digest === replica!.digest && primary!.offset === replica!.offset,
    }),
  );
} finally {
  rmSync(persist, { recursive: true, force: true });
}
