import { toBytes } from "../bytes";
import { type Reply, defineCommand } from "../command";

/**
 * ROLE (admin): the node's part in replication, in Redis's shape, read from its INFO replication.
 * A master: `master`, its offset, and per replica online (streaming, not loading a full sync) its
 * name (the host), port 0 and acknowledged offset; a replica: `slave`, its master's name, port 0,
 * the link's state (connect, sync, connected) and its offset (-1 without a link). Over the HTTP
 * API it is the primary's, as INFO's. @see https://redis.io/docs/latest/commands/role/
 */
export default defineCommand({
  name: "role",
  arity: 1,
  flags: ["readonly", "primary", "admin", "noscript"],
  keys: null,
  parse: () => null,
  run: ({ server }): Reply => {
    const fields = new Map<string, string>();
    for (const line of server.info(["replication"]).split("\r\n")) {
      const at = line.indexOf(":");
      if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1));
    }
    const offset = Number(fields.get("master_repl_offset") ?? server.offset);
    if (fields.get("role") === "slave") {
      const state = fields.get("master_sync_in_progress") === "1" ? "sync" : fields.get("master_link_status") === "up" ? "connected" : "connect";
      // Redis answers -1 while it has no link to its master.
      return [toBytes("slave"), toBytes(fields.get("master_host") ?? ""), Number(fields.get("master_port") ?? 0), toBytes(state), state === "connected" ? offset : -1];
    }
    const replicas: Reply[] = [];
    for (const [name, value] of fields) {
      if (!/^slave\d+$/.test(name)) continue;
      const parts = new Map(value.split(",").map((kv) => kv.split("=") as [string, string]));
      if (parts.get("state") !== "online") continue; // still loading a full sync: Redis leaves it out
      replicas.push([toBytes(parts.get("ip") ?? ""), toBytes(parts.get("port") ?? "0"), toBytes(parts.get("offset") ?? "0")]);
    }
    return [toBytes("master"), offset, replicas];
  },
});
