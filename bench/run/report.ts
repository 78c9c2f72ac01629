/**
 * The report: the machine a run measured on, the table of results (one row per figure, one
 * column per system), the two targets, written to bench/results/latest.json and latest.md and
 * between the bench markers of README.md.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { round } from "../lib/load.ts";
import { storageKind } from "../lib/systems.ts";
import type { Result } from "./context.ts";

export type Machine = ReturnType<typeof machine>;

/** What the run measured on (printed first, kept in latest.json). */
export function machine(quick: boolean) {
  const version = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8" }).trim().split("\n")[0]!;
    } catch {
      return "unknown";
    }
  };
  const pkg = JSON.parse(readFileSync("node_modules/wrangler/package.json", "utf8")) as { version: string };
  const mf = JSON.parse(readFileSync("node_modules/miniflare/package.json", "utf8")) as { version: string };
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memory_gb: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    wrangler: pkg.version,
    miniflare: mf.version,
    redis: version("redis-server", ["--version"]),
    storage: storageKind(),
    date: new Date().toISOString(),
    quick,
  };
}

const UNITS: Record<string, string> = {
  ops_per_s: "ops/s",
  p50_ms: "p50 ms",
  p99_ms: "p99 ms",
  over_5ms_pct: "% over 5 ms",
  seconds: "s",
  peak_rss_mb: "peak RSS MB",
  entries_shipped: "entries shipped",
  rows_written: "rows written",
  rows_read: "rows read",
  full_syncs: "full syncs",
  digests_equal: "data equal",
};

/** One row per (name, figure), one column per system. */
function table(results: readonly Result[]): string {
  const lines = ["| benchmark | figure | flaredis | redis | workerd echo |", "|---|---|---:|---:|---:|"];
  const names = [...new Set(results.map((r) => r.name))];
  for (const name of names) {
    const figures = [...new Set(results.filter((r) => r.name === name).flatMap((r) => Object.keys(r)))].filter((k) => k in UNITS);
    for (const figure of figures) {
      const cell = (system: string) => {
        const v = results.find((r) => r.name === name && r.system === system)?.[figure];
        return v === undefined ? "" : typeof v === "number" ? v.toLocaleString("en-US") : String(v);
      };
      lines.push(`| ${name} | ${UNITS[figure]} | ${cell("flaredis")} | ${cell("redis")} | ${cell("workerd")} |`);
    }
  }
  return lines.join("\n");
}

/** The two targets, met or not (timings never decide a test's pass or fail). */
export function targets(results: readonly Result[]): string[] {
  const get = (name: string, system: string, figure: string) => Number(results.find((r) => r.name === name && r.system === system)?.[figure]);
  const ratio = get("get", "flaredis", "ops_per_s") / get("echo", "workerd", "ops_per_s");
  const lag = get("repl_lag", "flaredis", "p99_ms");
  return [
    `GET through a replica: ${get("get", "flaredis", "ops_per_s")} ops/s, ${Math.round(ratio * 100)}% of the echo ceiling (${get("echo", "workerd", "ops_per_s")}); target >= 80%: ${ratio >= 0.8 ? "met" : "NOT met"}; redis replica: ${get("get", "redis", "ops_per_s")} ops/s`,
    `Replication lag p99: ${lag} ms (p50 ${get("repl_lag", "flaredis", "p50_ms")}); target <= 5 ms: ${lag <= 5 ? "met" : "NOT met"}; redis: p99 ${get("repl_lag", "redis", "p99_ms")} ms (p50 ${get("repl_lag", "redis", "p50_ms")}); the echo Worker alone at 1,000 requests/s: p99 ${get("echo_open_1000", "workerd", "p99_ms")} ms`,
  ];
}

/**
 * Writes bench/results/latest.json and latest.md, and the table between the bench markers of
 * README.md; answers the markdown.
 */
export function writeReport(info: Machine, results: readonly Result[]): string {
  const markdown = `${table(results)}\n\n${targets(results).map((t) => `- ${t}`).join("\n")}\n\n_${info.cores} × ${info.cpu}, ${info.redis.replace(/ sha=.*/, "")}, wrangler ${info.wrangler}; storage in ${info.storage}; ${info.quick ? "`--quick`, " : ""}${info.date.slice(0, 10)}._\n`;
  writeFileSync("bench/results/latest.json", `${JSON.stringify({ machine: info, results }, null, 2)}\n`);
  writeFileSync("bench/results/latest.md", markdown);
  const readme = readFileSync("README.md", "utf8");
  const marked = /(<!-- bench:start -->\n)[\s\S]*?(<!-- bench:end -->)/;
  if (marked.test(readme)) writeFileSync("README.md", readme.replace(marked, `$1${markdown}$2`));
  return markdown;
}
