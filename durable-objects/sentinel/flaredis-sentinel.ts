/**
 * The sentinel Durable Object: one per configured sentinel region. It gives the runtime to a
 * `Sentinel` (a small stored table, the alarm, RPC) and delegates every call to it. The alarm is
 * armed only while the sentinel has something to watch (sentinel.ts, node/liveness.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { type Clock, systemRandom, systemClock } from "../engine/clock";
import { RESTART_REASON } from "../protocol/node-api";
import type { DownQuestion, SentinelApi } from "../protocol/sentinel-api";
import { placeOf } from "../protocol/shards";
import { type Topology, type TopologyEnv, parseTopology, sentinelsOf, topologyOf } from "../protocol/topology";
import { type TransportEnv, keptStubs, rpcTransport } from "../node/transport";
import { Sentinel, type SentinelStore } from "./sentinel";

export type SentinelEnv = TopologyEnv & TransportEnv;

/** Named JSON values in one SQLite table. */
class SqlStore implements SentinelStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS sentinel (name TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID");
  }
  get(name: string): unknown {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM sentinel WHERE name = ?", name).toArray()[0];
    return row ? JSON.parse(row.value) : undefined;
  }
  set(name: string, value: unknown): void {
    this.sql.exec(
      "INSERT INTO sentinel (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      name,
      JSON.stringify(value ?? null),
    );
  }
}

export class FlaredisSentinel extends DurableObject<SentinelEnv> implements SentinelApi {
  /** The sentinel's time. Tests replace it (through `runInDurableObject`) with a `ManualClock`. */
  clock: Clock = systemClock;
  private sentinel: Sentinel | null = null;
  private startError: unknown = null;
  /** The calls this object served since it started, by method (each RPC call and each alarm is a billed request). */
  private readonly served: Record<string, number> = {};

  constructor(ctx: DurableObjectState, env: SentinelEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      try {
        const self = this;
        const place = placeOf(ctx.id.name ?? "");
        this.sentinel = new Sentinel({
          name: place.region,
          store: new SqlStore(ctx.storage.sql),
          get clock() {
            return self.clock;
          },
          random: systemRandom,
          transport: keptStubs(rpcTransport(env, place.shard)),
          configured: topologyOf(env),
          settings: sentinelsOf(env),
          // The alarm runs on wall time; the sentinel on `clock`, which tests may move.
          setAlarm: (at) => ctx.storage.setAlarm(systemClock.now() + Math.max(0, at - this.clock.now())),
        });
      } catch (e) {
        this.startError = e;
      }
    });
  }

  /** The sentinel, once started (tests reach it through this). */
  get core(): Sentinel {
    if (this.startError) throw this.startError;
    return this.sentinel!;
  }

  async watch(node?: string, silentSince?: number, topology?: Topology) {
    this.count("watch");
    await this.core.watch(node, silentSince, topology ? parseTopology(topology) : null);
  }
  async lease(node: string, topology: Topology) {
    this.count("lease");
    return this.core.lease(node, parseTopology(topology));
  }
  async isMasterDown(question: DownQuestion) {
    this.count("isMasterDown");
    return this.core.isMasterDown(question);
  }
  async announce(topology: Topology) {
    this.count("announce");
    this.core.announce(topology);
  }
  async failover(to: string) {
    this.count("failover");
    return this.core.coordinate(to);
  }
  /** The sentinel's view, with the requests it served before this one. */
  async status() {
    const status = { ...this.core.status(), requests_by_method: { ...this.served } };
    this.count("status");
    return status;
  }
  override async alarm() {
    this.count("alarm");
    await this.core.tick();
  }
  async fault(fault: { down: boolean } | { restart: true }) {
    this.count("fault");
    if ("restart" in fault) this.ctx.abort(RESTART_REASON);
    else this.core.setDown(fault.down);
  }

  private count(method: string): void {
    this.served[method] = (this.served[method] ?? 0) + 1;
  }
}
