/**
 * Redis's top-level commands that Flaredis does not serve, each with its reason (README, Limits):
 * they answer `ERR <NAME> is not supported by Flaredis (<reason>)` when admitted, so a client learns
 * why, where an unknown name gets Redis's `unknown command`. test/engine/command-table.test.ts checks that
 * every command redis-server 7.0 lists is served or here.
 */
const GROUPS: readonly (readonly [string, readonly string[]])[] = [
  ["a transaction is one request: POST /multi-exec, which the RESP proxy and the CLI send for MULTI ... EXEC", ["multi", "exec", "discard"]],
  [
    "a subscription is a Server-Sent Events response: POST /subscribe/<channel> or /psubscribe/<pattern> with Accept: text/event-stream (the HTTP API keeps no connection)",
    ["subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ssubscribe", "sunsubscribe"],
  ],
  ["keys move between Redis Cluster nodes with it; Flaredis is one keyspace (DUMP and RESTORE are served)", ["restore-asking", "migrate"]],
  ["the HTTP API keeps no connection: a request carries its token (the RESP proxy answers the handshake)", ["hello", "auth", "client", "quit", "reset", "readonly", "readwrite", "asking"]],
  ["SAVE, BGSAVE and LASTSAVE make and list backups: send each alone in a request, with the admin token", ["save", "bgsave", "lastsave"]],
  ["every acknowledged write is already durable in the nodes' SQLite storage", ["bgrewriteaof", "shutdown", "waitaof"]],
  ["the topology changes through the admin API (POST /admin/failover)", ["replicaof", "slaveof"]],
  ["FAILOVER switches the primary through the sentinels: send it alone in a request, with the admin token", ["failover"]],
  ["replication runs between the nodes, not over the public API", ["sync", "psync", "replconf"]],
  ["a Worker's clock does not move while a command runs: there are no durations to record", ["slowlog", "latency"]],
  ["modules cannot be loaded into a Worker", ["module"]],
  ["not served", ["monitor", "debug", "lolwut"]],
];

/** Command name (lowercase) → why Flaredis does not serve it. */
export const REFUSED: ReadonlyMap<string, string> = new Map(GROUPS.flatMap(([reason, names]) => names.map((n) => [n, reason] as const)));
