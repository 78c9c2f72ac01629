/**
 * The report: the runs the results came from (machine, date, `--only`), the table of results
 * (one row per figure, one column per system), the targets of issue 16, written to
 * bench/results/latest.json and latest.md and between the bench markers of bench/README.md. A partial
 * run (`--only`, or `--quick`, which leaves fullsync_1m out) replaces the results it measured, by
 * (name, system), and keeps the others with the run they came from.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { round } from "../lib/load.ts";
import { PRICES } from "../lib/prices.ts";
import { storageKind } from "../lib/systems.ts";
import { BIG_NAMES, BIG_PING, BIG_RANDOM_100K, BIG_ZRANK, PAGED_NAMES } from "./big-collections.ts";
import type { Result } from "./context.ts";
import { DEV_READY_TARGET_MS } from "./dev.ts";
import { IDLE_TARGET_PER_S } from "./idle.ts";
import { SHARD_COUNTS } from "./shards.ts";

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
  ascii_ops_per_s: "ops/s with ASCII names (same rounds)",
  p50_ms: "p50 ms",
  p99_ms: "p99 ms",
  over_5ms_pct: "% over 5 ms",
  seconds: "s",
  peak_rss_mb: "peak RSS MB",
  entries_shipped: "entries shipped",
  rows_written: "rows written",
  rows_read: "rows read",
  rows_written_all_nodes: "rows written, all nodes",
  rows_read_all_nodes: "rows read, all nodes",
  do_requests: "DO requests, all nodes",
  workers_requests: "Workers requests",
  sets_usd: "$ per 1M SETs, 1 per request",
  sets_pipelined_usd: "$ per 1M SETs, 100 per request",
  gets_usd: "$ per 1M GETs, 1 per request",
  gets_pipelined_usd: "$ per 1M GETs, 100 per request",
  full_syncs: "full syncs",
  digests_equal: "data equal",
  ms: "ms per call (median)",
  first_ms: "first call's ms (warm-up)",
  first_rows_written: "first call's rows written",
  x_redis: "x redis-server's time",
  error: "error",
  delivered_msgs_per_s: "messages/s to every subscriber",
  deliveries_per_s: "deliveries/s",
  latency_p50_ms: "publish-to-receive p50 ms",
  latency_p99_ms: "publish-to-receive p99 ms",
  add_jobs_per_s: "jobs added per s",
  process_jobs_per_s: "jobs completed per s",
  shards: "shard groups",
  rate_per_s: "rate, per s",
  set_capacity_ops_per_s: "SET capacity, ops/s (closed loop, same system)",
  rate_from: "rate from",
  window_s: "idle window s",
  requests_per_s: "DO requests/s, all objects",
  node_requests_per_s: "DO requests/s, nodes",
  sentinel_requests_per_s: "DO requests/s, sentinels",
  requests_per_hour: "DO requests per hour",
  rows_written_per_hour: "rows written per hour, nodes",
  rows_read_per_hour: "rows read per hour, nodes",
  usd_per_month: "$ per month (list prices)",
  new_state_ms: "ms to the first answer, new state",
  restart_ms: "ms to the first answer, again on its state",
};

/** Results no longer measured under these names (echo_open_1000 is now echo_open_lag_rate): dropped from latest.json. */
const RETIRED = new Set(["echo_open_1000"]);

/** The table's columns: a system's results, under its heading. */
const COLUMNS: [Result["system"], string][] = [
  ["flaredis", "flaredis"],
  ["redis", "redis"],
  ["workerd", "workerd echo"],
  ["upstash", "upstash (price list)"],
];

/** A run, as latest.json keeps it: where and when it measured, and which groups (`only`: all when null). */
export interface Run extends Machine {
  readonly only: string | null;
}

/** A result as latest.json keeps it: with the date of the run that measured it. */
export type Kept = Result & { run: string };

