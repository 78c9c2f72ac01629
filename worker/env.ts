import type { NodeEnv } from "../durable-objects/node/flaredis-node";
import type { NodeApi } from "../durable-objects/protocol/node-api";
import type { SentinelApi } from "../durable-objects/protocol/sentinel-api";
import { type ShardEnv, objectName } from "../durable-objects/protocol/shards";

/** The RPC stub of `region`'s node in shard `shard` (protocol/shards.ts), seen through its narrow API. */
export function nodeStub(env: Env, region: string, shard = 1): NodeApi {
  const ns = env.NODE;
  return ns.get(nodeId(ns, objectName(shard, region)), { locationHint: region as DurableObjectLocationHint }) as unknown as NodeApi;
}

/** The RPC stub of `region`'s sentinel in shard `shard`, seen through its narrow API. */
export function sentinelStub(env: Env, region: string, shard = 1): SentinelApi {
  const ns = env.SENTINEL;
  if (!ns) throw new Error("flaredis: no SENTINEL binding");
  return ns.get(nodeId(ns, objectName(shard, region)), { locationHint: region as DurableObjectLocationHint }) as unknown as SentinelApi;
}

/**
 * A node's (or a sentinel's) id, made once per isolate. (Only the id: a stub is bound to the request that made it,
 * and another request cannot call through it.)
 */
function nodeId(ns: DurableObjectNamespace, name: string): DurableObjectId {
  let byName = ids.get(ns);
  if (!byName) ids.set(ns, (byName = new Map()));
  let id = byName.get(name);
  if (!id) byName.set(name, (id = ns.idFromName(name)));
  return id;
}
const ids = new WeakMap<DurableObjectNamespace, Map<string, DurableObjectId>>();

/** Bindings, vars (wrangler.toml) and secrets of the worker. */
export interface Env extends NodeEnv, ShardEnv {
  /** Reads skip a replica whose lag is above this many ms (2000 by default). */
  FLAREDIS_MAX_LAG_MS?: string;
  /** Fault injection in the admin API: on in local development (.dev.vars), off by default. */
  FLAREDIS_ALLOW_FAULTS?: string;
  /** Secrets; locally from .dev.vars. */
  FLAREDIS_TOKEN?: string;
  FLAREDIS_READONLY_TOKEN?: string;
  FLAREDIS_ADMIN_TOKEN?: string;
  /** Optional secret: a token that reads GET /metrics and nothing else. */
  FLAREDIS_METRICS_TOKEN?: string;
  /** The cluster object (durable-objects/cluster/): the slot map and the moves of slots between shards. */
  CLUSTER?: DurableObjectNamespace;
  /** The R2 bucket backups go to (worker/backups.ts); absent: no backups. */
  BACKUPS?: R2Bucket;
  /** How many backups are kept (7 by default). */
  FLAREDIS_BACKUP_KEEP?: string;
}
