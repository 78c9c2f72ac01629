/**
 * Printed by `npm run dev` before `wrangler dev` starts: the local topology (wrangler.toml's vars,
 * overridden by .dev.vars as wrangler does), where each region's reference point is, and how to
 * send a request "from" another place. The topology is epoch 1; `POST /admin/failover` moves the
 * primary at run time (GET /admin/topology shows the current one).
 */
import { existsSync, readFileSync } from "node:fs";
import { unstable_readConfig } from "wrangler";
import { REGION_POINTS } from "../worker/regions.ts";
import { type Region, topologyOf } from "../durable-objects/protocol/topology.ts";

const config = unstable_readConfig({ config: "wrangler.toml" });
const vars: Record<string, string> = Object.fromEntries(Object.entries(config.vars).map(([k, v]) => [k, String(v)]));
if (existsSync(".dev.vars"))
  for (const line of readFileSync(".dev.vars", "utf8").split("\n")) {
    const m = line.match(/^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (m) vars[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1");
  }
const { primary, replicas } = topologyOf(vars);
const port = config.dev.port ?? 8787;

// topologyOf has checked that every node is a region.
const row = (role: string, node: string) => {
  const p = REGION_POINTS[node as Region];
  return `  ${role.padEnd(8)} ${node.padEnd(5)} near ${p.city} (${p.lat}, ${p.lon})`;
};
const paris = JSON.stringify({ latitude: "48.86", longitude: "2.35", continent: "EU", clientAcceptEncoding: "" });
console.log(
  [
    "Flaredis local topology (epoch 1; GET /admin/topology shows the current one):",
    row("primary", primary),
    ...replicas.map((r) => row("replica", r)),
    `Shards: ${vars.FLAREDIS_SHARDS || "1"} (FLAREDIS_SHARDS; \`npm run dev -- --var FLAREDIS_SHARDS:3\` runs 3, each with these nodes).`,
    "Writes go to the primary; reads to the replica nearest to request.cf. A read \"from\" Paris:",
    `  curl -H 'Authorization: Bearer dev-token' -H 'MF-CF-Blob: ${paris}' http://127.0.0.1:${port}/get/k -i`,
    "",
  ].join("\n"),
);
