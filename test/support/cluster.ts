/**
 * A whole deployment in one isolate: nodes and sentinels on `MemoryStorage` and `MemoryNetwork`,
 * one `ManualClock`, alarms kept in a table and fired by `tick`. The same `Node` and `Sentinel`
 * classes the Durable Objects run, without workerd's objects around them, so failover tests are
 * exact and fast.
 */
import { ManualClock, type Random } from "../../durable-objects/engine/clock";
import type { Batch, BatchResult } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { Node } from "../../durable-objects/node/node";
import { MemoryNetwork } from "../../durable-objects/node/transport";
import type { SentinelApi } from "../../durable-objects/protocol/sentinel-api";
import type { SentinelSettings, Topology } from "../../durable-objects/protocol/topology";
import { Sentinel } from "../../durable-objects/sentinel/sentinel";

/** Deterministic randomness: a seeded generator (replids differ per node and start). */
export function seeded(seed = 1): Random {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  return { next, hex: (n) => Array.from({ length: n }, () => Math.floor(next() * 256).toString(16).padStart(2, "0")).join("") };
}

export interface ClusterOptions {
  readonly topology?: Topology;
  readonly sentinels?: Partial<SentinelSettings>;
}

export class Cluster {
  readonly clock = new ManualClock(Date.UTC(2026, 10, 30));
  readonly network = new MemoryNetwork();
  readonly random = seeded(7);
  configured: Topology;
  readonly settings: SentinelSettings;
  readonly nodes = new Map<string, Node>();
  readonly sentinels = new Map<string, Sentinel>();
  private readonly nodeStores = new Map<string, MemoryStorage>();
  private readonly sentinelStores = new Map<string, Map<string, unknown>>();
  /** Alarms by object ("node:enam", "sentinel:weur"), in clock time. */
  private readonly alarms = new Map<string, number>();
  /**
   * The Durable Object requests each object served ("node:enam alarm", "sentinel:weur watch"):
   * every call one object made to another, and every alarm that fired. Calls the test makes itself
   * are not counted.
   */
  readonly requests = new Map<string, number>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Each running object's life: a restart ends it, and the old object's calls fail from then on, as a crashed one's never return. */
  private readonly lives = new Map<string, { alive: boolean }>();

  /** The network as seen by one object incarnation: dead once it is restarted. */
  private lifeline(who: string): MemoryNetwork {
    this.lives.get(who)!.alive = false;
    const life = { alive: true };
    this.lives.set(who, life);
    const check = () => {
      if (!life.alive) throw new Error(`${who} was restarted`);
    };
    const wrap = <T extends object>(target: T, to: string): T =>
      new Proxy(target, {
        get: (t, method: string) =>
          method === "then"
            ? undefined
            : async (...args: unknown[]) => {
                check();
                this.served(to, method);
                const answer = await (t as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args);
                check();
                return answer;
              },
      });
    return {
      node: (name: string) => wrap(this.network.node(name), `node:${name}`),
      sentinel: (name: string) => wrap(this.network.sentinel(name), `sentinel:${name}`),
    } as MemoryNetwork;
  }

  constructor(options: ClusterOptions = {}) {
    this.configured = options.topology ?? { epoch: 1, primary: "enam", replicas: ["wnam", "weur", "apac"] };
    this.settings = {
      sentinels: ["wnam", "weur", "apac"],
      quorum: 2,
      downAfterMs: 5000,
      failoverTimeoutMs: 30_000,
      ...options.sentinels,
    };
  }

  /** Starts every configured node and sentinel, and lets the replicas sync. */
  async start(): Promise<this> {
    // Sentinels first: a starting primary renews its lease with them (`lease`), as in a deployment.
    for (const s of this.settings.sentinels) this.startSentinel(s);
    for (const n of [this.configured.primary, ...this.configured.replicas]) await this.startNode(n);
    await this.settle();
    return this;
  }

  async startNode(name: string): Promise<Node> {
    let storage = this.nodeStores.get(name);
    if (!storage) this.nodeStores.set(name, (storage = new MemoryStorage()));
    if (!this.lives.has(`node:${name}`)) this.lives.set(`node:${name}`, { alive: true });
    // Reachable while it starts, as a Durable Object is: calls wait for the start to finish (its input gate).
    let started!: (node: Node) => void;
    const starting = new Promise<Node>((resolve) => (started = resolve));
    const gate = new Proxy({}, {
      get: (_t, method: string) =>
        method === "then" ? undefined : async (...args: unknown[]) => ((await starting) as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args),
    });
    this.network.addNode(name, gate as never);
    const node = await Node.start({
      name,
      storage,
      clock: this.clock,
      random: this.random,
      transport: this.lifeline(`node:${name}`),
      configured: this.configured,
      sentinels: this.settings,
      background: (work) => this.track(work),
      setAlarm: async (at) => void this.alarms.set(`node:${name}`, at),
      getAlarm: async () => this.alarms.get(`node:${name}`) ?? null,
    });
    this.nodes.set(name, node);
    this.network.addNode(name, node as never);
    started(node);
    return node;
  }

