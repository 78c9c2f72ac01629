/** INFO text with Redis's section and field names (`# Replication`, `role:master`, ...). */
import type { Engine } from "./engine";

const VERSION = "7.2.0";

type Section = [name: string, fields: [string, string | number][]];

function sections(engine: Engine): Section[] {
  const now = engine.options.clock.now();
  const log = engine.log;
  const stats = engine.stats;
  const keys = engine.keyspace.keyCount;
  const withDeadline = engine.storage.keys.countWithDeadline();
  const links = engine.replication.info();
  return [
    [
      "Server",
      [
        ["redis_version", VERSION],
        ["flaredis_node", engine.options.node ?? ""],
        ["redis_mode", "standalone"],
        ["arch_bits", 64],
        ["uptime_in_seconds", Math.floor((now - engine.startedAt) / 1000)],
        ["uptime_in_days", Math.floor((now - engine.startedAt) / 86_400_000)],
      ],
    ],
    [
      "Memory",
      [
        ["used_memory_hot_cache", engine.keyspace.cacheBytes],
        ["maxmemory", engine.config.maxmemory],
        ["maxmemory_policy", engine.config["maxmemory-policy"]],
      ],
    ],
    [
      "Persistence",
      [
        ["loading", 0],
        ["aof_enabled", 0],
        ["rdb_changes_since_last_save", 0],
      ],
    ],
    [
      "Stats",
      [
        ["total_commands_processed", stats.commandsProcessed],
        ["sync_full", stats.syncFull],
        ["sync_partial_ok", stats.syncPartialOk],
        ["sync_partial_err", stats.syncPartialErr],
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
    ["Keyspace", keys > 0 ? [["db0", `keys=${keys},expires=${withDeadline},avg_ttl=0`]] : []],
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
