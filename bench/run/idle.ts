/**
 * What a deployment costs while nobody uses it (group `idle`): on a new primary (enam) with three
 * replicas (ROWS_REPLICAS) and the sentinels wrangler.toml configures, synced and then left
 * alone for SETTLE_MS, the Durable Object requests every node and every sentinel serves over an
 * idle window with no client traffic (RPC calls and alarms, each billed as one request), and the
 * SQLite rows the nodes write and read meanwhile; per second, per hour and in dollars a month at
 * Cloudflare's list prices (bench/lib/prices.ts).
 *
 * Counted from the objects' own counters: `GET /admin/nodes/<node>/storage` (rows, and the
 * requests the node served by method, the storage call itself left out) and `GET
 * /admin/sentinels` (each sentinel's status, with the requests it served by method before that
 * status call). The bench's own calls are subtracted: the storage calls count nowhere, and each
 * sentinel's status call at the window's start is counted in its figures at the end (one
 * `status` per sentinel, taken off). The counters are in the objects' memory: an object evicted
 * while idle and started again counts from its restart (named in `restarted`). Not counted: the sentinels' own rows (their status does not
 * report them), Durable Object duration (GB-s: an alarm wakes its object), and the Workers
 * requests (none: no client traffic).
 */
import { readFileSync } from "node:fs";
import { round, sleep } from "../lib/load.ts";
import { PRICES } from "../lib/prices.ts";
import type { Started } from "../lib/systems.ts";
import { adminJson } from "./admin.ts";
import type { Bench } from "./context.ts";
import { ROWS_REPLICAS, type Usage } from "./sync.ts";

/** After the replicas have synced, before the window: what the start left in flight ends. */
const SETTLE_MS = 5000;
/** Hours in an average month (365 × 24 / 12). */
const HOURS_PER_MONTH = 730;
/** The target: an idle deployment at most this many Durable Object requests a second, all objects. */
export const IDLE_TARGET_PER_S = 0.5;

/** The sentinels the bench's deployment has: wrangler.toml's FLAREDIS_SENTINELS (startFlaredis sets only the replicas). */
function configuredSentinels(): string[] {
  const toml = readFileSync("wrangler.toml", "utf8");
  const value = /^FLAREDIS_SENTINELS\s*=\s*"([^"]*)"/m.exec(toml)?.[1];
  if (value === undefined) throw new Error("wrangler.toml has no FLAREDIS_SENTINELS");
  return value.split(/\s+/).filter(Boolean);
}

/** A sentinel's status as `GET /admin/sentinels` answers it (the fields used here). */
interface SentinelView {
  sentinel: string;
  requests_by_method?: Record<string, number>;
}

interface Snapshot {
  /** The middle of the calls that took it (performance.now()). */
  at: number;
  nodes: Map<string, Usage>;
  sentinels: Map<string, Record<string, number>>;
}

/**
 * Every sentinel's counters, then every node's: in that order, so that a node woken by its storage
 * call (one evicted while idle: a primary that starts asks the sentinels to watch it) wakes no
 * sentinel before it has been counted.
 */
async function snapshot(f: Started, nodes: readonly string[], sentinels: readonly string[]): Promise<Snapshot> {
  const t0 = performance.now();
  const views = await adminJson<SentinelView[]>(f, "/admin/sentinels");
  const usages = await Promise.all(nodes.map(async (n) => [n, await adminJson<Usage>(f, `/admin/nodes/${n}/storage`)] as const));
  const at = (t0 + performance.now()) / 2;
  const answered = new Map(views.map((s) => [s.sentinel, s.requests_by_method]));
  for (const s of sentinels) {
    if (!answered.has(s)) throw new Error(`sentinel ${s} did not answer /admin/sentinels (answered: ${[...answered.keys()].join(", ") || "none"})`);
    if (answered.get(s) === undefined) throw new Error(`sentinel ${s}'s status carries no requests_by_method`);
  }
  return { at, nodes: new Map(usages), sentinels: new Map(sentinels.map((s) => [s, answered.get(s)!])) };
}

/** Each method's count in `after` less that in `before`. */
function byMethod(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((m) => [m, after[m]! - (before[m] ?? 0)]).filter(([, n]) => n !== 0));
}

