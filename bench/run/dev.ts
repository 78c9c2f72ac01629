/**
 * How long `npm run dev` takes to answer (group `dev`), as a user runs it: the time from the
 * command to its first PONG, on new state and then again on the state the first start left (after
 * a thousand keys written and a Ctrl-C, and checked there). Timed here, not in a test: a test of
 * `npm run dev` (test/e2e/dev-server.test.ts) checks what it answers, never how soon. The process
 * group is the crash harness's (`DevServer`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DevServer } from "../crash/server.ts";
import { HttpClient } from "../lib/http.ts";
import { STORAGE_ROOT, freePort } from "../lib/systems.ts";
import { type Bench, TOKEN } from "./context.ts";

/** The target: `npm run dev` answers within this many ms of being run. */
export const DEV_READY_TARGET_MS = 10_000;
/** Its PING is asked this often while it starts. */
const POLL_MS = 25;
const KEYS = 1000;

export async function devReady(bench: Bench): Promise<void> {
  const dir = mkdtempSync(join(STORAGE_ROOT, "flaredis-bench-dev-"));
  const server = new DevServer(dir, await freePort(), { npm: true });
  const http = new HttpClient(server.url, TOKEN, {}, 1);
  try {
    const newStateMs = await server.start(POLL_MS);
    for (let i = 0; i < KEYS / 100; i++) await http.command(["MSET", ...Array.from({ length: 100 }, (_, j) => [`k${i * 100 + j}`, "v"]).flat()]);
    await server.stop();
    const restartMs = await server.start(POLL_MS);
    const { result: keys } = await http.command(["DBSIZE"]);
    if (keys !== KEYS) throw new Error(`npm run dev started again with ${String(keys)} keys, not the ${KEYS} written before its Ctrl-C`);
    await server.stop();
    bench.record("dev_ready", "flaredis", { new_state_ms: newStateMs, restart_ms: restartMs });
  } finally {
    await server.kill(); // nothing left after a stop; the group, after a failure
    http.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
