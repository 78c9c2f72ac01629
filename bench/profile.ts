/**
 * A CPU profile of Flaredis under load, from workerd's own V8 inspector:
 *
 *   npm run profile -- --workload lag --seconds 5
 *   npm run profile -- --heap --workload lag     (where the allocated bytes come from)
 *
 * PROFILE_REPLICAS sets the replica regions ("weur" by default; "" profiles the primary alone).
 * Workloads: `get` (GETs through the replica), `set` (SETs on the primary), `lag` (the repl_lag
 * bench's shape: SETs at a steady 1,000/s while a poller reads them back from the replica),
 * `pipeline-get` and `pipeline-set` (the bench's 100-command pipelines), `fullsync` (`--keys N`, 300,000 by default: a replica's full sync of N keys of 100 bytes).
 * `picks` (`--count N`, 300 by default: ZRANDMEMBER of -N on a 100,000-member sorted set, one call at a time).
 * Writes bench/results/profile.cpuprofile (open it in Chrome DevTools' Performance panel) and
 * prints the functions with the most self time; with --heap, bench/results/profile.heapprofile
 * (DevTools' Memory panel) and the functions that allocated the most. The profiler itself costs
 * some throughput: use it to see where the time goes, and `npm run bench` for the figures.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { HttpClient, NEW_YORK, PARIS } from "./lib/http.ts";
import { replicationLag, runLoad } from "./lib/load.ts";
import { startFlaredis } from "./lib/systems.ts";

const { values: args } = parseArgs({
  options: {
    heap: { type: "boolean", default: false },
    workload: { type: "string", default: "lag" },
    seconds: { type: "string", default: "5" },
    top: { type: "string", default: "30" },
    keys: { type: "string", default: "300000" },
    count: { type: "string", default: "300" },
  },
});
const SECONDS = Number(args.seconds);
const TOKEN = "dev-token";
const ADMIN = "dev-admin-token";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * A DevTools protocol session over the inspector's WebSocket. (The `ws` package: Node's own
 * WebSocket client gets no messages from workerd's inspector.)
 */