  private served(who: string, method: string): void {
    const key = `${who} ${method}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** The requests served since `since` (a copy of `requests` taken then), in total. */
  requestsSince(since: ReadonlyMap<string, number>): number {
    let n = 0;
    for (const [key, count] of this.requests) n += count - (since.get(key) ?? 0);
    return n;
  }

  /** Whether `who` ("sentinel:weur") has an alarm set. */
  armed(who: string): boolean {
    return this.alarms.has(who);
  }

  /** Drops a node's in-memory state, as a crash or an eviction does; its storage stays. */
  async restartNode(name: string): Promise<Node> {
    this.network.remove(name, "node");
    return this.startNode(name);
  }

  startSentinel(name: string): Sentinel {
    let store = this.sentinelStores.get(name);
    if (!store) this.sentinelStores.set(name, (store = new Map()));
    const kv = store;
    if (!this.lives.has(`sentinel:${name}`)) this.lives.set(`sentinel:${name}`, { alive: true });
    const transport = this.lifeline(`sentinel:${name}`);
    const life = this.lives.get(`sentinel:${name}`)!;
    const sentinel = new Sentinel({
      name,
      store: {
        get: (k) => structuredClone(kv.get(k)),
        set: (k, v) => {
          if (!life.alive) throw new Error(`sentinel ${name} was restarted`);
          kv.set(k, structuredClone(v));
        },
      },
      clock: this.clock,
      random: this.random,
      transport,
      configured: this.configured,
      settings: this.settings,
      setAlarm: async (at) => void this.alarms.set(`sentinel:${name}`, at),
    });
    this.sentinels.set(name, sentinel);
    const api: SentinelApi = {
      watch: (node, since, t) => sentinel.watch(node, since, t),
      lease: async (node, t) => sentinel.lease(node, t),
      isMasterDown: async (q) => sentinel.isMasterDown(q),
      announce: async (t) => sentinel.announce(t),
      failover: (to) => sentinel.coordinate(to),
      status: async () => sentinel.status(),
      fault: async (f) => ("down" in f ? sentinel.setDown(f.down) : void this.restartSentinel(name)),
    };
    this.network.addSentinel(name, api);
    return sentinel;
  }

  /** Drops a sentinel's in-memory state; its stored state stays. Its alarm stays set, as a Durable Object's does. */
  restartSentinel(name: string): Sentinel {
    this.network.remove(name, "sentinel");
    return this.startSentinel(name);
  }

  node(name: string): Node {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  /** Whoever the nodes' newest topology names the primary. */
  primary(): string {
    let newest: Topology = this.configured;
    for (const n of this.nodes.values()) if (n.known.epoch > newest.epoch) newest = n.known;
    return newest.primary;
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch(() => undefined).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Lets background work (pushes, syncs) run until none is left, or only work waiting on the clock. */
  async settle(): Promise<void> {
    for (let i = 0, quiet = 0; i < 500 && quiet < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      quiet = this.pending.size === 0 ? quiet + 1 : 0;
    }
  }

  /** Moves the clock by `ms` in steps of `step`, firing every alarm that comes due, and settling after each. */
  async tick(ms: number, step = 1000): Promise<void> {
    for (let moved = 0; moved < ms; moved += step) {
      this.clock.advance(Math.min(step, ms - moved));
      for (const [who, at] of [...this.alarms]) {
        if (at > this.clock.now()) continue;
        this.alarms.delete(who);
        this.served(who, "alarm");
        const [kind, name] = who.split(":") as ["node" | "sentinel", string];
        if (kind === "node") await this.nodes.get(name)?.alarm().catch(() => undefined);
        else await this.sentinels.get(name)?.tick().catch(() => undefined);
      }
      await this.settle();
    }
  }

  /** Runs commands on `node` as the worker would for the primary. */
  async exec(node: string, ...commands: string[][]): Promise<BatchResult> {
    const batch: Batch = { mode: commands.length > 1 ? "pipeline" : "single", commands, permission: "admin" };
    return (await this.node(node).execute(batch, true)).result;
  }

  /** One command's result or error on the primary the nodes know. */
  async run(...argv: string[]): Promise<unknown> {
    const result = await this.exec(this.primary(), argv);
    if ("error" in result) return { error: result.error };
    const outcome = result.outcomes[0]!;
    if ("error" in outcome) return { error: outcome.error };
    const r = outcome.result;
    return r instanceof Uint8Array ? new TextDecoder().decode(r) : r;
  }

  /** INFO field of a node. */
  field(node: string, name: string): string | undefined {
    return this.node(node).info([]).match(new RegExp(`^${name}:(.*)\\r$`, "m"))?.[1];
  }

  digests(): Set<string> {
    return new Set([...this.nodes.values()].filter((n) => !n.faults.down).map((n) => { const d = n.digest(); return `${d.offset}:${d.digest}`; }));
  }
}
