/**
 * INFO text with Redis's section and field names (`# Replication`, `role:master`, ...), and the
 * keyspace figures INFO and /metrics share. A field is shown only when this node can tell it
 * truthfully: process-level fields of a Redis server (process_id, os, used_cpu_*, connected
 * clients) have no counterpart in a Durable Object and are absent rather than invented; the
 * clients a blocking command holds on the primary are counted (blocked_clients).
 */
import type { Engine, Stats } from "./engine";

/** The Redis version whose commands and replies Flaredis follows. */
export const REDIS_VERSION = "7.2.0";

/** How many keys the avg_ttl estimate looks at, at most (each costs a row or two read). */
const TTL_SAMPLE = 32;

/** The `db0` line's figures: keys, keys with a deadline, and Redis's avg_ttl estimate (ms). */
export interface KeyspaceFigures {
  readonly keys: number;
  readonly expires: number;
  readonly avgTtlMs: number;
}

/**
 * The keyspace's figures. avg_ttl is, as in Redis, an estimate: the mean remaining time to live of
 * a bounded sample of keys with a deadline. With at most TTL_SAMPLE such keys the sample is all
 * of them (exact); with more, keys at random positions of the key order, those with a deadline;
 * if none of those has one, the earliest deadlines (an underestimate, as Redis's is after a
 * cycle that sampled soon-expiring keys). Keys already past their deadline are left out (their
 * ttl is not positive), as Redis does; 0 when no key has a deadline ahead.
 */
export function keyspaceFigures(engine: Engine): KeyspaceFigures {
  const keys = engine.keyspace.keyCount;
  const expires = keys > 0 ? engine.storage.deadlines.countWithDeadline() : 0;
  return { keys, expires, avgTtlMs: expires > 0 ? averageTtl(engine, expires) : 0 };
}

function averageTtl(engine: Engine, expires: number): number {
  const store = engine.storage.keys;
  const now = engine.options.clock.now();
  const ttls: number[] = [];
  const add = (key: string | null) => {
    const at = key === null ? null : (store.get(key)?.expiresAt ?? null);
    if (at !== null && at > now) ttls.push(at - now);
  };
  if (expires > TTL_SAMPLE) for (let i = 0; i < TTL_SAMPLE; i++) add(store.random(engine.options.random.next(), engine.options.random.next()));
  if (ttls.length === 0) for (const key of engine.storage.deadlines.due(Number.MAX_SAFE_INTEGER, TTL_SAMPLE)) add(key);
  return ttls.length === 0 ? 0 : Math.round(ttls.reduce((a, b) => a + b, 0) / ttls.length);
}

/** Redis's bytesToHuman: `512B`, `1.50K`, `4.00M`, `2.00G` (powers of 1024). */
export function bytesToHuman(n: number): string {
  const units = ["K", "M", "G", "T", "P"];
  if (n < 1024) return `${n}B`;
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}

type Section = [name: string, fields: [string, string | number][]];

