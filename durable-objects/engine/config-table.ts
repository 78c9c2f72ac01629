/**
 * Every parameter that redis-server 7.0's `CONFIG GET *` lists (aliases in ALIASES), with its
 * default and its kind: how CONFIG SET reads a value and which error refuses one. Derived from
 * what redis-server 7.0.15 answered (test/data/redis-config.json, captured by
 * test/data/capture-redis-config.mjs); test/engine/config-table.test.ts holds this table to that fixture.
 * Flaredis's own values replace the capturing server's for port, dir, save, bind, databases (one),
 * appendonly and appendfsync (every acknowledged write is committed: "yes", "always"), as the
 * proxy answers them. Which parameters change what Flaredis does is config.ts's; the rest are
 * kept, replicated and reported.
 */

/** How CONFIG SET reads a parameter's value. */
export type Kind =
  | { readonly type: "bool" | "text" | "special" | "immutable" | "protected" }
  | { readonly type: "integer" | "memory"; readonly min: bigint; readonly max: bigint }
  | { readonly type: "enum"; readonly values: readonly string[] };

export const INT_MIN = -(2n ** 31n);
export const INT_MAX = 2n ** 31n - 1n;
export const UINT_MAX = 2n ** 32n - 1n;
export const LLONG_MIN = -(2n ** 63n);
export const LLONG_MAX = 2n ** 63n - 1n;
export const ULLONG_MAX = 2n ** 64n - 1n;

const BOOL: Kind = { type: "bool" };
/** Any text (Redis's string and sds parameters). */
const TEXT: Kind = { type: "text" };
/** Read by a parser of its own (config.ts `parseSpecial`). */
const SPECIAL: Kind = { type: "special" };
/** Set only at start-up: CONFIG SET answers "can't set immutable config". */
const IMMUTABLE: Kind = { type: "immutable" };
/** Behind enable-protected-configs, which is off: "can't set protected config". */
const PROTECTED: Kind = { type: "protected" };
const integer = (min: bigint, max: bigint): Kind => ({ type: "integer", min, max });
const memory = (min: bigint, max: bigint): Kind => ({ type: "memory", min, max });
const oneOf = (...values: string[]): Kind => ({ type: "enum", values });

