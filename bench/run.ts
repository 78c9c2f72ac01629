/**
 * The benchmark suite (SPEC §9, issue 5):
 *
 *   npm run bench              # the full run (several minutes; fullsync_1m included)
 *   npm run bench -- --quick   # under two minutes
 *
 * In one run on this machine: Flaredis under workerd (primary enam, replica weur; the worker as
 * wrangler runs it, local observability off, past wrangler's dev proxy), redis-server as a master
 * and a replica on loopback, and the echo Worker (the ceiling of one HTTP request answered by one
 * Durable Object call). Every system gets the same load shape from the same client process.
 * Writes bench/results/latest.json and latest.md, and the table between the bench markers of
 * README.md. Timings never decide a test's pass or fail; this prints its two targets instead.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { HttpClient, NEW_YORK, PARIS } from "./lib/http.ts";
import { type LoadResult, openLoop, replicationLag, round, runLoad, sleep } from "./lib/load.ts";
import type { RespClient } from "./lib/resp.ts";
import {
  type RedisServer,
  type Started,
  peakSampler,
  rssOf,
  startEcho,
  startFlaredis,
  startRedis,
  startRedisPair,
  storageKind,
} from "./lib/systems.ts";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false }, only: { type: "string" } } });
const QUICK = args.quick;
/** `--only redis,fullsync`: run only the named groups (throughput, lag, psync, rows, fullsync, echo, redis). */
const ONLY = args.only ? new Set(args.only.split(",")) : null;
const wanted = (group: string) => ONLY === null || ONLY.has(group);
/** Seconds each throughput figure is measured for (after a warm-up second). */
const SECONDS = QUICK ? 4 : 15;
/** Concurrent requests (connections) for single commands, and for 100-command pipelines. */
const CONCURRENCY = 16;
const PIPELINE_CONCURRENCY = 4;
const VALUE = "x".repeat(100);
const TOKEN = "dev-token";
const ADMIN = "dev-admin-token";

type Figures = Record<string, number | string | boolean>;
interface Result extends Figures {
  name: string;
  system: "flaredis" | "redis" | "workerd";
}
const results: Result[] = [];

function record(name: string, system: Result["system"], figures: Figures): void {
  const result = { name, system, ...figures };
  results.push(result);
  console.log(JSON.stringify(result));
}

const load = (r: LoadResult) => ({ ops_per_s: r.ops_per_s, p50_ms: r.p50_ms, p99_ms: r.p99_ms });

/** The replica must serve what is measured as a read through it. */
function servedBy(reply: { status: number; headers: Record<string, unknown>; body: string }, expected: string): void {
  if (reply.status !== 200) throw new Error(`${reply.status} ${reply.body}`);
  if (reply.headers["flaredis-served-by"] !== expected)
    throw new Error(`served by ${String(reply.headers["flaredis-served-by"])}, not ${expected}`);
}

// ---- Flaredis, echo and Redis: single commands and pipelines ------------------------------------

function pipelineOf(n: number, make: (i: number) => string[]): string[][] {
  return Array.from({ length: n }, (_, i) => make(i));
}

async function flaredisThroughput(f: Started): Promise<void> {
  const http = new HttpClient(f.url, TOKEN, f.headers, CONCURRENCY);
  try {
    // Keys the reads find (and a replica that has them).
    for (let i = 0; i < 1000; i += 100)
      await http.post("/pipeline", pipelineOf(100, (j) => ["SET", `key:${i + j}`, VALUE]), { "MF-CF-Blob": NEW_YORK });
    await http.post("/", ["WAIT", "1", "5000"]);
    record(
      "get",
      "flaredis",
      load(
        await runLoad({ concurrency: CONCURRENCY, seconds: SECONDS }, async (w, i) => {
          servedBy(await http.post("/", ["GET", `key:${(w * 7919 + i) % 1000}`], { "MF-CF-Blob": PARIS }), "replica:weur");
        }),
      ),
    );
    record(
      "set",
      "flaredis",
      load(
        await runLoad({ concurrency: CONCURRENCY, seconds: SECONDS }, async (w, i) => {
          servedBy(await http.post("/", ["SET", `key:${(w * 7919 + i) % 1000}`, VALUE], { "MF-CF-Blob": NEW_YORK }), "primary:enam");
        }),
      ),
    );
    const gets = pipelineOf(100, (j) => ["GET", `key:${j * 10}`]);
    const sets = pipelineOf(100, (j) => ["SET", `key:${j * 10}`, VALUE]);
    const pipelined = { concurrency: PIPELINE_CONCURRENCY, seconds: SECONDS, per: 100 };
    record(
      "pipeline_get_100",
      "flaredis",
      { ops_per_s: (await runLoad(pipelined, async () => servedBy(await http.post("/pipeline", gets, { "MF-CF-Blob": PARIS }), "replica:weur"))).ops_per_s },
    );
    record(
      "pipeline_set_100",
      "flaredis",
      { ops_per_s: (await runLoad(pipelined, async () => servedBy(await http.post("/pipeline", sets, { "MF-CF-Blob": NEW_YORK }), "primary:enam"))).ops_per_s },
    );
  } finally {
    http.close();
  }
}

