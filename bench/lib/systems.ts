/**
 * The systems under test, started and stopped by the bench: Flaredis and the echo ceiling under
 * workerd (wrangler's unstable_startWorker, local observability off: it adds ~0.7 ms to every
 * Durable Object call), and redis-server as a master and a replica on loopback.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_DevEnv } from "wrangler";
import { RespClient } from "./resp.ts";
import { sleep } from "./load.ts";

process.env.X_LOCAL_OBSERVABILITY = "false";

/** tmpfs's magic number in statfs(2). */
const TMPFS_MAGIC = 0x01021994;

/**
 * Where every system under test keeps its storage: `BENCH_STORAGE` if set, else /dev/shm when it
 * is a writable tmpfs, else the temporary directory. Memory, by default, for a reason that is the
 * local runtime's, not Flaredis's: workerd under wrangler commits each Durable Object's SQLite
 * with an fsync on its one thread (hundreds a second under write load, up to 5 ms each, stalling
 * every object and request meanwhile), where a deployment's storage makes writes durable off the
 * isolate's thread; and redis-server, with its default persistence (RDB snapshots, no AOF),
 * fsyncs nothing per write. On disk, repl_lag's p50 is about 3 ms instead of about 1 ms.
 */
export const STORAGE_ROOT = ((): string => {
  if (process.env.BENCH_STORAGE) return process.env.BENCH_STORAGE;
  try {
    accessSync("/dev/shm", constants.W_OK);
    if (isTmpfs("/dev/shm")) return "/dev/shm";
  } catch {
    // no /dev/shm here
  }
  return tmpdir();
})();

function isTmpfs(dir: string): boolean {
  return statfsSync(dir).type === TMPFS_MAGIC;
}

/** What `STORAGE_ROOT` is, for the report: its path and filesystem. */
export function storageKind(): string {
  try {
    return `${STORAGE_ROOT} (${isTmpfs(STORAGE_ROOT) ? "tmpfs" : "disk"})`;
  } catch {
    return STORAGE_ROOT;
  }
}

export interface Started {
  /** The worker itself, past wrangler's dev proxy (a local-only hop that no deployment has). */
  readonly url: string;
  /** Headers every request to `url` carries (the dev proxy's shared secret, which lets the
   * runtime honour `MF-CF-Blob`). */
  readonly headers: Record<string, string>;
  /** The directory holding its storage. */
  readonly persist: string;
  /** The V8 inspector of the user worker (DevTools protocol over WebSocket), when asked for. */
  readonly inspector?: string;
  stop(): Promise<void>;
}

export interface FlaredisOptions {
  /** Replica regions (FLAREDIS_REPLICAS); the primary is enam. */
  readonly replicas?: string;
  /** Storage to start on (a restart); a new temporary directory by default. */
  readonly persist?: string;
  /** Remove the storage on stop (default: only when the bench created it here). */
  readonly keep?: boolean;
  /** Open the V8 inspector (for a CPU profile; see bench/profile.ts). */
  readonly inspector?: boolean;
  /** Shard groups (FLAREDIS_SHARDS); 1 by default. */
  readonly shards?: number;
}

/**
 * Starts a worker as `unstable_startWorker` does (wrangler's DevEnv), and answers with the URL
 * of the runtime that serves it directly: wrangler's dev proxy forwards every request through a
 * Durable Object in a second workerd process, which would cost more than what is measured.
 */
