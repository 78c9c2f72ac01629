import { toBytes } from "../bytes";
import { defineCommand } from "../command";

/**
 * INFO [section ...]: the primary's, over the HTTP API (the deployment's own counters: evictions,
 * expiries and commands happen there); each node's own is `GET /admin/nodes/<node>/info`.
 * @see https://redis.io/docs/latest/commands/info/
 */
export default defineCommand({
  name: "info",
  arity: -1,
  flags: ["readonly", "primary"],
  keys: null,
  parse: (sections) => sections,
  run: ({ server }, sections) => toBytes(server.info(sections)),
});