async function devtools(url: string): Promise<{ call(method: string, params?: object): Promise<any>; close(): void }> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const pending = new Map<number, (result: unknown) => void>();
  let next = 1;
  ws.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; method?: string; result?: unknown; error?: { message: string } };
    // workerd's answers repeat the request's method (and carry no result when it has none).
    if (message.id === undefined) return;
    if (message.error) console.error(`devtools: ${message.error.message}`);
    pending.get(message.id)?.(message.result);
  });
  return {
    call: (method, params = {}) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

async function workload(http: HttpClient, name: string): Promise<void> {
  const set = (key: string) => http.post("/", ["SET", key, "x".repeat(100)], { "MF-CF-Blob": NEW_YORK });
  if (name === "get" || name === "set") {
    await runLoad({ concurrency: 16, seconds: SECONDS }, async (w, i) => {
      const key = `key:${(w * 7919 + i) % 1000}`;
      if (name === "set") await set(key);
      else await http.post("/", ["GET", key], { "MF-CF-Blob": PARIS });
    });
    return;
  }
  if (name === "pipeline-set" || name === "pipeline-get") {
    // The bench's pipeline_set_100 / pipeline_get_100 shape: 100 commands a request, 4 in flight.
    const get = name === "pipeline-get";
    const commands = Array.from({ length: 100 }, (_, j) => (get ? ["GET", `key:${j * 10}`] : ["SET", `key:${j * 10}`, "x".repeat(100)]));
    await runLoad({ concurrency: 4, seconds: SECONDS }, async () => void (await http.post("/pipeline", commands, { "MF-CF-Blob": get ? PARIS : NEW_YORK })));
    return;
  }
  if (name === "picks") {
    // Prepared before the profile (`preparePicks`): one call at a time, as big_collections times them.
    const deadline = performance.now() + SECONDS * 1000;
    while (performance.now() < deadline) await http.post("/", ["ZRANDMEMBER", "big:z", `-${args.count}`], { "MF-CF-Blob": NEW_YORK });
    return;
  }
  if (name === "fullsync") {
    // Prepared before the profile (`prepareFullSync`): the link comes back and the replica full-syncs.
    await adminCall("POST", "/admin/nodes/weur/faults", { link: "up" });
    for (;;) {
      const t = JSON.parse(await adminCall("GET", "/admin/topology")) as { primary: { offset: number }; replicas: { node: string; link: string; offset: number }[] };
      if (t.replicas.some((r) => r.node === "weur" && r.link === "up" && r.offset === t.primary.offset)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  if (name !== "lag") throw new Error(`unknown workload ${name} (get, set, pipeline-get, pipeline-set, lag, fullsync, picks)`);
  // The repl_lag bench's load; its figures are printed, not recorded (the profiler slows the run).
  const lag = await replicationLag(
    async (key) => void (await set(key)),
    async (keys) => (JSON.parse((await http.post("/", ["MGET", ...keys], { "MF-CF-Blob": PARIS })).body) as { result: (string | null)[] }).result,
    SECONDS,
  );
  console.log(`repl_lag under the profiler: p50 ${lag.p50_ms} ms, p99 ${lag.p99_ms} ms`);
}

/** An admin API call; the answer's text. */
async function adminCall(method: "GET" | "POST", path: string, body?: unknown): Promise<string> {
  const admin = new HttpClient(flaredis.url, ADMIN, flaredis.headers, 1);
  try {
    const reply = method === "GET" ? await admin.get(path) : await admin.post(path, body);
    if (reply.status !== 200) throw new Error(`${path}: ${reply.status} ${reply.body}`);
    return reply.body;
  } finally {
    admin.close();
  }
}

/**
 * `--workload fullsync --keys N`: the replica's link is cut, N keys of 100 bytes are written past a
 * small backlog, and the profile covers the full sync that follows when the link comes back.
 */
async function prepareFullSync(http: HttpClient, keys: number): Promise<void> {
  await adminCall("POST", "/", ["CONFIG", "SET", "repl-backlog-size", "16384"]);
  await adminCall("POST", "/admin/nodes/weur/faults", { link: "down" });
  for (let i = 0; i < keys; i += 1000)
    await http.post("/pipeline", Array.from({ length: Math.min(1000, keys - i) }, (_, j) => ["SET", `fill:${i + j}`, "x".repeat(100)]));
}

/** `--workload picks --count N`: a 100,000-member sorted set (as big_collections fills it), then ZRANDMEMBER of -N on the primary. */
async function preparePicks(http: HttpClient): Promise<void> {
  for (let i = 0; i < 100_000; i += 1000)
    await http.post("/", ["ZADD", "big:z", ...Array.from({ length: 1000 }, (_, j) => [String(i + j), `m${String(i + j).padStart(6, "0")}`]).flat()]);
}

/** A function as the tables name it: same name, file and line are one entry. */
function frameName(f: CallFrame): string {
  const where = f.url ? `${f.url.replace(/^.*\//, "")}:${f.lineNumber + 1}` : "";
  return `${f.functionName || "(anonymous)"} ${where}`.trim();
}

/** The `--top` largest shares of `total`, largest first. */
function printTop(title: string, byName: Map<string, number>, total: number): void {
  console.log(title);
  for (const [name, n] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top)))
    console.log(`${((100 * n) / total).toFixed(1).padStart(5)}%  ${name}`);
}

/** Self time per function, as DevTools' bottom-up view. */
async function cpuProfile(session: Awaited<ReturnType<typeof devtools>>, run: () => Promise<void>): Promise<void> {
  await session.call("Profiler.enable");
  await session.call("Profiler.start");
  await run();
  const { profile } = (await session.call("Profiler.stop")) as { profile: Profile };
  session.close();
  writeFileSync("bench/results/profile.cpuprofile", JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, k) => {
    const name = frameName(byId.get(id)!.callFrame);
    const dt = profile.timeDeltas[k] ?? 0;
    self.set(name, (self.get(name) ?? 0) + dt);
    total += dt;
  });
  printTop(`${args.workload}: ${(total / 1e6).toFixed(2)} s sampled; self time:`, self, total);
  console.log("bench/results/profile.cpuprofile");
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/**
 * `--heap`: where the bytes allocated during the workload come from (V8's sampling heap
 * profiler, counting objects that the GC has already collected too): allocation is what drives
 * the collections whose pauses make the lag's tail.
 */
async function heapProfile(session: Awaited<ReturnType<typeof devtools>>, run: () => Promise<void>): Promise<void> {
  await session.call("HeapProfiler.enable");
  await session.call("HeapProfiler.startSampling", { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await run();
  const { profile } = (await session.call("HeapProfiler.stopSampling")) as { profile: { head: HeapNode } };
  session.close();
  writeFileSync("bench/results/profile.heapprofile", JSON.stringify(profile));
  const self = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode) => {
    const name = frameName(n.callFrame);
    self.set(name, (self.get(name) ?? 0) + n.selfSize);
    total += n.selfSize;
    n.children.forEach(walk);
  };
  walk(profile.head);
  printTop(`${args.workload}: ${(total / 2 ** 20).toFixed(1)} MB allocated (sampled); by function:`, self, total);
  console.log("bench/results/profile.heapprofile");
}

const flaredis = await startFlaredis({ replicas: process.env.PROFILE_REPLICAS ?? "weur", inspector: true });
const http = new HttpClient(flaredis.url, TOKEN, flaredis.headers, 64);
try {
  if (!flaredis.inspector) throw new Error("wrangler did not open an inspector");
  // The replica syncs, and the keys the reads find exist.
  for (let i = 0; i < 1000; i += 100)
    await http.post("/pipeline", Array.from({ length: 100 }, (_, j) => ["SET", `key:${i + j}`, "x".repeat(100)]));
  await http.post("/", ["WAIT", "1", "5000"]);
  const admin = new HttpClient(flaredis.url, ADMIN, flaredis.headers, 1);
  await admin.get("/admin/topology");
  admin.close();
  if (args.workload === "fullsync") await prepareFullSync(http, Number(args.keys));
  if (args.workload === "picks") await preparePicks(http);
  const session = await devtools(flaredis.inspector);
  await (args.heap ? heapProfile : cpuProfile)(session, () => workload(http, args.workload));
} finally {
  http.close();
  await flaredis.stop();
}
process.exit(0);