async function startWorker(
  config: string,
  persist: string,
  bindings: Record<string, string>,
  remove: boolean,
  inspector = false,
): Promise<Started> {
  const devEnv = new unstable_DevEnv();
  type Reloaded = { proxyData: { userWorkerUrl: { protocol: string; hostname: string; port: string }; headers?: Record<string, string> } };
  const inspectorPort = inspector ? await freePort() : 0;
  const reloaded = new Promise<Reloaded>((resolve) => devEnv.once("reloadComplete", resolve));
  const worker = await devEnv.startWorker({
    config,
    bindings: Object.fromEntries(Object.entries(bindings).map(([k, v]) => [k, { type: "plain_text", value: v }])),
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: inspector ? { hostname: "127.0.0.1", port: inspectorPort } : false,
      persist,
      watch: false,
      // BENCH_LOG=log shows the worker's console.
      logLevel: process.env.BENCH_LOG ?? "none",
    },
  } as Parameters<typeof devEnv.startWorker>[0]);
  await worker.ready;
  const { userWorkerUrl: u, headers = {} } = (await reloaded).proxyData;
  return {
    url: `${u.protocol}//${u.hostname}:${u.port}`,
    headers,
    persist,
    // wrangler's inspector proxy: the runtime's inspector takes one session, and wrangler holds it.
    ...(inspector ? { inspector: `ws://127.0.0.1:${inspectorPort}/ws` } : {}),
    stop: async () => {
      await devEnv.teardown();
      if (remove) rmSync(persist, { recursive: true, force: true });
    },
  };
}

export function startFlaredis(options: FlaredisOptions = {}): Promise<Started> {
  const persist = options.persist ?? mkdtempSync(join(STORAGE_ROOT, "flaredis-bench-"));
  const remove = !(options.keep ?? options.persist !== undefined);
  const vars = { FLAREDIS_REPLICAS: options.replicas ?? "weur", FLAREDIS_SHARDS: String(options.shards ?? 1) };
  return startWorker("wrangler.toml", persist, vars, remove, options.inspector);
}

export function startEcho(): Promise<Started> {
  return startWorker("bench/echo/wrangler.toml", mkdtempSync(join(STORAGE_ROOT, "flaredis-echo-")), {}, true);
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export interface RedisServer {
  readonly port: number;
  readonly process: ChildProcess;
  client(): Promise<RespClient>;
  stop(): Promise<void>;
}

/**
 * Starts redis-server on loopback with its default persistence (RDB snapshots, no AOF) in a
 * temporary directory under `STORAGE_ROOT`; `replicaOf` makes it a replica of that port.
 */
export async function startRedis(replicaOf?: number, extra: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(STORAGE_ROOT, "flaredis-bench-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no", "--loglevel", "warning", "--protected-mode", "yes"];
  if (replicaOf !== undefined) args.push("--replicaof", "127.0.0.1", String(replicaOf));
  const child = spawn("redis-server", [...args, ...extra], { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (let i = 0; ; i++) {
    try {
      const c = await RespClient.open(port);
      await c.call("PING");
      c.close();
      break;
    } catch (e) {
      if (i > 100 || child.exitCode !== null) throw new Error(`redis-server did not start: ${String(e)}`);
      await sleep(50);
    }
  }
  return {
    port,
    process: child,
    client: () => RespClient.open(port),
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a master and a replica of it, and waits until the replica's link is up. */
export async function startRedisPair(): Promise<{ master: RedisServer; replica: RedisServer; stop(): Promise<void> }> {
  const master = await startRedis();
  const replica = await startRedis(master.port);
  const c = await replica.client();
  try {
    while (!String(await c.call("INFO", "replication")).includes("master_link_status:up")) await sleep(50);
  } finally {
    c.close();
  }
  return { master, replica, stop: async () => void (await Promise.all([replica.stop(), master.stop()])) };
}

/** The resident memory (MiB) of processes whose command line matches, summed; pids named. */
export function rssOf(match: (cmdline: string, pid: number) => boolean): number {
  let kb = 0;
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, "utf8").replaceAll("\0", " ");
      if (!match(cmdline, Number(p))) continue;
      kb += Number(readFileSync(`/proc/${p}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
    } catch {
      // the process ended meanwhile
    }
  }
  return Math.round(kb / 1024);
}

/** Samples `measure` every `ms` until stopped; returns the largest value seen. */
export function peakSampler(measure: () => number, ms = 100): { stop(): number } {
  let peak = measure();
  const timer = setInterval(() => (peak = Math.max(peak, measure())), ms);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, measure());
    },
  };
}
