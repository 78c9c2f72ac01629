/** Helpers for tests that run the configured deployment with its sentinel Durable Objects. */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Clock } from "../../durable-objects/engine/clock";
import type { FlaredisSentinel } from "../../durable-objects/sentinel/flaredis-sentinel";
import type { SentinelApi } from "../../durable-objects/protocol/sentinel-api";
import { inNode, stubOf } from "../support/helpers";

export const NODES = ["enam", "wnam", "weur", "apac"] as const;
export const SENTINELS = ["wnam", "weur", "apac"] as const;

const sentinelNs = () => (env as unknown as { SENTINEL: DurableObjectNamespace }).SENTINEL;
export const sentinelStub = (name: string) => sentinelNs().get(sentinelNs().idFromName(name));
export const sentinelApi = (name: string) => sentinelStub(name) as unknown as SentinelApi;

export function inSentinel<R>(name: string, fn: (sentinel: FlaredisSentinel, state: DurableObjectState) => R | Promise<R>) {
  return runInDurableObject(sentinelStub(name), fn as unknown as (s: DurableObject, state: DurableObjectState) => R | Promise<R>);
}

/** Puts every node and sentinel on `clock`. */
export async function useClock(clock: Clock): Promise<void> {
  for (const n of NODES) await inNode(stubOf(n), (node) => void (node.clock = clock));
  for (const s of SENTINELS) await inSentinel(s, (sentinel) => void (sentinel.clock = clock));
}

/**
 * Runs every node's alarm, then every sentinel's, once: replicas that heard nothing from their
 * master past its promise ask the sentinels to look; those watching ping, agree, elect and fail
 * over as they must. An alarm not due finds nothing to do and re-arms; a sleeping sentinel has none.
 */
export async function tickSentinels(): Promise<void> {
  for (const n of NODES) await runDurableObjectAlarm(stubOf(n));
  for (const s of SENTINELS) await runDurableObjectAlarm(sentinelStub(s));
}

/** Back to the configured deployment (epoch 1, fresh storage) for the next test file. */
export async function resetDeployment(): Promise<void> {
  for (const s of SENTINELS)
    await inSentinel(s, async (_s, state) => {
      await state.storage.deleteAlarm();
      await state.storage.deleteAll();
    });
  for (const n of NODES)
    await inNode(stubOf(n), async (_n, state) => {
      await state.storage.deleteAlarm();
      await state.storage.deleteAll();
    });
  for (const s of SENTINELS) await evictDurableObject(sentinelStub(s));
  for (const n of NODES) await evictDurableObject(stubOf(n));
}
