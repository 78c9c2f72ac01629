/**
 * How long `npm run dev` takes to answer (group `dev`), as a user runs it: the time from the
 * command to its first PONG, on new state and then again on the state the first start left (after
 * a thousand keys written and a Ctrl-C). Timed here, not in a test: a test of `npm run dev`
 * (test/e2e/dev-server.test.ts) checks what it answers, never how soon.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { round, sleep } from "../lib/load.ts";
import { STORAGE_ROOT, freePort } from "../lib/systems.ts";
import { type Bench, TOKEN } from "./context.ts";

/** The target: `npm run dev` answers within this many ms of being run. */
export const DEV_READY_TARGET_MS = 10_000;
/** Past this, the start is taken for failed. */
const GIVE_UP_MS = 60_000;

async function command(port: number, body: unknown): Promise<unknown> {
  const r = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
  return ((await r.json()) as { result?: unknown }).result;
}

/** Runs `npm run dev` on `dir`; resolves with the process, its port and the ms to its first PONG. */
async function startDev(dir: string): Promise<{ child: ChildProcess; port: number; readyMs: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn("npm", ["run", "dev", "--", "--port", String(port), "--persist-to", dir], { detached: true, stdio: "ignore", env: { ...process.env, CI: "true" } });
  for (;;) {
    try {
      if ((await command(port, ["PING"])) === "PONG") return { child, port, readyMs: round(performance.now() - started, 0) };
    } catch {
      // not listening yet
    }
    if (performance.now() - started > GIVE_UP_MS) {
      await stop(child, "SIGKILL");
      throw new Error(`npm run dev did not answer in ${GIVE_UP_MS / 1000} s`);
    }
    await sleep(25);
  }
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid!, signal);
  await exited;
}

export async function devReady(bench: Bench): Promise<void> {
  const dir = mkdtempSync(join(STORAGE_ROOT, "flaredis-bench-dev-"));
  try {
    const first = await startDev(dir);
    try {
      for (let i = 0; i < 10; i++) await command(first.port, ["MSET", ...Array.from({ length: 100 }, (_, j) => [`k${i * 100 + j}`, "v"]).flat()]);
    } finally {
      await stop(first.child, "SIGINT");
    }
    const again = await startDev(dir);
    await stop(again.child, "SIGINT");
    bench.record("dev_ready", "flaredis", { new_state_ms: first.readyMs, restart_ms: again.readyMs });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
