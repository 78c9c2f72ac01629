/**
 * The node Durable Object: one per region, SQLite-backed, every one the same class (its role is
 * node state, not code: failover changes it at run time). It gives the runtime to a `Node`
 * (storage, the alarm, waitUntil, RPC) and delegates every call to it.
 *
 * Lifecycle: the node is loaded in the constructor inside `blockConcurrencyWhile`; a start-up
 * error is kept and re-thrown by every call instead of breaking the input gate.
 */
import { type SlotGuard, slotWrites } from "../engine/slot-guard";
import { DurableObject } from "cloudflare:workers";
import { type Clock, systemRandom, systemClock } from "../engine/clock";
import type { Batch } from "../engine/engine";
import type { Position, SnapshotCursor } from "../engine/replication/protocol";
import { type Fault, type NodeApi, type PsyncRequest, type Push, RESTART_REASON, type ReadPolicy, type SentinelHello } from "../protocol/node-api";
import { type ShardEnv, placeOf, shardsOf } from "../protocol/shards";
import { type Topology, type TopologyEnv, sentinelsOf, topologyOf } from "../protocol/topology";
import { SqliteStorage, type StorageUsage } from "../sqlite/sqlite-storage";
import { Node } from "./node";
import { SUBSCRIBE_PATH, SUBSCRIPTION_HEADER, type Subscription } from "../protocol/pubsub";
import { WebSocketSubscribers } from "./subscribers";
import { type TransportEnv, rpcTransport } from "./transport";
import type { Refusal } from "../engine/acl/acl";

export interface NodeEnv extends TopologyEnv, TransportEnv, ShardEnv {
  /** Largest string value in bytes. */
  FLAREDIS_MAX_VALUE_BYTES?: string;
}

/** The most of its log a primary reads for one `slotWrites`. */
const SLOT_WRITES_BYTES = 1024 * 1024;

export class FlaredisNode extends DurableObject<NodeEnv> implements NodeApi {
  /** The node's time. Tests replace it (through `runInDurableObject`) with a `ManualClock`. */
  clock: Clock = systemClock;
  private node: Node | null = null;
  private storage: SqliteStorage | null = null;
  private startError: unknown = null;
  /** The subscribers this node holds, on hibernatable WebSockets. */
  private readonly subscribers: WebSocketSubscribers;
  /**
   * The calls this object served since it started, by method (each RPC call and each alarm is a
   * billed Durable Object request); `storageUsage` itself is not counted. For the bench's cost.
   */
  private readonly served: Record<string, number> = {};

  constructor(ctx: DurableObjectState, env: NodeEnv) {
    super(ctx, env);
    this.subscribers = new WebSocketSubscribers(ctx, () => this.node?.name ?? "?");
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
    const objectName = this.ctx.id.name ?? String(storage.meta.get("node") ?? "");
    if (this.ctx.id.name && storage.meta.get("node") !== objectName) storage.meta.set("node", objectName);
    // Within its shard a node is named by its region (protocol/shards.ts).
    const { shard, region: name } = placeOf(objectName);
    const maxValue = Number(this.env.FLAREDIS_MAX_VALUE_BYTES);
    const self = this;
    this.node = await Node.start({
      name,
      storage,
      get clock() {
        return self.clock;
      },
      random: systemRandom,
      transport: rpcTransport(this.env, shard),
      configured: topologyOf(this.env),
      sentinels: sentinelsOf(this.env),
      maxValueBytes: Number.isSafeInteger(maxValue) ? maxValue : undefined,
      // One shard of several: configured so, or a shard a move made (a source's guard says so too).
      cluster: shardsOf(this.env) > 1 || shard > 1,
      background: (work) => this.ctx.waitUntil(work),
      subscribers: this.subscribers,
      // The alarm runs on wall time; the node on `clock`, which tests may move.
      setAlarm: (at) => this.ctx.storage.setAlarm(systemClock.now() + Math.max(0, at - this.clock.now())),
      getAlarm: () => this.alarmAt(),
    });
  }

  /** The alarm set in the runtime (wall time), as a time of the node's `clock`; null when none is set. */
  async alarmAt(): Promise<number | null> {
    const wall = await this.ctx.storage.getAlarm();
    return wall === null ? null : this.clock.now() + (wall - systemClock.now());
  }

  /** The node, once started (tests reach its roles and timers through it). */
  get core(): Node {
    if (this.startError) throw this.startError;
    return this.node!;
  }