/** Each parameter: its default, as CONFIG GET shows it, and its kind. */
export const PARAMETERS: ReadonlyMap<string, readonly [string, Kind]> = new Map<string, readonly [string, Kind]>([
  ["acl-pubsub-default", ["resetchannels", oneOf("allchannels", "resetchannels")]],
  ["aclfile", ["", IMMUTABLE]],
  ["acllog-max-len", ["128", integer(0n, LLONG_MAX)]],
  ["active-defrag-cycle-max", ["25", integer(1n, 99n)]],
  ["active-defrag-cycle-min", ["1", integer(1n, 99n)]],
  ["active-defrag-ignore-bytes", ["104857600", memory(1n, LLONG_MAX)]],
  ["active-defrag-max-scan-fields", ["1000", integer(1n, LLONG_MAX)]],
  ["active-defrag-threshold-lower", ["10", integer(0n, 1000n)]],
  ["active-defrag-threshold-upper", ["100", integer(0n, 1000n)]],
  ["active-expire-effort", ["1", integer(1n, 10n)]],
  ["activedefrag", ["no", BOOL]],
  ["activerehashing", ["yes", BOOL]],
  ["always-show-logo", ["no", IMMUTABLE]],
  ["aof-disable-auto-gc", ["no", BOOL]],
  ["aof-load-truncated", ["yes", BOOL]],
  ["aof-rewrite-incremental-fsync", ["yes", BOOL]],
  ["aof-timestamp-enabled", ["no", BOOL]],
  ["aof-use-rdb-preamble", ["yes", BOOL]],
  ["aof_rewrite_cpulist", ["", IMMUTABLE]],
  ["appenddirname", ["appendonlydir", IMMUTABLE]],
  ["appendfilename", ["appendonly.aof", IMMUTABLE]],
  ["appendfsync", ["always", oneOf("everysec", "always", "no")]],
  ["appendonly", ["yes", BOOL]],
  ["auto-aof-rewrite-min-size", ["67108864", memory(0n, LLONG_MAX)]],
  ["auto-aof-rewrite-percentage", ["100", integer(0n, INT_MAX)]],
  ["bgsave_cpulist", ["", IMMUTABLE]],
  ["bind", ["* -::*", SPECIAL]],
  ["bind-source-addr", ["", TEXT]],
  ["bio_cpulist", ["", IMMUTABLE]],
  ["busy-reply-threshold", ["5000", integer(0n, LLONG_MAX)]],
  ["client-output-buffer-limit", ["normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", SPECIAL]],
  ["client-query-buffer-limit", ["1073741824", memory(1048576n, LLONG_MAX)]],
  ["cluster-allow-pubsubshard-when-down", ["yes", BOOL]],
  ["cluster-allow-reads-when-down", ["no", BOOL]],
  ["cluster-allow-replica-migration", ["yes", BOOL]],
  ["cluster-announce-bus-port", ["0", integer(0n, 65535n)]],
  ["cluster-announce-hostname", ["", TEXT]],
  ["cluster-announce-ip", ["", TEXT]],
  ["cluster-announce-port", ["0", integer(0n, 65535n)]],
  ["cluster-announce-tls-port", ["0", integer(0n, 65535n)]],
  ["cluster-config-file", ["nodes.conf", IMMUTABLE]],
  ["cluster-enabled", ["no", IMMUTABLE]],
  ["cluster-link-sendbuf-limit", ["0", memory(0n, ULLONG_MAX)]],
  ["cluster-migration-barrier", ["1", integer(0n, INT_MAX)]],
  ["cluster-node-timeout", ["15000", integer(0n, LLONG_MAX)]],
  ["cluster-port", ["0", IMMUTABLE]],
  ["cluster-preferred-endpoint-type", ["ip", oneOf("ip", "hostname", "unknown-endpoint")]],
  ["cluster-replica-no-failover", ["no", BOOL]],
  ["cluster-replica-validity-factor", ["10", integer(0n, INT_MAX)]],
  ["cluster-require-full-coverage", ["yes", BOOL]],
  ["crash-log-enabled", ["yes", BOOL]],
  ["crash-memcheck-enabled", ["yes", BOOL]],
  ["daemonize", ["no", IMMUTABLE]],
  ["databases", ["1", IMMUTABLE]],
  ["dbfilename", ["dump.rdb", PROTECTED]],
  ["dir", ["/", PROTECTED]],
  ["disable-thp", ["yes", IMMUTABLE]],
  ["dynamic-hz", ["yes", BOOL]],
  ["enable-debug-command", ["no", IMMUTABLE]],
  ["enable-module-command", ["no", IMMUTABLE]],
  ["enable-protected-configs", ["no", IMMUTABLE]],
  ["hash-max-listpack-entries", ["512", integer(0n, LLONG_MAX)]],
  ["hash-max-listpack-value", ["64", memory(0n, LLONG_MAX)]],
  ["hll-sparse-max-bytes", ["3000", memory(0n, LLONG_MAX)]],
  ["hz", ["10", integer(0n, INT_MAX)]],
  ["ignore-warnings", ["", TEXT]],
  ["io-threads", ["1", IMMUTABLE]],
  ["io-threads-do-reads", ["no", IMMUTABLE]],
  ["jemalloc-bg-thread", ["yes", BOOL]],
  ["latency-monitor-threshold", ["0", integer(0n, LLONG_MAX)]],
  ["latency-tracking", ["yes", BOOL]],
  ["latency-tracking-info-percentiles", ["50 99 99.9", SPECIAL]],
  ["lazyfree-lazy-eviction", ["no", BOOL]],
  ["lazyfree-lazy-expire", ["no", BOOL]],
  ["lazyfree-lazy-server-del", ["no", BOOL]],
  ["lazyfree-lazy-user-del", ["no", BOOL]],
  ["lazyfree-lazy-user-flush", ["no", BOOL]],
  ["lfu-decay-time", ["1", integer(0n, INT_MAX)]],
  ["lfu-log-factor", ["10", integer(0n, INT_MAX)]],
  ["list-compress-depth", ["0", integer(0n, INT_MAX)]],
  ["list-max-listpack-size", ["-2", integer(INT_MIN, INT_MAX)]],
  ["logfile", ["", IMMUTABLE]],
  ["loglevel", ["notice", oneOf("debug", "verbose", "notice", "warning")]],
  ["masterauth", ["", TEXT]],
  ["masteruser", ["", TEXT]],
  ["maxclients", ["10000", integer(1n, UINT_MAX)]],
  ["maxmemory", ["0", memory(0n, ULLONG_MAX)]],
  ["maxmemory-clients", ["0", SPECIAL]],
  ["maxmemory-eviction-tenacity", ["10", integer(0n, 100n)]],
  ["maxmemory-policy", ["noeviction", oneOf("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")]],
  ["maxmemory-samples", ["5", integer(1n, INT_MAX)]],
  ["min-replicas-max-lag", ["10", integer(0n, INT_MAX)]],
  ["min-replicas-to-write", ["0", integer(0n, INT_MAX)]],
  ["no-appendfsync-on-rewrite", ["no", BOOL]],
  ["notify-keyspace-events", ["", SPECIAL]],
  ["oom-score-adj", ["no", oneOf("no", "yes", "relative", "absolute")]],
  ["oom-score-adj-values", ["0 200 800", SPECIAL]],
  ["pidfile", ["", IMMUTABLE]],
  ["port", ["6379", integer(0n, 65535n)]],
  ["proc-title-template", ["{title} {listen-addr} {server-mode}", TEXT]],
  ["propagation-error-behavior", ["ignore", oneOf("ignore", "panic", "panic-on-replicas")]],
  ["protected-mode", ["yes", BOOL]],
  ["proto-max-bulk-len", ["536870912", memory(1048576n, LLONG_MAX)]],
  ["rdb-del-sync-files", ["no", BOOL]],
  ["rdb-save-incremental-fsync", ["yes", BOOL]],
  ["rdbchecksum", ["yes", IMMUTABLE]],
  ["rdbcompression", ["yes", BOOL]],
  ["repl-backlog-size", ["1048576", memory(1n, LLONG_MAX)]],
  ["repl-backlog-ttl", ["3600", integer(0n, LLONG_MAX)]],
  ["repl-disable-tcp-nodelay", ["no", BOOL]],
  ["repl-diskless-load", ["disabled", oneOf("disabled", "on-empty-db", "swapdb")]],
  ["repl-diskless-sync", ["yes", BOOL]],
  ["repl-diskless-sync-delay", ["5", integer(0n, INT_MAX)]],
  ["repl-diskless-sync-max-replicas", ["0", integer(0n, INT_MAX)]],
  ["repl-ping-replica-period", ["10", integer(1n, INT_MAX)]],
  ["repl-timeout", ["60", integer(1n, INT_MAX)]],
  ["replica-announce-ip", ["", TEXT]],
  ["replica-announce-port", ["0", integer(0n, 65535n)]],
  ["replica-announced", ["yes", BOOL]],
  ["replica-ignore-disk-write-errors", ["no", BOOL]],
  ["replica-ignore-maxmemory", ["yes", BOOL]],
  ["replica-lazy-flush", ["no", BOOL]],
  ["replica-priority", ["100", integer(0n, INT_MAX)]],
  ["replica-read-only", ["yes", BOOL]],
  ["replica-serve-stale-data", ["yes", BOOL]],
  ["replicaof", ["", IMMUTABLE]],
  ["requirepass", ["", TEXT]],
  ["sanitize-dump-payload", ["no", oneOf("no", "yes", "clients")]],
  ["save", ["", SPECIAL]],
  ["server_cpulist", ["", IMMUTABLE]],
  ["set-max-intset-entries", ["512", integer(0n, LLONG_MAX)]],
  ["set-proc-title", ["yes", IMMUTABLE]],
  ["shutdown-on-sigint", ["default", oneOf("default", "save", "nosave", "now", "force")]],
  ["shutdown-on-sigterm", ["default", oneOf("default", "save", "nosave", "now", "force")]],
  ["shutdown-timeout", ["10", integer(0n, INT_MAX)]],
  ["slaveof", ["", IMMUTABLE]],
  ["slowlog-log-slower-than", ["10000", integer(-1n, LLONG_MAX)]],
  ["slowlog-max-len", ["128", integer(0n, LLONG_MAX)]],
  ["socket-mark-id", ["0", IMMUTABLE]],
  ["stop-writes-on-bgsave-error", ["yes", BOOL]],
  ["stream-node-max-bytes", ["4096", memory(0n, LLONG_MAX)]],
  ["stream-node-max-entries", ["100", integer(0n, LLONG_MAX)]],
  ["supervised", ["no", IMMUTABLE]],
  ["syslog-enabled", ["no", IMMUTABLE]],
  ["syslog-facility", ["local0", IMMUTABLE]],
  ["syslog-ident", ["redis", IMMUTABLE]],
  ["tcp-backlog", ["511", IMMUTABLE]],
  ["tcp-keepalive", ["300", integer(0n, INT_MAX)]],
  ["timeout", ["0", integer(0n, INT_MAX)]],
  ["tls-auth-clients", ["yes", oneOf("no", "yes", "optional")]],
  ["tls-ca-cert-dir", ["", TEXT]],
  ["tls-ca-cert-file", ["", TEXT]],
  ["tls-cert-file", ["", TEXT]],
  ["tls-ciphers", ["", TEXT]],
  ["tls-ciphersuites", ["", TEXT]],
  ["tls-client-cert-file", ["", TEXT]],
  ["tls-client-key-file", ["", TEXT]],
  ["tls-client-key-file-pass", ["", TEXT]],
  ["tls-cluster", ["no", BOOL]],
  ["tls-dh-params-file", ["", TEXT]],
  ["tls-key-file", ["", TEXT]],
  ["tls-key-file-pass", ["", TEXT]],
  ["tls-port", ["0", integer(0n, 65535n)]],
  ["tls-prefer-server-ciphers", ["no", BOOL]],
  ["tls-protocols", ["", TEXT]],
  ["tls-replication", ["no", BOOL]],
  ["tls-session-cache-size", ["20480", integer(0n, INT_MAX)]],
  ["tls-session-cache-timeout", ["300", integer(0n, INT_MAX)]],
  ["tls-session-caching", ["yes", BOOL]],
  ["tracking-table-max-keys", ["1000000", integer(0n, LLONG_MAX)]],
  ["unixsocket", ["", IMMUTABLE]],
  ["unixsocketperm", ["0", IMMUTABLE]],
  ["zset-max-listpack-entries", ["128", integer(0n, LLONG_MAX)]],
  ["zset-max-listpack-value", ["64", memory(0n, LLONG_MAX)]],
]);

