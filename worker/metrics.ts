/**
 * GET /metrics: every node's figures (and the sentinels') in one scrape, in Prometheus's text
 * exposition format. Names follow redis_exporter (oliver006/redis_exporter) where it has one, so
 * its Grafana dashboards work; Flaredis's own figures are `flaredis_*`. Every node sample carries
 * the labels `node` (its region) and `role` (`master` or `slave`, as INFO says).
 *
 * The worker only asks and formats: each node answers `metrics()` (its status and INFO's
 * counters), each sentinel `status()`, all in parallel and each bounded in time. A node that does
 * not answer is `redis_up{...} 0` and has no other sample; the others are scraped as usual.
 *
 * Access: the admin token, or the metrics token (`FLAREDIS_METRICS_TOKEN`, a secret that can read
 * nothing else), so a Prometheus server never holds a token that can run commands.
 */
import type { NodeMetrics } from "../durable-objects/protocol/node-api";
import type { SentinelStatus } from "../durable-objects/protocol/sentinel-api";
import { sentinelsOf } from "../durable-objects/protocol/topology";
import { REDIS_VERSION } from "../durable-objects/engine/info";
import { authenticate, tokenOf } from "./auth";
import { type Env, nodeStub, sentinelStub } from "./env";
import { RequestError } from "./errors";
import { routerFor } from "./routing";
import { slotMapOf } from "./slot-map";
import { objectName } from "../durable-objects/protocol/shards";

/** How long a scrape waits for one node or sentinel; past it, that one counts as down. */
const SCRAPE_TIMEOUT_MS = 5000;

type Type = "gauge" | "counter";

/** Every metric family, in the order of the exposition: its type and HELP text. */
const FAMILIES = {
  redis_up: ["gauge", "Whether the node answered this scrape (1) or not (0)."],
  redis_instance_info: ["gauge", "Information about the node, as labels (always 1)."],
  redis_uptime_in_seconds: ["gauge", "Seconds since the node (re)started."],
  redis_loading_dump_file: ["gauge", "1 while a replica's full sync is under way or its keyspace not yet consistent (INFO loading)."],
  redis_commands_processed_total: ["counter", "Commands run since the node started (INFO total_commands_processed)."],
  redis_commands_total: ["counter", "Calls per command since the node started."],
  redis_keyspace_hits_total: ["counter", "Key lookups that found the key."],
  redis_keyspace_misses_total: ["counter", "Key lookups that did not find the key."],
  redis_expired_keys_total: ["counter", "Keys removed because their deadline passed."],
  redis_evicted_keys_total: ["counter", "Keys evicted for maxmemory."],
  redis_db_keys: ["gauge", "Keys in the database."],
  redis_db_keys_expiring: ["gauge", "Keys with a deadline."],
  redis_db_avg_ttl_seconds: ["gauge", "Estimated mean time to live of the keys with a deadline (INFO avg_ttl)."],
  redis_connected_slaves: ["gauge", "Replicas whose link is up or whose full sync is loading (INFO connected_slaves)."],
  redis_master_repl_offset: ["gauge", "The node's replication offset, in bytes of the stream."],
  redis_connected_slave_offset_bytes: ["gauge", "Offset each connected replica acknowledged, as its master sees it."],
  redis_connected_slave_lag_seconds: ["gauge", "Each connected replica's lag: 0 when it has acknowledged everything, else the time since its last ACK."],
  redis_replication_backlog_bytes: ["gauge", "repl-backlog-size."],
  redis_repl_backlog_history_bytes: ["gauge", "Bytes of stream held in the backlog (INFO repl_backlog_histlen)."],
  redis_replica_resyncs_full: ["gauge", "Full syncs served to replicas since the node started (INFO sync_full)."],
  redis_replica_partial_resync_accepted: ["gauge", "Partial resyncs accepted since the node started (INFO sync_partial_ok)."],
  redis_replica_partial_resync_denied: ["gauge", "Partial resyncs denied since the node started (INFO sync_partial_err)."],
  redis_master_link_up: ["gauge", "On a replica: its link to the master is up (INFO master_link_status)."],
  redis_master_sync_in_progress: ["gauge", "On a replica: a full sync is in progress or not yet consistent."],
  flaredis_sync_full_total: ["counter", "Full syncs served to replicas since the node started."],
  flaredis_sync_partial_ok_total: ["counter", "Partial resyncs accepted since the node started."],
  flaredis_sync_partial_err_total: ["counter", "Partial resyncs denied since the node started."],
  // In seconds, not ms: Prometheus wants base units (promtool refuses `_ms`).
  flaredis_replication_lag_seconds: ["gauge", "Each replica's lag as its master sees it: 0 when it has acknowledged everything, else the time since its last ACK (the admin topology's lag_ms)."],
  flaredis_replica_link_up: ["gauge", "Each configured replica's link, as its master sees it."],
  flaredis_replica_entries_shipped_total: ["counter", "Log entries the master sent each replica since it started."],
  flaredis_staleness_seconds: ["gauge", "On a replica: the time since it last had everything its master announced (Flaredis-Staleness)."],
  flaredis_topology_epoch: ["gauge", "The newest topology epoch the node knows."],
  flaredis_master_failover_state: ["gauge", "The node's master_failover_state, as a label (always 1)."],
  flaredis_storage_rows_read_total: ["counter", "SQLite rows read since the node started, as Cloudflare bills them."],
  flaredis_storage_rows_written_total: ["counter", "SQLite rows written since the node started, as Cloudflare bills them."],
  flaredis_storage_database_bytes: ["gauge", "Size of the node's SQLite database."],
  flaredis_storage_keys_deferred: ["gauge", "Keys written and held in memory, in the replication log, not yet stored in the keyspace table."],
  flaredis_sentinel_up: ["gauge", "Whether the sentinel answered this scrape."],
  flaredis_sentinel_epoch: ["gauge", "The sentinel's current epoch."],
  flaredis_sentinel_master_odown: ["gauge", "The sentinel counts the master objectively down."],
  flaredis_sentinel_failover_in_progress: ["gauge", "The sentinel leads a failover now."],
} as const satisfies Record<string, readonly [Type, string]>;

