/**
 * Whether a Debian tool the interop checks need is installed. Missing, a check skips with a
 * message naming the package, unless FLAREDIS_INTEROP_REQUIRED is set (CI): then it fails.
 */
import { spawnSync } from "node:child_process";

export const interopRequired = ["1", "true", "yes", "on"].includes((process.env.FLAREDIS_INTEROP_REQUIRED ?? "").toLowerCase());

export interface Tool {
  readonly name: string;
  readonly debianPackage: string;
  readonly installed: boolean;
  /** For the check's title: why it is skipped, when it is. */
  readonly skipReason: string;
  /** True when the check must be skipped (missing and not required). */
  readonly skip: boolean;
}

/**
 * Looks for `name` on the PATH by running it with `args` (which must exit without side effects).
 * @example const promtool = tool("promtool", "prometheus"); it.skipIf(promtool.skip)(`...${promtool.skipReason}`, ...)
 */
export function tool(name: string, debianPackage: string, args: readonly string[] = ["--version"]): Tool {
  const run = spawnSync(name, args, { stdio: "ignore" });
  const installed = !run.error;
  const skip = !installed && !interopRequired;
  const skipReason = skip ? ` (skipped: ${name} is not installed; apt-get install -y ${debianPackage})` : "";
  if (skip) console.warn(`interop: ${name} not found on PATH: its checks are skipped (apt-get install -y ${debianPackage}; FLAREDIS_INTEROP_REQUIRED=1 makes this a failure)`);
  return { name, debianPackage, installed, skipReason, skip };
}

/** Fails with a clear message when the tool is missing (reached only when it is required). */
export function assertInstalled(t: Tool): void {
  if (!t.installed) throw new Error(`${t.name} is required (FLAREDIS_INTEROP_REQUIRED is set) but not installed: apt-get install -y ${t.debianPackage}`);
}
