import type { NodeApi, NodeEnv } from "../durable-objects/node";

/** Bindings, vars (wrangler.toml) and secrets of the worker. */
/** A node's RPC stub, seen through its narrow API. */
export function nodeStub(env: Env, region: string): NodeApi {
  const ns = env.NODE;
  return ns.get(ns.idFromName(region), { locationHint: region as DurableObjectLocationHint }) as unknown as NodeApi;
}

export interface Env extends NodeEnv {
  /** Reads skip a replica whose lag is above this many ms (2000 by default). */
  FLAREDIS_MAX_LAG_MS?: string;
  /** Fault injection in the admin API: on in local development (.dev.vars), off by default. */
  FLAREDIS_ALLOW_FAULTS?: string;
  /** Secrets; locally from .dev.vars. */
  FLAREDIS_TOKEN?: string;
  FLAREDIS_READONLY_TOKEN?: string;
  FLAREDIS_ADMIN_TOKEN?: string;
}
