/**
 * How a node or a sentinel reaches the others. In a deployment: Durable Object RPC. In engine
 * tests: `MemoryNetwork`, which delivers the same calls between objects in one isolate, copying
 * arguments and answers as RPC does, so the protocol and the failover run without workerd.
 */
import type { NodeApi } from "../protocol/node-api";
import type { SentinelApi } from "../protocol/sentinel-api";
import { objectName } from "../protocol/shards";

export interface Transport {
  node(name: string): NodeApi;
  sentinel(name: string): SentinelApi;
}

/** The bindings the RPC transport needs. */
export interface TransportEnv {
  NODE: DurableObjectNamespace;
  SENTINEL?: DurableObjectNamespace;
}

/**
 * Durable Object RPC to the objects of shard `shard` (protocol/shards.ts). A stub is made afresh for every call: kept ids (or stubs) make workerd's full
 * collections rarer but longer, and the replication lag's p99 worse (bench/README.md, "Why the lag's tail
 * is far from 5 ms").
 */
export function rpcTransport(env: TransportEnv, shard = 1): Transport {
  const stub = (ns: DurableObjectNamespace, name: string) =>
    ns.get(ns.idFromName(objectName(shard, name)), { locationHint: name as DurableObjectLocationHint }) as unknown;
  return {
    node: (name) => stub(env.NODE, name) as NodeApi,
    sentinel: (name) => {
      if (!env.SENTINEL) throw new Error("flaredis: no SENTINEL binding");
      return stub(env.SENTINEL, name) as SentinelApi;
    },
  };
}

/**
 * `inner` with each object's stub kept between calls; a call that fails on a kept stub is made
 * once more on a new one (a stub may stay broken once its callee was reset), so every call made
 * through it must be one that may be repeated. For the sentinels, whose pings come every
 * second from three objects: measured with `npm run bench -- --quick --only lag`, a new stub for
 * every ping put the replication lag's p50 at 72 ms, kept ones at 5.4 ms (as with no pings at all).
 * The nodes keep making a stub per call (see `rpcTransport`).
 */
export function keptStubs(inner: Transport): Transport {
  const kept = { node: new Map<string, object>(), sentinel: new Map<string, object>() };
  const wrap = <T extends object>(kind: "node" | "sentinel", name: string, make: () => T): T =>
    new Proxy({} as T, {
      get: (_t, method: string) =>
        method === "then"
          ? undefined
          : async (...args: unknown[]) => {
              const kept_ = kept[kind].get(name) as Record<string, (...a: unknown[]) => Promise<unknown>> | undefined;
              const fresh = () => {
                const stub = make() as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
                kept[kind].set(name, stub);
                return stub;
              };
              if (!kept_) return await fresh()[method]!(...args);
              try {
                return await kept_[method]!(...args);
              } catch {
                // A kept stub may be broken (its callee restarted): once more on a new one. Every
                // call a sentinel makes may be repeated (a ping, a vote, a fence or adopt of one epoch).
                kept[kind].delete(name);
                return await fresh()[method]!(...args);
              }
            },
    });
  return {
    node: (name) => wrap("node", name, () => inner.node(name)),
    sentinel: (name) => wrap("sentinel", name, () => inner.sentinel(name)),
  };
}

/**
 * Objects in one isolate that call each other as if over RPC: every call waits a turn, its
 * arguments and answer are structured-cloned, and a call to an object that is not registered (or
 * taken off) fails as an unreachable Durable Object does.
 */
export class MemoryNetwork implements Transport {
  private readonly nodes = new Map<string, NodeApi>();
  private readonly sentinels = new Map<string, SentinelApi>();

  addNode(name: string, node: NodeApi): void {
    this.nodes.set(name, node);
  }
  addSentinel(name: string, sentinel: SentinelApi): void {
    this.sentinels.set(name, sentinel);
  }
  remove(name: string, kind: "node" | "sentinel"): void {
    (kind === "node" ? this.nodes : this.sentinels).delete(name);
  }

  node(name: string): NodeApi {
    return this.proxy(() => this.nodes.get(name), `node ${name}`) as NodeApi;
  }
  sentinel(name: string): SentinelApi {
    return this.proxy(() => this.sentinels.get(name), `sentinel ${name}`) as SentinelApi;
  }

  private proxy(target: () => object | undefined, what: string): object {
    return new Proxy(
      {},
      {
        get: (_t, method: string) =>
          method === "then"
            ? undefined
            : async (...args: unknown[]) => {
            await Promise.resolve();
            const object = target() as Record<string, (...a: unknown[]) => Promise<unknown>> | undefined;
            if (!object) throw new Error(`flaredis: ${what} is unreachable`);
            const answer = await object[method]!(...structuredClone(args));
            return structuredClone(answer);
          },
      },
    );
  }
}
