/**
 * `wrangler dev` as a child process group (the project's wrangler.toml: primary enam, replicas
 * wnam weur apac, sentinels on), on a loopback port and a persist directory of our own, killed
 * with SIGKILL to the whole group (wrangler and its workerd processes: a crash at that instant)
 * or stopped with a Ctrl-C, and started again on the same state. With `npm`, it is `npm run dev`
 * as a user runs it (the bench's dev group, bench/run/dev.ts).
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

/** A Ctrl-C that has not ended the group in this long is followed by SIGKILL. */
const STOP_MS = 15_000;

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
  private readonly npm: boolean;

  constructor(persist: string, port: number, { npm = false }: { npm?: boolean } = {}) {
    this.persist = persist;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.logPath = join(persist, "wrangler.log");
    this.npm = npm;
  }

  private get name(): string {
    return this.npm ? "npm run dev" : "wrangler dev";
  }

  /** Starts wrangler dev and waits until `GET /ping` answers (ms taken, polled every `pollMs`). */
  async start(pollMs = 100): Promise<number> {
    const from = Date.now();
    if (await listening(this.port)) throw new Error(`port ${this.port} is taken`);
    const log = openSync(this.logPath, "a");
    const [command, args, env] = this.npm
      ? // As a user runs it, non-interactive (CI), on our port and state.
        ["npm", ["run", "dev", "--", "--port", String(this.port), "--persist-to", this.persist], { ...process.env, CI: "true" }]
      : [
          process.execPath,
          [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "dev", "--ip", "127.0.0.1", "--port", String(this.port), "--inspector-port", String(await freePort()), "--persist-to", this.persist, "--show-interactive-dev-session=false"],
          { ...process.env, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`, X_LOCAL_OBSERVABILITY: "false", WRANGLER_SEND_METRICS: "false" },
        ];
    const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ["ignore", log, log], env });
    closeSync(log);
    this.child = child;
    // Ended, or never started (a spawn error, which has no exit event).
    this.exited = new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.once("error", () => resolve());
    });
    let gone = false;
    void this.exited.then(() => (gone = true));
    while (Date.now() - from < 120_000) {
      if (gone) throw new Error(`${this.name} exited while starting; see ${this.logPath}:\n${this.logTail()}`);
      try {
        const r = await fetch(`${this.url}/ping`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(2000) });
        if (r.status === 200 && (await r.text()).includes("PONG")) return Date.now() - from;
      } catch {
        // not up yet
      }
      await sleep(pollMs);
    }
    throw new Error(`${this.name} did not answer /ping within 120 s; see ${this.logPath}`);
  }

  /** Ctrl-C to the whole process group (what a terminal sends), then `kill` for what is left. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGINT");
    } catch {
      // already gone
    }
    await Promise.race([this.exited, sleep(STOP_MS)]);
    // npm may end before wrangler's workerd: the rest of the group goes too.
    await this.kill();
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
