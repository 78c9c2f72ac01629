/**
 * The node Durable Object: one per region, SQLite-backed, every one the same class (its role is
 * node state, not code: failover changes it at run time). It gives the runtime to a `Node`
 * (storage, the alarm, waitUntil, RPC) and delegates every call to it.
 *
 * Lifecycle: the node is loaded in the constructor inside `blockConcurrencyWhile`; a start-up
 * error is kept and re-thrown by every call instead of breaking the input gate.
 */
import { DurableObject } from "cloudflare:workers";
import { type Clock, cryptoRandom, systemClock } from "../engine/clock";
import type { Batch } from "../engine/engine";
import type { Position, SnapshotCursor } from "../engine/replication";
import { type Fault, type NodeApi, type PsyncRequest, type Push, RESTART_REASON, type ReadPolicy, type SentinelHello } from "../protocol/node-api";
import { type Topology, type TopologyEnv, sentinelsOf, topologyOf } from "../protocol/topology";
import { SqliteStorage, type StorageUsage } from "../sqlite-storage";
import { Node } from "./node";
import { type TransportEnv, rpcTransport } from "./transport";

export interface NodeEnv extends TopologyEnv, TransportEnv {
  /** Largest string value in bytes. */
  FLAREDIS_MAX_VALUE_BYTES?: string;
}

export class FlaredisNode extends DurableObject<NodeEnv> implements NodeApi {
  /** The node's time. Tests replace it (through `runInDurableObject`) with a `ManualClock`. */
  clock: Clock = systemClock;
  private node: Node | null = null;
  private storage: SqliteStorage | null = null;
  private startError: unknown = null;

  constructor(ctx: DurableObjectState, env: NodeEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      try {
        await this.start();
      } catch (e) {
        this.startError = e;
      }
    });
  }

  private async start(): Promise<void> {
    const storage = (this.storage = new SqliteStorage(this.ctx.storage));
    const name = this.ctx.id.name ?? String(storage.meta.get("node") ?? "");
    if (this.ctx.id.name && storage.meta.get("node") !== name) storage.meta.set("node", name);
    const maxValue = Number(this.env.FLAREDIS_MAX_VALUE_BYTES);
    const self = this;
    this.node = await Node.start({
      name,
      storage,
      get clock() {
        return self.clock;
      },
      random: cryptoRandom,
      transport: rpcTransport(this.env),
      configured: topologyOf(this.env),
      sentinels: sentinelsOf(this.env),
      maxValueBytes: Number.isSafeInteger(maxValue) ? maxValue : undefined,
      background: (work) => this.ctx.waitUntil(work),
      // The alarm runs on wall time; the node on `clock`, which tests may move.
      setAlarm: (at) => this.ctx.storage.setAlarm(Date.now() + Math.max(0, at - this.clock.now())),
      getAlarm: async () => {
        const wall = await this.ctx.storage.getAlarm();
        return wall === null ? null : this.clock.now() + (wall - Date.now());
      },
    });
  }

  /** The node, once started (tests reach its roles and timers through it). */
  get core(): Node {
    if (this.startError) throw this.startError;
    return this.node!;
  }

  async execute(batch: Batch, asPrimary?: boolean) {
    return this.core.execute(batch, asPrimary);
  }
  async read(batch: Batch, policy: ReadPolicy) {
    return this.core.read(batch, policy);
  }
  async info(sections?: string[]) {
    return this.core.info(sections);
  }
  async digest() {
    return this.core.digest();
  }
  async psync(request: PsyncRequest) {
    return this.core.psync(request);
  }
  async snapshot(replica: string, cursor: SnapshotCursor) {
    return this.core.snapshot(replica, cursor);
  }
  async push(push: Push) {
    return this.core.push(push);
  }
  async catchUp() {
    return this.core.catchUp();
  }
  async status(probe?: boolean) {
    return this.core.status(probe);
  }
  async metrics() {
    const metrics = this.core.metrics();
    return { ...metrics, storage: this.storage!.usage() };
  }
  async hello(hello: SentinelHello) {
    return this.core.hello(hello);
  }
  async topology() {
    return this.core.topology();
  }
  async adopt(topology: Topology, at?: Position) {
    return this.core.adopt(topology, at);
  }
  async fence(epoch: number) {
    return this.core.fence(epoch);
  }
  override async alarm() {
    return this.core.alarm();
  }

  /** What this node's SQLite storage has read and written since it started. */
  async storageUsage(): Promise<StorageUsage> {
    this.core.faults.checkUp();
    return this.storage!.usage();
  }

  /** Applies an injected fault; a restart drops the in-memory state as a crash does, and fails this call with it. */
  async fault(fault: Fault): Promise<void> {
    const node = this.core;
    if ("restart" in fault) {
      node.faults.checkUp();
      this.ctx.abort(RESTART_REASON);
    } else node.fault(fault);
  }
}
