/**
 * Which node serves a request. Writes (a command with the `write` flag, or any command not known
 * to be a read: `primary`, `admin`, unknown), pipelines holding one, and every multi-exec go to
 * the primary. Other reads go to the nearest replica, by great-circle distance from the client
 * (`request.cf`), among those the primary reports healthy (link up, lag within the bound); a
 * client that cannot be located is served by the primary.
 *
 * Which node is the primary is learned, not configured: the worker starts from wrangler.toml's
 * topology and takes any newer one (larger epoch) a node tells it of, in the health it reports
 * or in a `notPrimary` answer.
 */
import { Engine, type Mode } from "../durable-objects/engine/engine";
import type { NodeStatus } from "../durable-objects/protocol/node-api";
import { type Region, type Topology, sameNodes, topologyOf } from "../durable-objects/protocol/topology";
import { type Env, nodeStub } from "./env";
import { type ClientLocation, byDistance, locate } from "./regions";

/** The newest topology this isolate has learned, or null for the configured one. */
let learned: Topology | null = null;

/** The topology requests are routed by: the newest known for the configured nodes. */
export function currentTopology(env: Env): Topology {
  const configured = topologyOf(env);
  if (learned && learned.epoch >= configured.epoch && sameNodes(learned, configured)) return learned;
  return configured;
}

/** Takes a topology a node reported, if newer; a new primary makes the cached health void. */
export function learnTopology(env: Env, t: Topology): void {
  const current = currentTopology(env);
  if (t.epoch <= current.epoch || !sameNodes(t, current)) return;
  learned = t;
  if (t.primary !== current.primary) health = null;
}

/** Asks every node for its topology and keeps the newest (after a failed call to the primary). */
export async function refreshTopology(env: Env): Promise<Topology> {
  const { primary, replicas } = currentTopology(env);
  const answers = await Promise.allSettled([primary, ...replicas].map((n) => nodeStub(env, n).topology()));
  for (const a of answers) if (a.status === "fulfilled") learnTopology(env, a.value);
  return currentTopology(env);
}

/** True when the batch must run on the primary. */
export function needsPrimary(mode: Mode, commands: readonly (readonly string[])[]): boolean {
  return mode === "multi" || !commands.every(Engine.isRead);
}

/**
 * How long the worker trusts the replicas' health it learned from the primary; after that, for
 * up to HEALTH_STALE_MS, it still routes by it while a refresh runs in the background, so a read
 * at the edge does not wait for a round trip to the primary. (A replica that has gone bad since
 * declines the read itself, and the primary answers.)
 */
const HEALTH_TTL_MS = 1000;
const HEALTH_STALE_MS = 10_000;
let health: { at: number; status: NodeStatus } | null = null;
let refreshing = false;

/** The primary's status; a failed call or a primary that is not one any more makes it look again, once. */
async function fetchHealth(env: Env, now: number): Promise<NodeStatus> {
  const ask = () => nodeStub(env, currentTopology(env).primary).status();
  let status = await ask().catch(async () => {
    await refreshTopology(env);
    return ask();
  });
  learnTopology(env, status.topology);
  if (status.node !== currentTopology(env).primary) status = await ask();
  health = { at: now, status };
  return status;
}

/** The replicas' health as the primary sees it, cached per isolate (see HEALTH_TTL_MS). */
async function replicaHealth(env: Env, now: number, background?: (work: Promise<unknown>) => void): Promise<NodeStatus> {
  if (health && now - health.at < HEALTH_TTL_MS) return health.status;
  if (health && background && now - health.at < HEALTH_STALE_MS) {
    if (!refreshing) {
      refreshing = true;
      background(fetchHealth(env, now).finally(() => (refreshing = false)));
    }
    return health.status;
  }
  return fetchHealth(env, now);
}

/** Forgets the cached health (a replica declined a read, so its state has changed). */
export function forgetHealth(): void {
  health = null;
}

/** The largest replica lag (ms) a read accepts; FLAREDIS_MAX_LAG_MS, 2000 by default. */
const maxLag = (env: Env) => {
  const n = Number(env.FLAREDIS_MAX_LAG_MS);
  return Number.isFinite(n) && n >= 0 ? n : 2000;
};

/**
 * The replica that should serve a read from `cf`, or null for the primary. `background` (the
 * request's waitUntil) lets a stale health be refreshed without delaying this read.
 */
export async function readReplica(
  env: Env,
  cf: ClientLocation | undefined,
  background?: (work: Promise<unknown>) => void,
  now = Date.now(),
): Promise<Region | null> {
  const from = locate(cf);
  if (from === null || currentTopology(env).replicas.length === 0) return null;
  const status = await replicaHealth(env, now, background);
  const { replicas } = currentTopology(env);
  const healthy = new Set(
    status.replicas.filter((r) => r.link === "up" && r.lag_ms >= 0 && r.lag_ms <= maxLag(env)).map((r) => r.node),
  );
  return byDistance(from, replicas.filter((r) => healthy.has(r)) as Region[])[0] ?? null;
}
