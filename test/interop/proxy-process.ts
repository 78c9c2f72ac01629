/**
 * `flaredis proxy` as its own process in front of a worker, for the tests that drive it with real
 * Redis clients: started on a free port (read from its first line), stopped with SIGTERM.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../cli/flaredis.mjs", import.meta.url));

export interface ProxyProcess {
  readonly port: number;
  /** With `metrics`: the port of its GET /metrics. */
  readonly metricsPort?: number;
  stop(): void;
}

export async function startProxy(url: string, token = "dev-token", metrics = false): Promise<ProxyProcess> {
  // The token from the environment, as a sidecar takes it (a command line is visible to other users).
  const proxy: ChildProcess = spawn(process.execPath, [BIN, "proxy", "--port", "0", "--url", url, ...(metrics ? ["--metrics-port", "0"] : [])], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, FLAREDIS_TOKEN: token },
  });
  const [port, metricsPort] = await new Promise<[number, number | undefined]>((resolve, reject) => {
    let out = "";
    proxy.stdout!.on("data", (chunk: Buffer) => {
      out += chunk;
      const m = out.match(/listening on 127\.0\.0\.1:(\d+)[^\n]*\n/);
      const metricsAt = out.match(/metrics on 127\.0\.0\.1:(\d+)/);
      if (m) resolve([Number(m[1]), metricsAt ? Number(metricsAt[1]) : undefined]);
    });
    proxy.once("exit", (code) => reject(new Error(`the proxy exited (${code}) before listening: ${out}`)));
  });
  return { port, ...(metricsPort === undefined ? {} : { metricsPort }), stop: () => void proxy.kill("SIGTERM") };
}

/** What a `flaredis` run printed and how it exited. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `flaredis <sub> --url <url> [args…]` in `cwd`, the token from the environment (as a user
 * should pass it); its exit code and output, a failing run included.
 */
export async function runFlaredis(url: string, token: string, cwd: string, sub: string, ...args: string[]): Promise<CliRun> {
  const run = promisify(execFile);
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, sub, "--url", url, ...args], { env: { ...process.env, FLAREDIS_TOKEN: token }, cwd });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as CliRun;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
