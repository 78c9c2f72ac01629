/**
 * Which node serves a request. Writes (a command with the `write` flag, or any command not known
 * to be a read: `primary`, `admin`, unknown), pipelines holding one, and every multi-exec go to
 * the primary. Other reads go to the nearest replica, by great-circle distance from the client
 * (`request.cf`), among those the primary reports healthy (link up, lag within the bound); a
 * client that cannot be located is served by the primary.
 */
import { Engine, type Mode } from "../durable-objects/engine/engine";
import type { NodeStatus } from "../durable-objects/node";
import { type Region, topologyOf } from "../durable-objects/topology";
import { type Env, nodeStub } from "./env";
import { type ClientLocation, byDistance, locate } from "./regions";

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

async function fetchHealth(env: Env, now: number): Promise<NodeStatus> {
  const status = await nodeStub(env, topologyOf(env).primary).status();
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
  const { replicas } = topologyOf(env);
  if (from === null || replicas.length === 0) return null;
  const status = await replicaHealth(env, now, background);
  const healthy = new Set(
    status.replicas.filter((r) => r.link === "up" && r.lag_ms >= 0 && r.lag_ms <= maxLag(env)).map((r) => r.node),
  );
  return byDistance(from, replicas.filter((r) => healthy.has(r)) as Region[])[0] ?? null;
}