/** One request to the echo Worker, shaped as Flaredis's GET from Paris. */
async function echoGet(http: HttpClient, key: string): Promise<void> {
  const reply = await http.post("/", ["GET", key], { "MF-CF-Blob": PARIS });
  if (reply.status !== 200) throw new Error(reply.body);
}

/**
 * The runtime's own tail at the lag's rate: one request answered by one Durable Object call,
 * 1,000 a second, open loop (repl_lag needs a write, a push and a read in that time).
 */
async function echoOpenLoop(e: Started): Promise<void> {
  const http = new HttpClient(e.url, TOKEN, e.headers, 64);
  try {
    record(
      "echo_open_1000",
      "workerd",
      await openLoop(1000, QUICK ? 5 : 15, () => echoGet(http, "key:1")),
    );
  } finally {
    http.close();
  }
}

async function echoThroughput(e: Started): Promise<void> {
  const http = new HttpClient(e.url, TOKEN, e.headers, CONCURRENCY);
  try {
    record(
      "echo",
      "workerd",
      load(
        await runLoad({ concurrency: CONCURRENCY, seconds: SECONDS }, (w, i) => echoGet(http, `key:${(w * 7919 + i) % 1000}`)),
      ),
    );
  } finally {
    http.close();
  }
}

async function clients(server: RedisServer, n: number): Promise<RespClient[]> {
  return Promise.all(Array.from({ length: n }, () => server.client()));
}

async function redisThroughput(master: RedisServer, replica: RedisServer): Promise<void> {
  const setup = await master.client();
  for (let i = 0; i < 1000; i += 100) await Promise.all(setup.pipeline(pipelineOf(100, (j) => ["SET", `key:${i + j}`, VALUE])));
  await setup.call("WAIT", 1, 5000);
  setup.close();
  const readers = await clients(replica, CONCURRENCY);
  const writers = await clients(master, CONCURRENCY);
  const ok = (reply: unknown) => {
    if (reply instanceof Error) throw reply;
  };
  try {
    record(
      "get",
      "redis",
      load(await runLoad({ concurrency: CONCURRENCY, seconds: SECONDS }, async (w, i) => ok(await readers[w]!.send("GET", `key:${(w * 7919 + i) % 1000}`)))),
    );
    record(
      "set",
      "redis",
      load(await runLoad({ concurrency: CONCURRENCY, seconds: SECONDS }, async (w, i) => ok(await writers[w]!.send("SET", `key:${(w * 7919 + i) % 1000}`, VALUE)))),
    );
    const gets = pipelineOf(100, (j) => ["GET", `key:${j * 10}`]);
    const sets = pipelineOf(100, (j) => ["SET", `key:${j * 10}`, VALUE]);
    const pipelined = { concurrency: PIPELINE_CONCURRENCY, seconds: SECONDS, per: 100 };
    record("pipeline_get_100", "redis", {
      ops_per_s: (await runLoad(pipelined, async (w) => (await Promise.all(readers[w]!.pipeline(gets))).forEach(ok))).ops_per_s,
    });
    record("pipeline_set_100", "redis", {
      ops_per_s: (await runLoad(pipelined, async (w) => (await Promise.all(writers[w]!.pipeline(sets))).forEach(ok))).ops_per_s,
    });
  } finally {
    for (const c of [...readers, ...writers]) c.close();
  }
}