/** One row per (name, figure), one column per system. */
function table(results: readonly Result[]): string {
  const columns = COLUMNS.filter(([system]) => results.some((r) => r.system === system));
  const lines = [`| benchmark | figure | ${columns.map(([, heading]) => heading).join(" | ")} |`, `|---|---|${columns.map(() => "---:|").join("")}`];
  const names = [...new Set(results.map((r) => r.name))];
  for (const name of names) {
    const figures = [...new Set(results.filter((r) => r.name === name).flatMap((r) => Object.keys(r)))].filter((k) => k in UNITS);
    for (const figure of figures) {
      const cell = (system: string) => {
        const v = results.find((r) => r.name === name && r.system === system)?.[figure];
        return v === undefined ? "" : typeof v === "number" ? v.toLocaleString("en-US") : String(v);
      };
      lines.push(`| ${name} | ${UNITS[figure]} | ${columns.map(([system]) => cell(system)).join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const num = (x: number) => x.toLocaleString("en-US");
const met = (ok: boolean) => (ok ? "met" : "NOT met");

/**
 * The targets (issue 16), met or not; timings never decide a test's pass or fail. A target whose
 * figures are missing says "not measured"; one whose figures come from more than one run says so.
 */
export function targets(results: readonly (Result & { run?: string })[]): string[] {
  type Figure = (name: string, system: Result["system"], figure: string) => number;
  /** `v` a figure the target needs; `context(text, figures)` a comparison it prints when those figures were measured. */
  type Context = (text: (...values: number[]) => string, ...figures: Parameters<Figure>[]) => string;
  const target = (label: string, say: (v: Figure, context: Context) => string): string => {
    const missing: string[] = [];
    const runs = new Set<string>();
    const v: Figure = (name, system, figure) => {
      const r = results.find((x) => x.name === name && x.system === system);
      const value = r?.[figure];
      if (typeof value === "boolean") return value ? 1 : 0;
      if (typeof value !== "number" || !Number.isFinite(value)) {
        missing.push(`${name} ${figure}${system === "flaredis" ? "" : ` (${system})`}`);
        return NaN;
      }
      if (r!.run) runs.add(r!.run.slice(0, 16).replace("T", " "));
      return value;
    };
    const context: Context = (text, ...figures) => {
      const values = figures.map(([name, system, figure]) => results.find((x) => x.name === name && x.system === system)?.[figure]);
      return values.every((x) => typeof x === "number" && Number.isFinite(x)) ? text(...(values as number[])) : "";
    };
    const text = say(v, context);
    if (missing.length > 0) return `${label}: not measured (no ${[...new Set(missing)].join(", ")})`;
    return `${label}: ${text}${runs.size > 1 ? ` [figures from different runs: ${[...runs].sort().join(", ")}]` : ""}`;
  };
  return [
    target("GET through a replica", (v, context) => {
      const ratio = v("get", "flaredis", "ops_per_s") / v("echo", "workerd", "ops_per_s");
      return `${num(v("get", "flaredis", "ops_per_s"))} ops/s, ${pct(ratio)} of the echo ceiling (${num(v("echo", "workerd", "ops_per_s"))}); target >= 80%: ${met(ratio >= 0.8)}${context((r) => `; redis replica: ${num(r)} ops/s`, ["get", "redis", "ops_per_s"])}`;
    }),
    target("SET through the primary", (v, context) => {
      // The target is to the durable echo (one request, one Durable Object call, one row committed),
      // the least a durable write costs here; the ratio to the plain echo is context.
      const set = v("set", "flaredis", "ops_per_s");
      const durable = v("echo_durable", "workerd", "ops_per_s");
      return `${num(set)} ops/s, ${pct(set / durable)} of the durable echo (${num(durable)} ops/s); target >= 75%: ${met(set >= 0.75 * durable)}${context((echo) => `; ${pct(set / echo)} of the echo ceiling (${num(echo)}; the durable echo ${pct(durable / echo)} of it)`, ["echo", "workerd", "ops_per_s"])}`;
    }),
    target("UTF-8 names and values (bytes inside)", (v) => {
      // Rounds alternating with ASCII names (bench/run/throughput.ts): the drop of the ratio to the echo, in points.
      const echo = v("echo", "workerd", "ops_per_s");
      const say = (name: string) => {
        const [utf8, ascii] = [v(`${name}_utf8`, "flaredis", "ops_per_s"), v(`${name}_utf8`, "flaredis", "ascii_ops_per_s")];
        const points = (100 * (ascii - utf8)) / echo;
        return { ok: points <= 5, text: `${name.toUpperCase()} ${num(utf8)} ops/s, ${pct(utf8 / echo)} of the echo ceiling against ${pct(ascii / echo)} with ASCII names in the same rounds (${round(points, 1)} points)` };
      };
      const [get, set] = [say("get"), say("set")];
      return `${get.text}; ${set.text}; target <= 5 points each: ${met(get.ok && set.ok)}`;
    }),
    target("@upstash/ratelimit's sliding window (EVALSHA)", (v) => {
      const ratio = v("evalsha_ratelimit", "flaredis", "ops_per_s") / v("set", "flaredis", "ops_per_s");
      return `${num(v("evalsha_ratelimit", "flaredis", "ops_per_s"))} ops/s, ${pct(ratio)} of SET's in the same run; target >= 70%: ${met(ratio >= 0.7)}`;
    }),
    target("Pipelined SETs", (v, context) => {
      const ratio = v("pipeline_set_100", "flaredis", "ops_per_s") / v("pipeline_get_100", "flaredis", "ops_per_s");
      return `${num(v("pipeline_set_100", "flaredis", "ops_per_s"))} ops/s, ${pct(ratio)} of pipelined GETs; target >= 50%: ${met(ratio >= 0.5)}${context((set, get) => `; redis: ${pct(set / get)}`, ["pipeline_set_100", "redis", "ops_per_s"], ["pipeline_get_100", "redis", "ops_per_s"])}`;
    }),
    target("Replication lag p99", (v, context) => {
      const lag = v("repl_lag", "flaredis", "p99_ms");
      const echo = v("echo_open_lag_rate", "workerd", "p99_ms");
      const rate = v("repl_lag", "flaredis", "rate_per_s");
      const echoRate = v("echo_open_lag_rate", "workerd", "rate_per_s");
      // The ratio is fair only at the same rate: the open loop runs at the lag's when both ran together.
      const head = `${lag} ms (p50 ${v("repl_lag", "flaredis", "p50_ms")}) at ${num(rate)} writes/s, half of the SET capacity measured on its system (${num(v("repl_lag", "flaredis", "set_capacity_ops_per_s"))} ops/s)`;
      const redis = context((r, at) => `; redis: p99 ${r} ms at ${num(at)} writes/s`, ["repl_lag", "redis", "p99_ms"], ["repl_lag", "redis", "rate_per_s"]);
      if (rate !== echoRate)
        return `${head}; the echo Worker's p99 (${echo} ms) was measured at ${num(echoRate)} requests/s, another rate: target <= 1.5x: not comparable (run lag and echo together)${redis}`;
      return `${head}, ${round(lag / echo, 2)}x the echo Worker's p99 at the same rate (${echo} ms); target <= 1.5x: ${met(lag <= 1.5 * echo)}${redis}`;
    }),
    target("Pub/sub, 100 subscribers in four places (no target yet)", (v, context) => {
      const figure = (system: Result["system"], name: string) => v("pubsub_100_subscribers", system, name);
      return `${num(figure("flaredis", "delivered_msgs_per_s"))} messages/s to every subscriber (${num(figure("flaredis", "deliveries_per_s"))} deliveries/s); at ${figure("flaredis", "latency_rate_per_s")} messages/s, publish to receive p50 ${figure("flaredis", "latency_p50_ms")} ms, p99 ${figure("flaredis", "latency_p99_ms")} ms${context(
        (m, p50, p99) => `; redis: ${num(m)} messages/s, p50 ${p50} ms, p99 ${p99} ms`,
        ["pubsub_100_subscribers", "redis", "delivered_msgs_per_s"],
        ["pubsub_100_subscribers", "redis", "latency_p50_ms"],
        ["pubsub_100_subscribers", "redis", "latency_p99_ms"],
      )}`;
    }),
    target("BullMQ through flaredis proxy (no target yet)", (v) => {
      const f = (system: Result["system"], figure: string) => v("bullmq_jobs", system, figure);
      const ratio = (figure: string) => pct(f("flaredis", figure) / f("redis", figure));
      return `${num(f("flaredis", "jobs"))} jobs added at ${num(f("flaredis", "add_jobs_per_s"))}/s (${ratio("add_jobs_per_s")} of redis-server's ${num(f("redis", "add_jobs_per_s"))}/s) and completed by a Worker of concurrency ${f("flaredis", "concurrency")} at ${num(f("flaredis", "process_jobs_per_s"))}/s (${ratio("process_jobs_per_s")} of redis-server's ${num(f("redis", "process_jobs_per_s"))}/s)`;
    }),
    target("SET over 1, 2 and 4 shard groups", (v) => {
      const [one, two, four] = SHARD_COUNTS.map((n) => v(`set_shards_${n}`, "flaredis", "ops_per_s"));
      const ratio = four! / one!;
      return `${num(one!)}, ${num(two!)} and ${num(four!)} ops/s: ${round(ratio, 2)}x from 1 to 4 shards; target >= 3x: ${met(ratio >= 3)} (every shard's nodes run in the one local workerd process, on one thread: shards add Durable Objects to it, not threads; bench/README.md)`;
    }),
    target("npm run dev answers", (v) => {
      const first = v("dev_ready", "flaredis", "new_state_ms");
      const again = v("dev_ready", "flaredis", "restart_ms");
      return `${num(first)} ms on new state, ${num(again)} ms again on its state; target < ${num(DEV_READY_TARGET_MS)} ms each: ${met(first < DEV_READY_TARGET_MS && again < DEV_READY_TARGET_MS)}`;
    }),
    target("Full sync of 1M keys", (v) => {
      const seconds = v("fullsync_1m", "flaredis", "seconds");
      const redis = v("fullsync_1m", "redis", "seconds");
      const equal = v("fullsync_1m", "flaredis", "digests_equal") === 1;
      const rss = v("fullsync_1m", "flaredis", "peak_rss_mb") / v("fullsync_100k", "flaredis", "peak_rss_mb");
      const all = seconds <= 3 * redis && equal && rss <= 1.25;
      return `${seconds} s, ${round(seconds / redis, 1)}x redis-server's ${redis} s (target <= 3x: ${met(seconds <= 3 * redis)}); data equal: ${equal ? "yes" : "NO"}; peak RSS ${round(rss, 2)}x that for 100k keys (target <= 1.25x: ${met(rss <= 1.25)}); all: ${met(all)}`;
    }),
    target("Rows written per pipelined SET", (v) => {
      const primary = v("storage_rows_per_set", "flaredis", "rows_written");
      const all = v("storage_rows_per_set", "flaredis", "rows_written_all_nodes");
      return `${primary} on the primary (target <= 1.5: ${met(primary <= 1.5)}), ${all} on all nodes with three replicas (target <= 6: ${met(all <= 6)})`;
    }),
    target("Strings stored in pages", (v) => {
      // Each command's first call makes its string (a new key); the later ones write the same page again.
      const each = PAGED_NAMES.map((name) => {
        const error = results.find((r) => r.name === name && r.system === "flaredis")?.error;
        if (typeof error === "string") return { name, ok: false, text: `${name} failed (${error})` };
        const first = v(name, "flaredis", "first_ms");
        const rows = v(name, "flaredis", "first_rows_written");
        const ok = first < 100 && rows <= 3;
        return { name, ok, text: `${name}: new key ${round(first, 1)} ms and ${rows} rows written (redis-server ${round(v(name, "redis", "ms"), 2)} ms once made)` };
      });
      return `${each.map((e) => e.text).join("; ")}; target < 100 ms on a new key and <= 3 rows: ${met(each.every((e) => e.ok))}`;
    }),
    target(`Idle cost (a primary, three replicas and their sentinels, no traffic)`, (v) => {
      const f = (figure: string) => v("idle_cost", "flaredis", figure);
      const perS = f("requests_per_s");
      const methods = results.find((r) => r.name === "idle_cost" && r.system === "flaredis")?.by_method;
      const most = typeof methods === "string" && methods !== "" ? `; by method, per s: ${methods.split(", ").slice(0, 5).join(", ")}` : "";
      const restarted = results.find((r) => r.name === "idle_cost" && r.system === "flaredis")?.restarted;
      const again = typeof restarted === "string" && restarted !== "none" ? `; restarted meanwhile: ${restarted}` : "";
      return `${perS} Durable Object requests/s over ${f("window_s")} s (nodes ${f("node_requests_per_s")}, sentinels ${f("sentinel_requests_per_s")}; ${num(f("requests_per_hour"))} an hour), rows written ${num(f("rows_written_per_hour"))} and read ${num(f("rows_read_per_hour"))} an hour: $${f("usd_per_month")} a month at list prices${most}${again}; target <= ${IDLE_TARGET_PER_S} requests/s: ${met(perS <= IDLE_TARGET_PER_S)}`;
    }),
    target("RDB export and import", (v) => {
      // The largest run's: 1M keys when the full group ran, else the quick 50k.
      const name = results.some((r) => r.name === "rdb_1m" && r.system === "flaredis") ? "rdb_1m" : (results.find((r) => r.name.startsWith("rdb_") && r.system === "flaredis")?.name ?? "rdb_1m");
      const f = (figure: string) => v(name, "flaredis", figure);
      const r = (figure: string) => v(name, "redis", figure);
      const keys = name.slice(4);
      return `${keys} keys: flaredis export ${f("export_s")} s (${round(f("export_s") / r("export_s"), 1)}x redis-cli --rdb's ${r("export_s")} s), flaredis import ${f("import_s")} s (${round(f("import_s") / r("import_s"), 1)}x redis-server's load of its own file, ${r("import_s")} s); redis-server loads Flaredis's file in ${r("flaredis_file_load_s")} s; files ${f("file_mb")} and ${r("file_mb")} MiB (no target yet)`;
    }),
    target("Cost per million commands at three replicas", (v) => {
      const c = (figure: string) => `$${v("cost_per_million", "flaredis", figure)}`;
      return `SETs ${c("sets_usd")} (1 per request), ${c("sets_pipelined_usd")} (100 per request); GETs ${c("gets_usd")}, ${c("gets_pipelined_usd")}; Upstash pay-as-you-go: $${v("cost_per_million", "upstash", "sets_usd")} (Cloudflare and Upstash list prices of ${PRICES.read}, bench/lib/prices.ts)`;
    }),
    target("Big collections", (v) => {
      // A command Flaredis failed (an error answered, a wrong answer, no answer within 60 s) is
      // a target not met, said as such, rather than a figure missing.
      const failed = (name: string) => {
        const error = results.find((r) => r.name === name && r.system === "flaredis")?.error;
        return typeof error === "string" ? error : null;
      };
      const over: string[] = [];
      const ratios: number[] = [];
      for (const name of BIG_NAMES) {
        const error = failed(name);
        if (error !== null) {
          over.push(`${name} (${error})`);
          continue;
        }
        const ratio = v(name, "flaredis", "ms") / v(name, "redis", "ms");
        ratios.push(ratio);
        if (!(ratio <= 20)) over.push(`${name} ${round(ratio, 1)}x`);
      }
      const flaredis = (name: string) => results.find((x) => x.name === name && x.system === "flaredis");
      const elsewhere = BIG_NAMES.flatMap((name) => {
        const r = flaredis(name);
        return r && typeof r.served_by === "string" && r.served_by !== r.expected_by && r.served_by !== "none" ? [`${name} by ${r.served_by}`] : [];
      });
      const noisy = BIG_NAMES.filter((name) => flaredis(name)?.background_rows === true);
      const rankError = failed(BIG_ZRANK);
      const rank = rankError === null ? v(BIG_ZRANK, "flaredis", "rows_read") : NaN;
      const randomError = failed(BIG_RANDOM_100K);
      const random = randomError === null ? v(BIG_RANDOM_100K, "flaredis", "ms") / 1000 : NaN;
      const all = over.length === 0 && rank <= 100 && random < 2;
      const floorMs = (system: string) => {
        const ms = results.find((x) => x.name === BIG_PING && x.system === system)?.ms;
        return typeof ms === "number" ? ms : null;
      };
      const floor = (system: string) => {
        const ms = floorMs(system);
        return ms === null ? "not measured" : `${round(ms, 2)} ms`;
      };
      // For reading only (no target): each command's time past its system's PING, as a ratio.
      const net = (() => {
        const f0 = floorMs("flaredis");
        const r0 = floorMs("redis");
        if (f0 === null || r0 === null) return "not measured";
        let worst: [string, number] | null = null;
        for (const name of BIG_NAMES) {
          const f = results.find((x) => x.name === name && x.system === "flaredis")?.ms;
          const r = results.find((x) => x.name === name && x.system === "redis")?.ms;
          if (typeof f !== "number" || typeof r !== "number" || r - r0 <= 0) continue;
          const ratio = Math.max(0, f - f0) / (r - r0);
          if (worst === null || ratio > worst[1]) worst = [name, ratio];
        }
        return worst === null ? "not measured" : `largest ${round(worst[1], 1)}x (${worst[0]})`;
      })();
      return [
        `each command within 20x redis-server's time in the same run: ${met(over.length === 0)} (${ratios.length > 0 ? `largest measured ${round(Math.max(...ratios), 1)}x` : "none measured"}${over.length > 0 ? `; over or failed: ${over.join(", ")}` : ""})`,
        `one PING timed the same way (each system's floor, no target): ${floor("flaredis")}, redis-server ${floor("redis")}; past each one's PING: ${net}`,
        `ZRANK of the last member: ${rankError === null ? `${num(rank)} rows read` : `failed (${rankError})`} (target <= 100: ${met(rank <= 100)})`,
        `ZRANDMEMBER -100000 with the read-only token: ${randomError === null ? `${round(random, 2)} s` : `failed (${randomError})`} (target < 2 s: ${met(random < 2)})`,
        `all: ${met(all)}${elsewhere.length > 0 ? `; served elsewhere than asked: ${elsewhere.join(", ")}` : ""}${noisy.length > 0 ? `; rows counted amid background work: ${noisy.join(", ")}` : ""}`,
      ].join("; ");
    }),
  ];
}

