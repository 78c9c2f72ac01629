/**
 * The deployment's topology: which region holds the primary and which hold replicas. Nodes are
 * named by region (Cloudflare location hints), one per region.
 *
 * wrangler.toml's vars give the first epoch. A failover makes a new topology with a larger epoch;
 * nodes keep the newest they have heard of (stored, so it survives restarts) and pass it on in
 * every message they exchange, and the worker learns it from their answers. The largest epoch
 * wins everywhere: that is how a demoted or returning primary is fenced.
 */

/** Cloudflare's Durable Object location hints. */
export const REGIONS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export type Region = (typeof REGIONS)[number];

export interface TopologyEnv {
  FLAREDIS_PRIMARY?: string;
  FLAREDIS_REPLICAS?: string;
}

export interface Topology {
  /** 1 for the configured topology; each failover adds one. */
  readonly epoch: number;
  readonly primary: string;
  readonly replicas: readonly string[];
}

/** The configured topology's epoch. */
export const FIRST_EPOCH = 1;

/** The topology after `primary` (one of `t`'s replicas) has taken over; the old primary becomes a replica. */
export function promoted(t: Topology, primary: string): Topology {
  return { epoch: t.epoch + 1, primary, replicas: [...t.replicas.filter((r) => r !== primary), t.primary] };
}

/** The same nodes, whatever their roles (a stored topology applies to this deployment only if so). */
export function sameNodes(a: Topology, b: Topology): boolean {
  const nodes = (t: Topology) => [t.primary, ...t.replicas].sort().join(" ");
  return nodes(a) === nodes(b);
}

/** A plain copy (for storage and RPC), checked. */
export function parseTopology(value: unknown): Topology | null {
  const t = value as Partial<Topology> | null;
  if (!t || !Number.isSafeInteger(t.epoch) || typeof t.primary !== "string" || !Array.isArray(t.replicas)) return null;
  if (!t.replicas.every((r) => typeof r === "string")) return null;
  return { epoch: t.epoch!, primary: t.primary, replicas: [...t.replicas] };
}

/**
 * The configured topology (epoch 1); local default primary `enam`, replicas `wnam weur apac`.
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
  return { epoch: FIRST_EPOCH, primary, replicas };
}