// ---- Replication lag ---------------------------------------------------------------------------

/** `BENCH_LAG_TRACE=1`: each write's times go to bench/results/lag-trace-<system>.jsonl. */
const lagTrace = (system: string) => (process.env.BENCH_LAG_TRACE ? `bench/results/lag-trace-${system}.jsonl` : undefined);

async function flaredisLag(f: Started): Promise<void> {
  const http = new HttpClient(f.url, TOKEN, f.headers, 64);
  try {
    const figures = await replicationLag(
      async (key) => servedBy(await http.post("/", ["SET", key, VALUE], { "MF-CF-Blob": NEW_YORK }), "primary:enam"),
      async (keys) => {
        const reply = await http.post("/", ["MGET", ...keys], { "MF-CF-Blob": PARIS });
        servedBy(reply, "replica:weur");
        return (JSON.parse(reply.body) as { result: (string | null)[] }).result;
      },
      QUICK ? 5 : 15,
      1000,
      lagTrace("flaredis"),
    );
    record("repl_lag", "flaredis", figures);
  } finally {
    http.close();
  }
}

async function redisLag(master: RedisServer, replica: RedisServer): Promise<void> {
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
      QUICK ? 5 : 15,
      1000,
      lagTrace("redis"),
    );
    record("repl_lag", "redis", figures);
  } finally {
    for (const c of [...writers, reader]) c.close();
  }
}

// ---- Full sync, partial resync, storage rows ----------------------------------------------------

const workerdRss = () => rssOf((cmd) => cmd.includes("workerd") && cmd.includes(" serve"));

/** An admin API call with the admin token; the answer's text (a non-200 throws). */
async function adminText(f: Started, path: string, body?: unknown): Promise<string> {
  const http = new HttpClient(f.url, ADMIN, f.headers, 1);
  try {
    const reply = body === undefined ? await http.get(path) : await http.post(path, body);
    if (reply.status !== 200) throw new Error(`${path}: ${reply.status} ${reply.body}`);
    return reply.body;
  } finally {
    http.close();
  }
}

const adminJson = async <T>(f: Started, path: string, body?: unknown): Promise<T> => JSON.parse(await adminText(f, path, body)) as T;

interface Topology {
  primary: { offset: number };
  replicas: { node: string; offset: number; link: string; entries_shipped: number }[];
}

/** Waits until replica weur is up and has the primary's offset; polls the admin topology. */
async function replicaCaughtUp(f: Started, timeoutMs: number): Promise<Topology> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const t = await adminJson<Topology>(f, "/admin/topology");
    const weur = t.replicas.find((r) => r.node === "weur");
    if (weur?.link === "up" && weur.offset === t.primary.offset) return t;
    if (performance.now() > deadline) throw new Error(`replica did not catch up: ${JSON.stringify(t)}`);
    await sleep(QUICK ? 20 : 100);
  }
}