/** Redis's other names of parameters (the old ones): each reads and sets the one it names. */
export const ALIASES: ReadonlyMap<string, string> = new Map([
  ["cluster-slave-no-failover", "cluster-replica-no-failover"],
  ["cluster-slave-validity-factor", "cluster-replica-validity-factor"],
  ["hash-max-ziplist-entries", "hash-max-listpack-entries"],
  ["hash-max-ziplist-value", "hash-max-listpack-value"],
  ["list-max-ziplist-size", "list-max-listpack-size"],
  ["lua-time-limit", "busy-reply-threshold"],
  ["min-slaves-max-lag", "min-replicas-max-lag"],
  ["min-slaves-to-write", "min-replicas-to-write"],
  ["repl-ping-slave-period", "repl-ping-replica-period"],
  ["slave-announce-ip", "replica-announce-ip"],
  ["slave-announce-port", "replica-announce-port"],
  ["slave-ignore-maxmemory", "replica-ignore-maxmemory"],
  ["slave-lazy-flush", "replica-lazy-flush"],
  ["slave-priority", "replica-priority"],
  ["slave-read-only", "replica-read-only"],
  ["slave-serve-stale-data", "replica-serve-stale-data"],
  ["zset-max-ziplist-entries", "zset-max-listpack-entries"],
  ["zset-max-ziplist-value", "zset-max-listpack-value"],
]);

/**
 * Redis 7.0's hidden parameters (config.c's HIDDEN_CONFIG, for its tests): CONFIG GET answers
 * them by exact name only (no glob lists them), CONFIG SET takes them. No effect here.
 */
export const HIDDEN: ReadonlyMap<string, readonly [string, Kind]> = new Map<string, readonly [string, Kind]>([
  ["key-load-delay", ["0", integer(INT_MIN, INT_MAX)]],
  ["loading-process-events-interval-bytes", ["2097152", integer(1024n, INT_MAX)]],
  ["rdb-key-save-delay", ["0", integer(INT_MIN, INT_MAX)]],
  ["use-exit-on-panic", ["no", BOOL]],
  ["watchdog-period", ["0", integer(0n, INT_MAX)]],
]);
