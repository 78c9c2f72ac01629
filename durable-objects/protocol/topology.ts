/**
 * The deployment's topology: which region holds the primary and which hold replicas. Nodes are
 * named by region (Cloudflare location hints), one per region.
 *
 * wrangler.toml's vars give the first epoch. A failover (run by the sentinels) makes a new
 * topology with a larger epoch; nodes keep the newest they have heard of (stored, so it survives
 * restarts) and pass it on in every message they exchange, and the worker learns it from their
 * answers and from the sentinels. The largest epoch wins everywhere: that is how a demoted or
 * returning primary is fenced. A node adopts a topology only with a larger epoch than its own (a
 * compare-and-set), so one epoch names one topology wherever it is known.
 *
 * A deploy that changes the configured nodes or primary is a topology change too: each node,
 * seeing a configuration other than the one it stored, takes the configured topology at an epoch
 * above every one it knew (see `Node.start`), never below.
 */

/** Cloudflare's Durable Object location hints. */
export const REGIONS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export type Region = (typeof REGIONS)[number];

export interface TopologyEnv {
  FLAREDIS_PRIMARY?: string;
  FLAREDIS_REPLICAS?: string;
  /** Regions of the sentinels, space-separated ("" for none). */
  FLAREDIS_SENTINELS?: string;
  /** Sentinels that must agree the primary is down (Sentinel's quorum). */
  FLAREDIS_QUORUM?: string;
  /** Sentinel's down-after-milliseconds. */
  FLAREDIS_DOWN_AFTER_MS?: string;
  /** Sentinel's failover-timeout, in ms. */
  FLAREDIS_FAILOVER_TIMEOUT_MS?: string;
}

/** The sentinels of a deployment and their settings (Redis Sentinel's `sentinel monitor` line and friends). */
export interface SentinelSettings {
  readonly sentinels: readonly string[];
  readonly quorum: number;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
}

/**
 * The configured sentinels: by default three, in the replicas' regions (the first three), with a
 * quorum of 2, down-after-milliseconds 5000 and failover-timeout 30000.
 * @throws Error naming the bad value.
 */
export function sentinelsOf(env: TopologyEnv): SentinelSettings {
  const sentinels =
    env.FLAREDIS_SENTINELS === undefined ? topologyOf(env).replicas.slice(0, 3) : env.FLAREDIS_SENTINELS.split(/[\s,]+/).filter(Boolean);
  for (const s of sentinels) if (!(REGIONS as readonly string[]).includes(s)) throw new Error(`flaredis: sentinel '${s}' is not a region`);
  if (new Set(sentinels).size !== sentinels.length) throw new Error("flaredis: each region may hold one sentinel only");
  const number = (value: string | undefined, fallback: number, name: string) => {
    if (value === undefined || value.trim() === "") return fallback;
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`flaredis: ${name} must be a positive integer, not '${value}'`);
    return n;
  };
  const quorum = number(env.FLAREDIS_QUORUM, Math.min(2, sentinels.length), "FLAREDIS_QUORUM");
  if (sentinels.length > 0 && quorum > sentinels.length)
    throw new Error(`flaredis: FLAREDIS_QUORUM ${quorum} is more than the ${sentinels.length} sentinels`);
  return {
    sentinels,
    quorum,
    downAfterMs: number(env.FLAREDIS_DOWN_AFTER_MS, 5000, "FLAREDIS_DOWN_AFTER_MS"),
    failoverTimeoutMs: number(env.FLAREDIS_FAILOVER_TIMEOUT_MS, 30_000, "FLAREDIS_FAILOVER_TIMEOUT_MS"),
  };
}

/** The votes a sentinel needs to lead a failover: a majority of the sentinels, and at least the quorum. */
export function votesNeeded(settings: SentinelSettings): number {
  return Math.max(settings.quorum, Math.floor(settings.sentinels.length / 2) + 1);
}

export interface Topology {
  /** 1 for the configured topology; each failover adds one. */
  readonly epoch: number;
  readonly primary: string;
  readonly replicas: readonly string[];
}

/** The configured topology's epoch. */
export const FIRST_EPOCH = 1;

/**
 * The topology after `primary` (one of `t`'s replicas) has taken over at `epoch` (the failover's
 * election epoch, by default the next); the old primary becomes a replica.
 */
export function promoted(t: Topology, primary: string, epoch = t.epoch + 1): Topology {
  return { epoch, primary, replicas: [...t.replicas.filter((r) => r !== primary), t.primary] };
}

/** The nodes and the primary, without the epoch: what a deploy configures. */
export function configKey(t: Topology): string {
  return `${t.primary}|${t.replicas.join(" ")}`;
}

/** One topology, the same nodes in the same roles at the same epoch. */
export function sameTopology(a: Topology, b: Topology): boolean {
  return a.epoch === b.epoch && configKey(a) === configKey(b);
}

/** The same nodes, whatever their roles (a stored topology applies to this deployment only if so). */
export function sameNodes(a: Topology, b: Topology): boolean {
  const nodes = (t: Topology) => [t.primary, ...t.replicas].sort().join(" ");
  return nodes(a) === nodes(b);
}

/**
 * "Take the newer topology", the one rule nodes, sentinels and the worker follow: `seen` replaces
 * `current` when it has a higher epoch and, where `nodes` is given, names the same nodes (a
 * topology of other nodes, another deployment's, is never taken).
 * @returns the topology to take, or null to keep `current`
 */
export function newerTopology(current: Topology, seen: Topology | null | undefined, nodes?: Topology): Topology | null {
  if (!seen || seen.epoch <= current.epoch) return null;
  if (nodes && !sameNodes(seen, nodes)) return null;
  return seen;
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