/** N keys of 100 bytes loaded into a primary alone, then a new replica syncs them. */
async function flaredisFullSync(keys: number): Promise<void> {
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
    await replicaCaughtUp(f, 600_000);
    const seconds = (performance.now() - start) / 1000;
    const [a, b] = await Promise.all(["enam", "weur"].map((n) => adminJson<{ digest: string }>(f, `/admin/nodes/${n}/digest`)));
    record(`fullsync_${keys >= 1e6 ? `${keys / 1e6}m` : `${keys / 1e3}k`}`, "flaredis", {
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

async function redisFullSync(keys: number): Promise<void> {
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
    record(`fullsync_${keys >= 1e6 ? `${keys / 1e6}m` : `${keys / 1e3}k`}`, "redis", {
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
async function flaredisPartialResync(f: Started): Promise<void> {
  const http = new HttpClient(f.url, TOKEN, f.headers, 4);
  try {
    await http.post("/", ["SET", "psync:start", VALUE]);
    await replicaCaughtUp(f, 10_000);
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
    const after = (await replicaCaughtUp(f, 60_000)).replicas.find((r) => r.node === "weur")!;
    const seconds = (performance.now() - start) / 1000;
    record("psync_10k", "flaredis", {
      seconds: round(seconds, 3),
      entries_shipped: after.entries_shipped - before.entries_shipped,
      full_syncs: (await fullSyncs(f)) - fullBefore,
    });
  } finally {
    http.close();
  }
}

async function fullSyncs(f: Started): Promise<number> {
  const text = await adminText(f, "/admin/nodes/enam/info?section=stats");
  return Number(text.match(/sync_full:(\d+)/)?.[1] ?? NaN);
}

/** SQLite rows per command under pipelined load, from the runtime's cursor counters. */
async function storageRows(f: Started): Promise<void> {
  const http = new HttpClient(f.url, TOKEN, f.headers, 4);
  const usage = (node: string) => adminJson<{ rows_read: number; rows_written: number }>(f, `/admin/nodes/${node}/storage`);
  const N = 10_000;
  try {
    let before = await usage("enam");
    for (let i = 0; i < N; i += 100)
      servedBy(await http.post("/pipeline", pipelineOf(100, (j) => ["SET", `rows:${i + j}`, VALUE]), { "MF-CF-Blob": NEW_YORK }), "primary:enam");
    let after = await usage("enam");
    record("storage_rows_per_set", "flaredis", {
      rows_written: round((after.rows_written - before.rows_written) / N),
      rows_read: round((after.rows_read - before.rows_read) / N),
    });
    await replicaCaughtUp(f, 10_000);
    before = await usage("weur");
    for (let i = 0; i < N; i += 100)
      servedBy(await http.post("/pipeline", pipelineOf(100, (j) => ["GET", `rows:${i + j}`]), { "MF-CF-Blob": PARIS }), "replica:weur");
    after = await usage("weur");
    record("storage_rows_per_get", "flaredis", {
      rows_written: round((after.rows_written - before.rows_written) / N),
      rows_read: round((after.rows_read - before.rows_read) / N),
    });
  } finally {
    http.close();
  }
}

// ---- Report ------------------------------------------------------------------------------------

function machine() {
  const version = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8" }).trim().split("\n")[0]!;
    } catch {
      return "unknown";
    }
  };
  const pkg = JSON.parse(readFileSync("node_modules/wrangler/package.json", "utf8")) as { version: string };
  const mf = JSON.parse(readFileSync("node_modules/miniflare/package.json", "utf8")) as { version: string };
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memory_gb: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    wrangler: pkg.version,
    miniflare: mf.version,
    redis: version("redis-server", ["--version"]),
    storage: storageKind(),
    date: new Date().toISOString(),
    quick: QUICK,
  };
}

const UNITS: Record<string, string> = {
  ops_per_s: "ops/s",
  p50_ms: "p50 ms",
  p99_ms: "p99 ms",
  over_5ms_pct: "% over 5 ms",
  seconds: "s",
  peak_rss_mb: "peak RSS MB",
  entries_shipped: "entries shipped",
  rows_written: "rows written",
  rows_read: "rows read",
  full_syncs: "full syncs",
  digests_equal: "data equal",
};

/** One row per (name, figure), one column per system. */
function table(): string {
  const lines = ["| benchmark | figure | flaredis | redis | workerd echo |", "|---|---|---:|---:|---:|"];
  const names = [...new Set(results.map((r) => r.name))];
  for (const name of names) {
    const figures = [...new Set(results.filter((r) => r.name === name).flatMap((r) => Object.keys(r)))].filter((k) => k in UNITS);
    for (const figure of figures) {
      const cell = (system: string) => {
        const v = results.find((r) => r.name === name && r.system === system)?.[figure];
        return v === undefined ? "" : typeof v === "number" ? v.toLocaleString("en-US") : String(v);
      };
      lines.push(`| ${name} | ${UNITS[figure]} | ${cell("flaredis")} | ${cell("redis")} | ${cell("workerd")} |`);
    }
  }
  return lines.join("\n");
}

function targets(): string[] {
  const get = (name: string, system: string, figure: string) => Number(results.find((r) => r.name === name && r.system === system)?.[figure]);
  const ratio = get("get", "flaredis", "ops_per_s") / get("echo", "workerd", "ops_per_s");
  const lag = get("repl_lag", "flaredis", "p99_ms");
  return [
    `GET through a replica: ${get("get", "flaredis", "ops_per_s")} ops/s, ${Math.round(ratio * 100)}% of the echo ceiling (${get("echo", "workerd", "ops_per_s")}); target >= 80%: ${ratio >= 0.8 ? "met" : "NOT met"}; redis replica: ${get("get", "redis", "ops_per_s")} ops/s`,
    `Replication lag p99: ${lag} ms (p50 ${get("repl_lag", "flaredis", "p50_ms")}); target <= 5 ms: ${lag <= 5 ? "met" : "NOT met"}; redis: p99 ${get("repl_lag", "redis", "p99_ms")} ms (p50 ${get("repl_lag", "redis", "p50_ms")}); the echo Worker alone at 1,000 requests/s: p99 ${get("echo_open_1000", "workerd", "p99_ms")} ms`,
  ];
}

// ---- Main --------------------------------------------------------------------------------------

const begun = performance.now();
const info = machine();
console.log(`flaredis bench${QUICK ? " --quick" : ""}: ${info.cores} cores, ${info.cpu}, ${info.redis}; storage in ${info.storage}`);

if (wanted("redis")) {
  const redis = await startRedisPair();
  try {
    if (wanted("throughput")) await redisThroughput(redis.master, redis.replica);
    if (wanted("lag")) await redisLag(redis.master, redis.replica);
  } finally {
    await redis.stop();
  }
}

type Group = (s: Started) => Promise<void>;

/** Runs `groups` on a system `start` makes, and stops it after them. */
async function onNew(start: () => Promise<Started>, groups: Group[]): Promise<void> {
  const system = await start();
  try {
    for (const group of groups) await group(system);
  } finally {
    await system.stop();
  }
}

/** A new primary enam and its replica weur, synced. */
async function syncedFlaredis(): Promise<Started> {
  const flaredis = await startFlaredis({ replicas: "weur" });
  await replicaCaughtUp(flaredis, 30_000).catch(async (e: unknown) => {
    await flaredis.stop();
    throw e;
  });
  return flaredis;
}

// The open loop and the lag get systems of their own: after another group on the same
// instance, their tails also pay for the garbage it left in workerd's heap (a full collection of
// it lands in their seconds), which says more about the order of the groups than about them.
if (wanted("echo")) {
  await onNew(startEcho, [echoThroughput]);
  await onNew(startEcho, [echoOpenLoop]);
}
if (wanted("lag")) await onNew(syncedFlaredis, [flaredisLag]);
const rest = [
  ...(wanted("throughput") ? [flaredisThroughput] : []),
  ...(wanted("psync") ? [flaredisPartialResync] : []),
  ...(wanted("rows") ? [storageRows] : []),
];
if (rest.length > 0) await onNew(syncedFlaredis, rest);

if (wanted("fullsync"))
  for (const keys of QUICK ? [100_000] : [100_000, 1_000_000]) {
    await flaredisFullSync(keys);
    await redisFullSync(keys);
  }

const markdown = `${table()}\n\n${targets().map((t) => `- ${t}`).join("\n")}\n\n_${info.cores} × ${info.cpu}, ${info.redis.replace(/ sha=.*/, "")}, wrangler ${info.wrangler}; storage in ${info.storage}; ${QUICK ? "`--quick`, " : ""}${info.date.slice(0, 10)}._\n`;
writeFileSync("bench/results/latest.json", `${JSON.stringify({ machine: info, results }, null, 2)}\n`);
writeFileSync("bench/results/latest.md", markdown);
const readme = readFileSync("README.md", "utf8");
const marked = /(<!-- bench:start -->\n)[\s\S]*?(<!-- bench:end -->)/;
if (marked.test(readme)) writeFileSync("README.md", readme.replace(marked, `$1${markdown}$2`));
console.log(`\n${markdown}`);
console.log(`bench: ${results.length} results in ${Math.round((performance.now() - begun) / 1000)} s; bench/results/latest.json`);
process.exit(0);