export type MetricName = keyof typeof FAMILIES;
/** Every name /metrics may expose. */
export const METRIC_NAMES = Object.keys(FAMILIES) as MetricName[];

type Labels = Readonly<Record<string, string>>;

/** Samples grouped by family, so that each family's samples follow its HELP and TYPE lines. */
class Exposition {
  private readonly samples = new Map<MetricName, string[]>();

  add(name: MetricName, labels: Labels, value: number): void {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    const line = `${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`;
    const list = this.samples.get(name);
    if (list) list.push(line);
    else this.samples.set(name, [line]);
  }

  text(): string {
    const out: string[] = [];
    for (const name of METRIC_NAMES) {
      const lines = this.samples.get(name);
      if (!lines) continue;
      const [type, help] = FAMILIES[name];
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    }
    return out.join("\n") + "\n";
  }
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const formatValue = (v: number) => (Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v));

/** `work`, or a rejection after `ms` (the call goes on; its answer is dropped). */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const encoder = new TextEncoder();
const sha256 = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text));

/**
 * Lets a scrape through with the metrics token or the admin token.
 * @throws 401 WRONGPASS without a known token, 403 NOPERM for another token, 503 unconfigured.
 */
async function authorize(request: Request, env: Env): Promise<void> {
  const token = tokenOf(request);
  const metricsToken = env.FLAREDIS_METRICS_TOKEN;
  if (token !== null && metricsToken) {
    const [given, expected] = await Promise.all([sha256(token), sha256(metricsToken)]);
    if (crypto.subtle.timingSafeEqual(given, expected)) return;
  }
  if ((await authenticate(request, env)) !== "admin")
    throw new RequestError("NOPERM this user has no permissions to read /metrics (the admin or the metrics token)", 403);
}

/**
 * One node's samples; a node that did not answer has `redis_up 0` only. `named` gives a node of
 * its shard its label (`enam`, `enam.2`: protocol/shards.ts).
 */