interface Stored {
  runs: Run[];
  results: Kept[];
}

/** latest.json as it is (the older shape, one `machine` for all results, read as one run). */
function stored(): Stored {
  if (!existsSync("bench/results/latest.json")) return { runs: [], results: [] };
  const json = JSON.parse(readFileSync("bench/results/latest.json", "utf8")) as Partial<Stored> & { machine?: Machine; results?: (Result & { run?: string })[] };
  const runs = json.runs ?? (json.machine ? [{ ...json.machine, only: null }] : []);
  const fallback = json.machine?.date ?? "unknown";
  return { runs, results: (json.results ?? []).filter((r) => !RETIRED.has(r.name)).map((r) => ({ ...r, run: r.run ?? fallback })) };
}

/**
 * This run's results merged into latest.json's: a result measured now replaces the one of the
 * same (name, system), in its place; the others stay, with their runs. A full run (neither
 * `--only` nor `--quick`) replaces them all.
 */
export function merge(previous: Stored, run: Run, results: readonly Result[]): Stored {
  const now: Kept[] = results.map((r) => ({ ...r, run: run.date }));
  if (run.only === null && !run.quick) return { runs: [run], results: now };
  const key = (r: Result) => `${r.name}\u0000${r.system}`;
  const fresh = new Map(now.map((r) => [key(r), r]));
  const merged = previous.results.map((r) => fresh.get(key(r)) ?? r);
  // A result new to the table goes after the one this run measured before it (or at the end).
  let at = merged.length;
  for (const r of now) {
    const i = merged.findIndex((m) => key(m) === key(r));
    if (i >= 0) at = i + 1;
    else merged.splice(at++, 0, r);
  }
  const used = new Set(merged.map((r) => r.run));
  return { runs: [...previous.runs.filter((r) => r.date !== run.date && used.has(r.date)), run], results: merged };
}