function sections(engine: Engine): Section[] {
  const now = engine.options.clock.now();
  const log = engine.log;
  const stats = engine.stats;
  const { keys, expires, avgTtlMs } = keyspaceFigures(engine);
  const links = engine.replication.info();
  return [
    [
      "Server",
      [
        ["redis_version", REDIS_VERSION],
        ["flaredis_node", engine.options.node ?? ""],
        ["redis_mode", "standalone"],
        ["arch_bits", 64],
        ["server_time_usec", Math.floor(now) * 1000],
        ["uptime_in_seconds", Math.floor((now - engine.startedAt) / 1000)],
        ["uptime_in_days", Math.floor((now - engine.startedAt) / 86_400_000)],
      ],
    ],
    ["Clients", [["blocked_clients", engine.options.blockedClients?.() ?? 0]]],
    [
      "Memory",
      [
        // The dataset's estimate (sizes.ts), what maxmemory bounds: not the isolate's heap.
        ["used_memory", engine.keyspace.usedBytes],
        ["used_memory_human", bytesToHuman(engine.keyspace.usedBytes)],
        ["used_memory_dataset", engine.keyspace.usedBytes],
        ["used_memory_hot_cache", engine.keyspace.cacheBytes],
        ["maxmemory", engine.config.maxmemory],
        ["maxmemory_human", bytesToHuman(engine.config.maxmemory)],
        ["maxmemory_policy", engine.config["maxmemory-policy"]],
        // This node's Lua: EVAL's VM and cache, the functions' VM and libraries (Redis 7.0's names).
        ...scriptingMemory(engine),
      ],
    ],
    [
      "Persistence",
      [
        // A replica whose full sync is under way, or whose keyspace is not yet consistent.
        ["loading", links.loading ? 1 : 0],
        ["async_loading", 0],
        // Every commit is durable in SQLite before it is acknowledged: nothing waits for a save.
        ["rdb_changes_since_last_save", 0],
        ["rdb_bgsave_in_progress", 0],
        ["aof_enabled", 0],
        ["aof_rewrite_in_progress", 0],
      ],
    ],
    [
      "Stats",
      [
        ["total_commands_processed", stats.commandsProcessed],
        ["sync_full", stats.syncFull],
        ["sync_partial_ok", stats.syncPartialOk],
        ["sync_partial_err", stats.syncPartialErr],
        ["expired_subkeys", stats.expiredSubkeys],
        ["expired_keys", stats.expiredKeys],
        ["evicted_keys", stats.evictedKeys],
        ["keyspace_hits", stats.keyspaceHits],
        ["keyspace_misses", stats.keyspaceMisses],
      ],
    ],
    [
      "Replication",
      [
        ["role", engine.role],
        ...links.master,
        ["connected_slaves", links.slaves.length],
        ...links.slaves.map((s, i): [string, string] => [`slave${i}`, s]),
        ["master_failover_state", links.failoverState],
        ["master_replid", log.replid],
        ["master_replid2", log.replid2],
        ["master_repl_offset", log.offset],
        ["second_repl_offset", log.secondOffset],
        ["repl_backlog_active", 1],
        ["repl_backlog_size", log.backlogBytes],
        ["repl_backlog_first_byte_offset", log.backlog.firstByteOffset],
        ["repl_backlog_histlen", log.backlog.histlen],
      ],
    ],
    ["Keyspace", keys > 0 ? [["db0", `keys=${keys},expires=${expires},avg_ttl=${avgTtlMs}`]] : []],
  ];
}

/** Renders the named sections (all for none, `all` or `everything`), CRLF-separated as Redis does. */
export function renderInfo(engine: Engine, wanted: readonly string[]): string {
  const names = wanted.map((s) => s.toLowerCase());
  const all = names.length === 0 || names.some((n) => n === "all" || n === "everything" || n === "default");
  return sections(engine)
    .filter(([name]) => all || names.includes(name.toLowerCase()))
    .map(([name, fields]) => [`# ${name}`, ...fields.map(([k, v]) => `${k}:${v}`)].join("\r\n") + "\r\n")
    .join("\r\n");
}

/** CONFIG RESETSTAT: every counter of `stats` back to 0. */
export function resetStats(stats: Stats): void {
  for (const name of Object.keys(stats) as (keyof Stats)[]) stats[name] = 0;
}

/** INFO memory's scripting fields, as Redis 7.0 names them: this node's VMs' heaps, EVAL's cache, the function libraries. */
function scriptingMemory(engine: Engine): [string, string | number][] {
  const scripts = engine.scripts.memory();
  const functions = engine.functions.memory();
  const vmTotal = scripts.vmBytes + functions.vmBytes;
  return [
    ["used_memory_lua", scripts.vmBytes],
    ["used_memory_vm_eval", scripts.vmBytes],
    ["used_memory_lua_human", bytesToHuman(scripts.vmBytes)],
    ["used_memory_scripts_eval", scripts.bytes],
    ["number_of_cached_scripts", scripts.scripts],
    ["number_of_functions", functions.functions],
    ["number_of_libraries", functions.libraries],
    ["used_memory_vm_functions", functions.vmBytes],
    ["used_memory_vm_total", vmTotal],
    ["used_memory_vm_total_human", bytesToHuman(vmTotal)],
    ["used_memory_functions", functions.bytes],
    ["used_memory_scripts", scripts.bytes + functions.bytes],
    ["used_memory_scripts_human", bytesToHuman(scripts.bytes + functions.bytes)],
  ];
}
