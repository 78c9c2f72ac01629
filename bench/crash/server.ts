/**
 * `wrangler dev` as a child process group (the project's wrangler.toml: primary enam, replicas
 * wnam weur apac, sentinels on), on a loopback port and a persist directory of our own, killed
 * with SIGKILL to the whole group (wrangler and its workerd processes: a crash at that instant)
 * and started again on the same state.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "../lib/load.ts";
import { freePort } from "../lib/systems.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const ADMIN_TOKEN = "dev-admin-token";

/** Whether something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

export class DevServer {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  readonly persist: string;
  readonly port: number;
  readonly url: string;
  readonly logPath: string;

  constructor(persist: string, port: number) {
    this.persist = persist;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.logPath = join(persist, "wrangler.log");
  }

  /** Starts wrangler dev and waits until `GET /ping` answers (ms taken). */
  async start(): Promise<number> {
    const from = Date.now();
    if (await listening(this.port)) throw new Error(`port ${this.port} is taken`);
    const inspector = await freePort();
    const log = openSync(this.logPath, "a");
    const wrangler = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
    const args = ["dev", "--ip", "127.0.0.1", "--port", String(this.port), "--inspector-port", String(inspector), "--persist-to", this.persist];
    const child = spawn(process.execPath, [wrangler, ...args, "--show-interactive-dev-session=false"], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`, X_LOCAL_OBSERVABILITY: "false", WRANGLER_SEND_METRICS: "false" },
    });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    let gone = false;
    void this.exited.then(() => (gone = true));
    while (Date.now() - from < 120_000) {
      if (gone) throw new Error(`wrangler dev exited while starting; see ${this.logPath}:\n${this.logTail()}`);
      try {
        const r = await fetch(`${this.url}/ping`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(2000) });
        if (r.status === 200 && (await r.text()).includes("PONG")) return Date.now() - from;
      } catch {
        // not up yet
      }
      await sleep(100);
    }
    throw new Error(`wrangler dev did not answer /ping within 120 s; see ${this.logPath}`);
  }

  /** SIGKILL to the whole process group; waits until it is gone and the port is free. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === null || child.pid === undefined) return;
    this.child = null;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await this.exited;
    for (let i = 0; i < 100 && (await listening(this.port)); i++) await sleep(50);
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logPath, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }
}