/** A run in a line: its machine, flags and date, and (when several runs made the table) what it measured. */
function describe(run: Run, results: readonly Kept[], several: boolean): string {
  const flags = [run.quick ? "`--quick`" : "", run.only ? `\`--only ${run.only}\`` : ""].filter(Boolean).join(" ");
  const names = [...new Set(results.filter((r) => r.run === run.date).map((r) => r.name))];
  return `_${run.date.slice(0, 10)}${flags ? ` ${flags}` : ""}: ${run.cores} × ${run.cpu}, ${run.redis.replace(/ sha=.*/, "")}, wrangler ${run.wrangler}; storage in ${run.storage}${several ? `; ${names.join(", ")}` : ""}._`;
}

/**
 * Merges this run's results into bench/results/latest.json and writes it, latest.md, and the
 * table between the bench markers of bench/README.md; answers the markdown.
 */
export function writeReport(info: Machine, only: string | null, results: readonly Result[]): string {
  const { runs, results: all } = merge(stored(), { ...info, only }, results);
  const markdown = `${table(all)}\n\n${targets(all).map((t) => `- ${t}`).join("\n")}\n\n${runs.map((r) => describe(r, all, runs.length > 1)).join("\n\n")}\n`;
  writeFileSync("bench/results/latest.json", `${JSON.stringify({ runs, results: all }, null, 2)}\n`);
  writeFileSync("bench/results/latest.md", markdown);
  const readme = readFileSync("bench/README.md", "utf8");
  const marked = /(<!-- bench:start -->\n)[\s\S]*?(<!-- bench:end -->)/;
  // A function, not a replacement string: the markdown holds "$2" (Upstash's price), which a
  // replacement string reads as the second group.
  if (marked.test(readme)) writeFileSync("bench/README.md", readme.replace(marked, (_, start: string, end: string) => `${start}${markdown}${end}`));
  return markdown;
}