function addNode(out: Exposition, node: string, configuredRole: string, m: NodeMetrics | null, named: (region: string) => string = (r) => r): void {
  if (m === null) {
    out.add("redis_up", { node, role: configuredRole }, 0);
    return;
  }
  const { status, stats } = m;
  const at = { node, role: status.role };
  const db = { ...at, db: "db0" };
  out.add("redis_up", at, 1);
  out.add("redis_instance_info", { ...at, redis_version: REDIS_VERSION, redis_mode: "standalone" }, 1);
  out.add("redis_uptime_in_seconds", at, m.uptimeSeconds);
  out.add("redis_loading_dump_file", at, m.loading ? 1 : 0);
  out.add("redis_commands_processed_total", at, stats.commandsProcessed);
  for (const [cmd, calls] of Object.entries(m.commands).sort()) out.add("redis_commands_total", { ...at, cmd }, calls);
  out.add("redis_keyspace_hits_total", at, stats.keyspaceHits);
  out.add("redis_keyspace_misses_total", at, stats.keyspaceMisses);
  out.add("redis_expired_keys_total", at, stats.expiredKeys);
  out.add("redis_evicted_keys_total", at, stats.evictedKeys);
  out.add("redis_db_keys", db, m.keyspace.keys);
  out.add("redis_db_keys_expiring", db, m.keyspace.expires);
  out.add("redis_db_avg_ttl_seconds", db, m.keyspace.avgTtlMs / 1000);
  out.add("redis_connected_slaves", at, m.connectedSlaves);
  out.add("redis_master_repl_offset", at, status.offset);
  for (const r of status.replicas) {
    const replica = { ...at, replica: named(r.node) };
    if (r.link === "up") {
      const slave = { ...at, slave_ip: named(r.node), slave_port: "0", slave_state: "online" };
      out.add("redis_connected_slave_offset_bytes", slave, r.offset);
      out.add("redis_connected_slave_lag_seconds", slave, Math.max(0, r.lag_ms) / 1000);
    }
    if (r.lag_ms >= 0) out.add("flaredis_replication_lag_seconds", replica, r.lag_ms / 1000);
    out.add("flaredis_replica_link_up", replica, r.link === "up" ? 1 : 0);
    out.add("flaredis_replica_entries_shipped_total", replica, r.entries_shipped);
  }
  out.add("redis_replication_backlog_bytes", at, m.backlog.bytes);
  out.add("redis_repl_backlog_history_bytes", at, m.backlog.histlen);
  out.add("redis_replica_resyncs_full", at, stats.syncFull);
  out.add("redis_replica_partial_resync_accepted", at, stats.syncPartialOk);
  out.add("redis_replica_partial_resync_denied", at, stats.syncPartialErr);
  out.add("flaredis_sync_full_total", at, stats.syncFull);
  out.add("flaredis_sync_partial_ok_total", at, stats.syncPartialOk);
  out.add("flaredis_sync_partial_err_total", at, stats.syncPartialErr);
  if (status.role === "slave") {
    const master = { ...at, master_host: named(status.topology.primary), master_port: "0" };
    out.add("redis_master_link_up", master, status.linkUp ? 1 : 0);
    out.add("redis_master_sync_in_progress", master, m.loading ? 1 : 0);
    // Never fresh yet (no contact since it started): no figure rather than an invented one.
    if (status.staleness !== null && status.staleness < Number.MAX_SAFE_INTEGER) out.add("flaredis_staleness_seconds", at, status.staleness / 1000);
  }
  out.add("flaredis_topology_epoch", at, status.topology.epoch);
  out.add("flaredis_master_failover_state", { ...at, state: status.failoverState }, 1);
  out.add("flaredis_storage_rows_read_total", at, m.storage.rows_read);
  out.add("flaredis_storage_rows_written_total", at, m.storage.rows_written);
  out.add("flaredis_storage_database_bytes", at, m.storage.database_bytes);
  out.add("flaredis_storage_keys_deferred", at, m.storage.keys_deferred);
}

function addSentinel(out: Exposition, sentinel: string, s: SentinelStatus | null, named: (region: string) => string = (r) => r): void {
  out.add("flaredis_sentinel_up", { sentinel }, s ? 1 : 0);
  if (!s) return;
  out.add("flaredis_sentinel_epoch", { sentinel }, s.epoch);
  out.add("flaredis_sentinel_master_odown", { sentinel, master: named(s.topology.primary) }, s.odown ? 1 : 0);
  out.add("flaredis_sentinel_failover_in_progress", { sentinel }, s.failover ? 1 : 0);
}

/** The configured sentinels' regions (none when FLAREDIS_SENTINELS is "" or unusable). */
function sentinelRegions(env: Env): readonly string[] {
  try {
    return sentinelsOf(env).sentinels;
  } catch {
    return [];
  }
}

/** Answers GET /metrics (see the module's comment): every shard's nodes and sentinels, labelled by object name. */
export async function scrape(request: Request, env: Env): Promise<Response> {
  await authorize(request, env);
  const settled = <T>(work: () => Promise<T>) => within(SCRAPE_TIMEOUT_MS, work()).catch(() => null);
  const sentinels = sentinelRegions(env);
  const shards = await Promise.all(
    slotMapOf(env).shards.map(async (shard) => {
      const router = routerFor(env, shard);
      const { primary, replicas } = router.currentTopology();
      const nodes = [primary, ...replicas];
      const [nodeAnswers, sentinelAnswers] = await Promise.all([
        Promise.all(nodes.map((n) => settled(() => nodeStub(env, n, shard).metrics()))),
        Promise.all(sentinels.map((s) => settled(() => sentinelStub(env, s, shard).status()))),
      ]);
      for (const m of nodeAnswers) if (m) router.learnTopology(m.status.topology);
      return { shard, primary, nodes, nodeAnswers, sentinelAnswers };
    }),
  );
  const out = new Exposition();
  for (const { shard, primary, nodes, nodeAnswers, sentinelAnswers } of shards) {
    const named = (region: string) => objectName(shard, region);
    nodes.forEach((n, i) => addNode(out, named(n), n === primary ? "master" : "slave", nodeAnswers[i]!, named));
    sentinels.forEach((s, i) => addSentinel(out, named(s), sentinelAnswers[i]!, named));
  }
  return new Response(out.text(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
}