  async execute(batch: Batch, asPrimary?: boolean) {
    this.count("execute");
    return this.core.execute(batch, asPrimary);
  }
  async read(batch: Batch, policy: ReadPolicy) {
    this.count("read");
    return this.core.read(batch, policy);
  }
  async info(sections?: string[]) {
    this.count("info");
    return this.core.info(sections);
  }
  async digest() {
    this.count("digest");
    return this.core.digest();
  }
  async exportBegin() {
    this.count("exportBegin");
    return this.core.exportBegin();
  }
  async exportChunk(id: string, maxBytes: number) {
    this.count("exportChunk");
    return this.core.exportChunk(id, maxBytes);
  }
  async exportStop(id: string) {
    this.count("exportStop");
    return this.core.exportStop(id);
  }
  async psync(request: PsyncRequest) {
    this.count("psync");
    return this.core.psync(request);
  }
  async snapshot(replica: string, cursor: SnapshotCursor) {
    this.count("snapshot");
    return this.core.snapshot(replica, cursor);
  }
  async push(push: Push) {
    this.count("push");
    return this.core.push(push);
  }
  async catchUp() {
    this.count("catchUp");
    return this.core.catchUp();
  }
  async status(probe?: boolean) {
    this.count("status");
    return this.core.status(probe);
  }
  async metrics() {
    this.count("metrics");
    const metrics = this.core.metrics();
    return { ...metrics, storage: this.storage!.usage() };
  }
  async hello(hello: SentinelHello) {
    this.count("hello");
    return this.core.hello(hello);
  }
  async topology() {
    this.count("topology");
    return this.core.topology();
  }
  async adopt(topology: Topology, at?: Position) {
    this.count("adopt");
    return this.core.adopt(topology, at);
  }
  async fence(epoch: number) {
    this.count("fence");
    return this.core.fence(epoch);
  }
  async subscriptions() {
    this.count("subscriptions");
    return this.core.subscriptions();
  }
  async setSlotGuard(guard: SlotGuard) {
    this.count("setSlotGuard");
    const { engine } = this.core;
    if (engine.role !== "master" || engine.replication.writeRefusal() !== null) return { error: "not the primary, or fenced" };
    // A version no other node holds: a primary made by a failover may have reached this count with
    // other settings (a replica adopts any version other than its own).
    const version = Math.max(engine.configVersion + 1, this.clock.now());
    engine.transaction(() => engine.adoptConfig({ ...engine.config, slots: guard }, version));
    // The replicas take it now, not at the next write or heartbeat; clients blocked on its keys go.
    this.core.role.pushToReplicas();
    this.core.role.slotsGuarded(guard);
    return { ok: true as const };
  }
  async slotWrites(replid: string, offset: number, from: number, to: number) {
    this.count("slotWrites");
    const { engine } = this.core;
    if (engine.role !== "master") return { error: "not the primary" };
    return slotWrites(engine.log, replid, offset, from, to, SLOT_WRITES_BYTES);
  }
  async aclUsers() {
    this.count("aclUsers");
    return this.core.engine.acl.users();
  }
  async aclDenied(username: string, denial: Refusal, context: "toplevel" | "multi") {
    this.count("aclDenied");
    this.core.engine.acl.denied(username, denial, context);
  }

  /** A subscriber's WebSocket (protocol/pubsub.ts): the worker opens it at SUBSCRIBE_PATH, its subscription in a header. */
  override async fetch(request: Request): Promise<Response> {
    this.count("fetch");
    const url = new URL(request.url);
    if (url.pathname !== SUBSCRIBE_PATH || request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("not found", { status: 404 });
    try {
      this.core.faults.checkUp();
    } catch (e) {
      // Down (an injected fault) or not started: the worker tries the next node.
      return Response.json({ error: e instanceof Error ? e.message : String(e) }, { status: 503 });
    }
    let subscription: Subscription | null = null;
    try {
      subscription = JSON.parse(atob(request.headers.get(SUBSCRIPTION_HEADER) ?? "")) as Subscription;
    } catch {
      // Malformed: refused below.
    }
    if (subscription === null) return new Response("no subscription", { status: 400 });
    return this.subscribers.accept(subscription);
  }

  /** The worker closed a subscriber's socket (its client went away): closed here too. */
  override async webSocketClose(ws: WebSocket, code: number) {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {
      // Closed already.
    }
  }

  override async webSocketError(ws: WebSocket) {
    try {
      ws.close(1011, "error");
    } catch {
      // Closed already.
    }
  }

  override async alarm() {
    this.count("alarm");
    return this.core.alarm();
  }

  private count(method: string): void {
    this.served[method] = (this.served[method] ?? 0) + 1;
  }

  /**
   * What this node's SQLite storage has read and written since it started, and the Durable
   * Object requests (RPC calls and alarms, this one left out) it served meanwhile.
   */
  async storageUsage(): Promise<StorageUsage & { requests: number; requests_by_method: Record<string, number> }> {
    this.core.faults.checkUp();
    const requests = Object.values(this.served).reduce((a, b) => a + b, 0);
    return { ...this.storage!.usage(), requests, requests_by_method: { ...this.served } };
  }

  /** Applies an injected fault; a restart drops the in-memory state as a crash does, and fails this call with it. */
  async fault(fault: Fault): Promise<void> {
    this.count("fault");
    const node = this.core;
    if ("restart" in fault) {
      node.faults.checkUp();
      this.ctx.abort(RESTART_REASON);
    } else node.fault(fault);
  }
}