/** A counter in `after` below its value in `before`: the object started again meanwhile, its counters from 0. */
const fellBack = (before: Record<string, number>, after: Record<string, number>) => Object.keys(before).some((k) => (after[k] ?? 0) < before[k]!);

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export async function flaredisIdle(bench: Bench, f: Started): Promise<void> {
  const nodes = ["enam", ...ROWS_REPLICAS];
  const sentinels = configuredSentinels();
  const windowMs = (bench.quick ? 30 : 120) * 1000;
  await sleep(SETTLE_MS);
  const before = await snapshot(f, nodes, sentinels);
  await sleep(windowMs);
  const after = await snapshot(f, nodes, sentinels);
  const seconds = (after.at - before.at) / 1000;

  // Requests by object and method; the bench's status call to each sentinel at the start taken off.
  // The counters live in the objects' memory: one evicted while idle (no alarm keeps it) and
  // started again has counted from 0 since, and what its first instance served after the first
  // snapshot is lost (little: it was evicted for having nothing to do). Such an object's figures
  // are its counters at the end, and it is named in `restarted`.
  const objects = new Map<string, Record<string, number>>();
  const restarted: string[] = [];
  for (const n of nodes) {
    const [b, e] = [before.nodes.get(n)!, after.nodes.get(n)!];
    const again =
      fellBack(b.requests_by_method, e.requests_by_method) || e.rows_read < b.rows_read || e.rows_written < b.rows_written;
    if (again) restarted.push(n);
    objects.set(n, again ? { ...e.requests_by_method } : byMethod(b.requests_by_method, e.requests_by_method));
  }
  for (const s of sentinels) {
    const [b, e] = [before.sentinels.get(s)!, after.sentinels.get(s)!];
    // The same instance counted the first snapshot's status call: its count is at least one more.
    const again = fellBack(b, e) || (e.status ?? 0) < (b.status ?? 0) + 1;
    if (again) restarted.push(`sentinel ${s}`);
    const counts = again ? { ...e } : byMethod(b, e);
    if (!again) counts.status = (counts.status ?? 0) - 1;
    if (counts.status === 0) delete counts.status;
    objects.set(`sentinel ${s}`, counts);
  }
  const nodeRequests = nodes.reduce((a, n) => a + total(objects.get(n)!), 0);
  const sentinelRequests = sentinels.reduce((a, s) => a + total(objects.get(`sentinel ${s}`)!), 0);
  const requests = nodeRequests + sentinelRequests;
  // Rows as the rows group counts them: a key kept in memory counts as written.
  const rows = (figure: "rows_read" | "rows_written") =>
    nodes.reduce((a, n) => {
      const [b, e] = [before.nodes.get(n)!, after.nodes.get(n)!];
      const since = restarted.includes(n) ? e[figure] : e[figure] - b[figure];
      return a + since + (figure === "rows_written" ? e.keys_deferred - b.keys_deferred : 0);
    }, 0);
  const perHour = (n: number) => (n / seconds) * 3600;
  const p = PRICES.cloudflare;
  const usdPerHour = (perHour(requests) * p.do_requests + perHour(rows("rows_written")) * p.rows_written + perHour(rows("rows_read")) * p.rows_read) / 1e6;
  const rate = (n: number) => round(n / seconds, 3);
  const methods = new Map<string, number>();
  for (const [object, counts] of objects)
    for (const [m, n] of Object.entries(counts)) {
      const kind = `${object.startsWith("sentinel") ? "sentinel" : "node"} ${m}`;
      methods.set(kind, (methods.get(kind) ?? 0) + n);
    }
  const listed = (entries: [string, number][]) =>
    entries
      .filter(([, n]) => n !== 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${rate(n)}`)
      .join(", ");
  bench.record("idle_cost", "flaredis", {
    window_s: round(seconds, 1),
    nodes: nodes.length,
    sentinels: sentinels.length,
    requests_per_s: rate(requests),
    node_requests_per_s: rate(nodeRequests),
    sentinel_requests_per_s: rate(sentinelRequests),
    requests_per_hour: Math.round(perHour(requests)),
    rows_written_per_hour: Math.round(perHour(rows("rows_written"))),
    rows_read_per_hour: Math.round(perHour(rows("rows_read"))),
    usd_per_month: round(usdPerHour * HOURS_PER_MONTH, 2),
    // Requests a second by object (each with its methods), and by kind of object and method.
    by_object: [...objects].map(([object, counts]) => `${object} ${rate(total(counts))}/s (${listed(Object.entries(counts)) || "none"})`).join("; "),
    by_method: listed([...methods]),
    restarted: restarted.length > 0 ? `${restarted.join(", ")} (evicted while idle: counted from their restart)` : "none",
  });
}
