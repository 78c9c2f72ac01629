/**
 * How long `npm run dev` takes to answer (group `dev`), as a user runs it: the time from the
 * command to its first PONG, on new state and then again on the state the first start left (after
 * a thousand keys written and a Ctrl-C, and checked there). Timed here, not in a test: a test of
 * `npm run dev` (test/e2e/dev-server.test.ts) checks what it answers, never how soon.
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
/** A Ctrl-C that has not ended it in this long is followed by a kill. */
const STOP_MS = 15_000;
const KEYS = 1000;

/** A running `npm run dev`: its process group, and when it ended. */
interface Dev {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly port: number;
}

/** One command's result. @throws on an HTTP error or a Redis error reply */
async function command(port: number, body: unknown): Promise<unknown> {
  const r = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
  const json = (await r.json()) as { result?: unknown; error?: string };
  if (!r.ok || json.error !== undefined) throw new Error(`${JSON.stringify(body).slice(0, 40)}: ${r.status} ${json.error ?? ""}`);
  return json.result;
}

/** Runs `npm run dev` on `dir`; resolves once it answers PING, with the ms that took. */
async function startDev(dir: string): Promise<{ dev: Dev; readyMs: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn("npm", ["run", "dev", "--", "--port", String(port), "--persist-to", dir], { detached: true, stdio: "ignore", env: { ...process.env, CI: "true" } });
  // Ended, or never started (a spawn error, which has no exit event).
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  const dev = { child, exited, port };
  for (;;) {
    try {
      if ((await command(port, ["PING"])) === "PONG") return { dev, readyMs: round(performance.now() - started, 0) };
    } catch {
      // not listening yet
    }
    const failed = child.exitCode !== null ? `exited (${child.exitCode}) before it answered` : performance.now() - started > GIVE_UP_MS ? `did not answer in ${GIVE_UP_MS / 1000} s` : null;
    if (failed !== null) {
      await stop(dev);
      throw new Error(`npm run dev ${failed}`);
    }
    await sleep(25);
  }
}

/** Ctrl-C to its process group (what wrangler gets from a terminal), a kill if that is not enough. */
async function stop(dev: Dev): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-dev.child.pid!, s);
    } catch {
      // the group is gone already
    }
  };
  signal("SIGINT");
  const stopped = await Promise.race([dev.exited.then(() => true), sleep(STOP_MS).then(() => false)]);
  // npm may end before wrangler's workerd: the rest of the group goes too.
  signal("SIGKILL");
  if (!stopped) await dev.exited;
}

export async function devReady(bench: Bench): Promise<void> {
  const dir = mkdtempSync(join(STORAGE_ROOT, "flaredis-bench-dev-"));
  try {
    const first = await startDev(dir);
    try {
      for (let i = 0; i < KEYS / 100; i++) await command(first.dev.port, ["MSET", ...Array.from({ length: 100 }, (_, j) => [`k${i * 100 + j}`, "v"]).flat()]);
    } finally {
      await stop(first.dev);
    }
    const again = await startDev(dir);
    try {
      const keys = await command(again.dev.port, ["DBSIZE"]);
      if (keys !== KEYS) throw new Error(`npm run dev started again with ${String(keys)} keys, not the ${KEYS} written before its Ctrl-C`);
    } finally {
      await stop(again.dev);
    }
    bench.record("dev_ready", "flaredis", { new_state_ms: first.readyMs, restart_ms: again.readyMs });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
