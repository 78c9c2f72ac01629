// GET /metrics from the real worker (wrangler's unstable_startWorker) passes Prometheus's own
// linter, `promtool check metrics` (Debian's `prometheus` package), and carries the names that
// redis_exporter's dashboards and monitoring/grafana-dashboard.json query.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFlaredis } from "../e2e/start";
import { assertInstalled, tool } from "./need-tool";

const promtool = tool("promtool", "prometheus");

const ACCEPTANCE_NAMES = [
  "redis_up",
  "redis_connected_slaves",
  "redis_master_repl_offset",
  "redis_connected_slave_lag_seconds",
  "redis_commands_total",
  "redis_keyspace_hits_total",
  "redis_keyspace_misses_total",
  "redis_db_keys",
  "redis_evicted_keys_total",
  "redis_expired_keys_total",
  "flaredis_replication_lag_seconds",
  "flaredis_storage_rows_read_total",
  "flaredis_storage_rows_written_total",
];

let server: Awaited<ReturnType<typeof startFlaredis>> | undefined;

beforeAll(async () => {
  if (!promtool.skip) server = await startFlaredis();
});
afterAll(async () => {
  await server?.dispose();
});

async function send(command: (string | number)[]) {
  const response = await fetch(`${server!.url}/`, {
    method: "POST",
    headers: { authorization: "Bearer dev-token" },
    body: JSON.stringify(command),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

it.skipIf(promtool.skip)(`GET /metrics passes promtool check metrics${promtool.skipReason}`, async () => {
  assertInstalled(promtool);
  await send(["SET", "interop:k", "v", "EX", 600]);
  await send(["GET", "interop:k"]);
  await send(["GET", "interop:missing"]);
  // The replicas acknowledge the write within a heartbeat; until then their lag is not 0, which is fine.
  const response = await fetch(`${server!.url}/metrics`, { headers: { authorization: "Bearer dev-admin-token" } });
  expect(response.status).toBe(200);
  const text = await response.text();
  const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  expect(check.status, `promtool check metrics:\n${check.stdout}${check.stderr}`).toBe(0);
  // promtool prints lint problems and still may exit 0 on some versions: there must be none.
  expect(`${check.stdout}${check.stderr}`.trim()).toBe("");
  for (const name of ACCEPTANCE_NAMES) expect(text, name).toMatch(new RegExp(`^${name}\\{`, "m"));
  expect(text).toMatch(/^redis_up\{node="enam",role="master"\} 1$/m);
  // Every metric the Grafana dashboard queries is one this scrape has.
  const dashboard = JSON.parse(readFileSync("monitoring/grafana-dashboard.json", "utf8")) as { panels: { targets?: { expr: string }[] }[] };
  const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
  expect(exprs.length).toBeGreaterThan(10);
  const queried = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:redis|flaredis)_[a-z_]+)\b/g)].map((m) => m[1]!)));
  const scraped = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
  expect([...queried].filter((name) => !scraped.has(name))).toEqual([]);
});
