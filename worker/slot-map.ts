/**
 * The slot map this isolate routes by (protocol/shards.ts): the configured one (FLAREDIS_SHARDS),
 * until a newer one is learned from the cluster object (durable-objects/cluster/), which a node's
 * refusal of a slot that moved (engine/slot-guard.ts) makes the worker ask for.
 */
import type { ClusterApi } from "../durable-objects/protocol/cluster-api";
import { SlotMap, configuredSlotMap } from "../durable-objects/protocol/shards";
import type { Env } from "./env";

let learned: SlotMap | null = null;

/** The cluster object's stub; null without the CLUSTER binding. */
export function clusterStub(env: Env): ClusterApi | null {
  const ns = env.CLUSTER;
  return ns ? (ns.get(ns.idFromName("cluster")) as unknown as ClusterApi) : null;
}

/** The newest slot map this isolate knows. */
export function slotMapOf(env: Env): SlotMap {
  const configured = configuredSlotMap(env);
  return learned && learned.epoch > configured.epoch ? learned : configured;
}

/** Asks the cluster object for the slot map and keeps it if newer. */
export async function refreshSlotMap(env: Env): Promise<SlotMap> {
  const stub = clusterStub(env);
  if (stub) {
    const state = await stub.slotMap();
    if (state.epoch > slotMapOf(env).epoch) learned = new SlotMap(state);
  }
  return slotMapOf(env);
}

/** Forgets the learned map, as a fresh isolate (tests). */
export function forgetSlotMap(): void {
  learned = null;
}
