/**
 * The deployment's topology: which region holds the primary and which hold replicas, read from
 * wrangler.toml's vars. Nodes are named by region (Cloudflare location hints), one per region.
 */

/** Cloudflare's Durable Object location hints. */
export const REGIONS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export type Region = (typeof REGIONS)[number];

export interface TopologyEnv {
  FLAREDIS_PRIMARY?: string;
  FLAREDIS_REPLICAS?: string;
}

export interface Topology {
  readonly primary: string;
  readonly replicas: readonly string[];
}

/**
 * The configured topology; local default primary `enam`, replicas `wnam weur apac`.
 * @throws Error naming the bad value when a region is not a location hint or is listed twice.
 */
export function topologyOf(env: TopologyEnv): Topology {
  const key = `${env.FLAREDIS_PRIMARY}|${env.FLAREDIS_REPLICAS}`;
  if (parsed?.key !== key) parsed = { key, topology: parse(env) };
  return parsed.topology;
}

/** The last topology parsed (the vars do not change within an isolate; the check is cheap). */
let parsed: { key: string; topology: Topology } | null = null;

function parse(env: TopologyEnv): Topology {
  const primary = (env.FLAREDIS_PRIMARY ?? "enam").trim();
  const replicas = (env.FLAREDIS_REPLICAS ?? "wnam weur apac").split(/[\s,]+/).filter(Boolean);
  for (const r of [primary, ...replicas])
    if (!(REGIONS as readonly string[]).includes(r))
      throw new Error(`flaredis: '${r}' is not a region (one of ${REGIONS.join(" ")})`);
  if (new Set([primary, ...replicas]).size !== replicas.length + 1)
    throw new Error("flaredis: each region may hold one node only");
  return { primary, replicas };
}
