/**
 * RDB export and import (group `rdb`): N keys of 100 bytes in a Flaredis primary alone, written
 * to an RDB file by `flaredis export` and loaded back by `flaredis import --flush` (the CLI, as a
 * user runs it, over the HTTP API); beside redis-server with the same keys: `redis-cli --rdb` (a
 * snapshot over the replication protocol) and redis-server's load of that file at start-up, and
 * redis-server's load of Flaredis's export (same keys, same format).
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { HttpClient } from "../lib/http.ts";
import { RespClient } from "../lib/resp.ts";
import { round, sleep } from "../lib/load.ts";
import { STORAGE_ROOT, freePort, startFlaredis, startRedis } from "../lib/systems.ts";
import { type Bench, TOKEN, VALUE } from "./context.ts";

const run = promisify(execFile);
const BIN = fileURLToPath(new URL("../../cli/flaredis.mjs", import.meta.url));
const ADMIN = "dev-admin-token";

/** Seconds `work` takes. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return round((performance.now() - start) / 1000, 2);
}

/** Seconds a redis-server takes to start on `file` (from spawn until it answers with the keys loaded). */
async function redisLoad(dir: string, file: string, keys: number): Promise<number> {
  const port = await freePort();
  const start = performance.now();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--dbfilename", file, "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    for (let i = 0; ; i++) {
      try {
        const c = await RespClient.open(port);
        const size = Number(await c.call("DBSIZE"));
        c.close();
        if (size !== keys) throw new Error(`redis-server loaded ${size} keys of ${keys} from ${file}`);
        return round((performance.now() - start) / 1000, 2);
      } catch (e) {
        if (String(e).includes("loaded")) throw e;
        if (i > 6000 || child.exitCode !== null) throw new Error(`redis-server did not load ${file}: ${String(e)}`);
        await sleep(10);
      }
    }
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

export async function rdbExportImport(bench: Bench, keys: number): Promise<void> {
  const dir = mkdtempSync(join(STORAGE_ROOT, "flaredis-bench-rdb-"));
  const f = await startFlaredis({ replicas: "" });
  // redis-cli --rdb asks for a snapshot as a replica would: no wait for more replicas (diskless sync's 5 s delay).
  const redis = await startRedis(undefined, ["--repl-diskless-sync-delay", "0"]);
  try {
    const http = new HttpClient(f.url, TOKEN, f.headers, 4);
    const c = await redis.client();
    for (let i = 0; i < keys; i += 1000) {
      const commands = Array.from({ length: Math.min(1000, keys - i) }, (_, j) => ["SET", `key:${i + j}`, VALUE]);
      const r = await http.post("/pipeline", commands);
      if (r.status !== 200) throw new Error(`load: ${r.status} ${r.body}`);
      await Promise.all(c.pipeline(commands));
    }
    http.close();
    c.close();
    // Options before the file, as the CLI reads them.
    const cli = (sub: string, ...args: string[]) =>
      run(process.execPath, [BIN, sub, "--url", f.url, ...args], { env: { ...process.env, FLAREDIS_TOKEN: ADMIN }, cwd: dir, maxBuffer: 1 << 24 });
    const flaredisExport = await timed(() => cli("export", "flaredis.rdb"));
    const flaredisImport = await timed(() => cli("import", "--flush", "flaredis.rdb"));
    const redisExport = await timed(() => run("redis-cli", ["-p", String(redis.port), "--rdb", join(dir, "redis.rdb")]));
    const redisLoadOwn = await redisLoad(dir, "redis.rdb", keys);
    const redisLoadFlaredis = await redisLoad(dir, "flaredis.rdb", keys);
    const name = `rdb_${keys >= 1e6 ? `${keys / 1e6}m` : `${keys / 1e3}k`}`;
    bench.record(name, "flaredis", {
      export_s: flaredisExport,
      import_s: flaredisImport,
      file_mb: round(statSync(join(dir, "flaredis.rdb")).size / 2 ** 20, 2),
    });
    bench.record(name, "redis", {
      export_s: redisExport,
      import_s: redisLoadOwn,
      flaredis_file_load_s: redisLoadFlaredis,
      file_mb: round(statSync(join(dir, "redis.rdb")).size / 2 ** 20, 2),
    });
  } finally {
    await redis.stop();
    await f.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
