/**
 * A Flaredis node, free of the Durable Object around it (see flaredis-node.ts): the engine, the
 * topology it serves in, its role (a `PrimaryRole` or a `ReplicaRole`, swapped whole when the
 * topology changes it), its timers on one alarm, and injected faults. Everything it needs from the
 * runtime comes through `NodeHost`, so tests run whole clusters on `MemoryStorage` and
 * `MemoryNetwork` as well as in workerd.
 *
 * Topology and fencing (SPEC §6). A node adopts a topology only with a larger epoch than its own
 * (a compare-and-set); it is stored, so a restart keeps it. Every path to master shifts the
 * replid (the old one stays as replid2, so the others continue with a partial sync): a
 * promotion, and a deploy whose configuration makes this node the primary. A replica refuses to
 * become the master without a whole keyspace (a full sync that finished, consistent), or, when
 * the failover names one, at another position than the old master's last. A coordinated
 * failover first fences the master: a stored epoch below which it takes no batch, lifted only by
 * adopting a topology of that epoch or later (it either stays the master in it, or follows).
 */
import { PubSubQuery, Publish, type Reply } from "../engine/command";
import type { SubscriptionCounts } from "../protocol/pubsub";
import { Publisher, mergeCounts } from "./publisher";
import { NO_SUBSCRIBERS, type Subscribers } from "./subscribers";
import { toText } from "../engine/bytes";
import type { Clock, Random } from "../engine/clock";
import { type Batch, Engine } from "../engine/engine";
import { maxValueBytesOf } from "../engine/limits";
import { RedisError, errors } from "../engine/errors";
import { type ExportStart, beginExport, exportChunk } from "../engine/export/rdb-export";
import type { Role as RedisRole } from "../engine/keyspace";
import type { Position, SnapshotChunk, SnapshotCursor } from "../engine/replication/protocol";
import type { Storage } from "../engine/storage";
import { keyspaceFigures } from "../engine/info";
import { changeRole, digest } from "../engine/replication/sync";
import type { Ack, ExecReply, Fault, FenceReply, NodeMetrics, NodeStatus, PsyncAnswer, PsyncRequest, Push, ReadPolicy, SentinelHello } from "../protocol/node-api";
import { type SentinelSettings, type Topology, configKey, newerTopology, parseTopology, sameNodes } from "../protocol/topology";
import { Faults } from "./faults";
import { PrimaryRole } from "./primary";
import { ReplicaRole } from "./replica";
import type { Role } from "./role";
import { type AlarmHost, Timers } from "./timers";
import type { Transport } from "./transport";

/** What a node needs from the runtime around it. */
export interface NodeHost extends AlarmHost {
  readonly name: string;
  readonly storage: Storage;
  /** Engine time; tests move it. */
  readonly clock: Clock;
  readonly random: Random;
  readonly transport: Transport;
  /** wrangler.toml's topology (epoch 1). */
  readonly configured: Topology;
  readonly sentinels: SentinelSettings;
  /** Largest string value in bytes. */
  readonly maxValueBytes?: number;
  /** The node is one shard of several (protocol/shards.ts). */
  readonly cluster?: boolean;
  /** Runs work after the current call has answered (a Durable Object's waitUntil). */
  background(work: Promise<unknown>): void;
  /** The subscribers this node holds (none: NO_SUBSCRIBERS). */
  readonly subscribers?: Subscribers;
  /** The alarm set before this start, in engine time. */
  getAlarm(): Promise<number | null>;
}

/** The timers that share the node's one alarm. */
export type Timer = "expiry" | "heartbeat" | "purge" | "silence";
/** Elements of dropped collections deleted per alarm run. */
const PURGE_BATCH = 1000;
/** How long a batch waits for a fenced master's failover to end before TRYAGAIN. */
const FENCE_WAIT_MS = 3000;

export class Node {
  readonly name: string;
  readonly clock: Clock;
  readonly engine: Engine;
  readonly faults: Faults;
  /** The transport as this node sees it (through its faults). */
  readonly peers: Transport;
  readonly sentinels: SentinelSettings;
  /** The configuration names this node, so the sentinels watch it. */
  readonly watched: boolean;
  timers!: Timers<Timer>;
  /** The newest topology this node knows (stored). */
  known!: Topology;
  /** What this node does as master or replica: everything the node asks of it is in `Role`. */
  role!: Role;
  /** The epoch of the coordinated failover that fenced this master, or null (stored). */
  private fencedAt: number | null = null;
  /** Batches waiting for a fence to lift. */
  private fenceWaiters: (() => void)[] = [];
  readonly subscribers: Subscribers;
  /** PUBLISH's delivery to the replicas, while this node is the primary. */
  readonly publisher: Publisher;

  private constructor(private readonly host: NodeHost) {
    this.name = host.name;
    this.clock = { now: () => host.clock.now(), sleep: (ms, signal) => host.clock.sleep(ms, signal) };
    this.sentinels = host.sentinels;
    this.watched = host.configured.primary === this.name || host.configured.replicas.includes(this.name);
    this.faults = new Faults(this.name, this.clock);
    this.peers = this.faults.wrap(host.transport);
    this.subscribers = host.subscribers ?? NO_SUBSCRIBERS;
    this.publisher = new Publisher(this.subscribers, this.clock);
    const maxValue = host.maxValueBytes;
    this.engine = new Engine(host.storage, {
      clock: this.clock,
      random: host.random,
      node: this.name,
      // A script's redis.log goes to the node's console (wrangler tail, Workers Logs).
      blockedClients: () => (this.role as { blockedClients?: number } | undefined)?.blockedClients ?? 0,
      // A script's log line is bytes (a binary string): printed as UTF-8 text.
      log: (level, message) => (level >= 3 ? console.warn : console.log)(`flaredis ${this.name}: script: ${toText(message)}`),
      maxValueBytes: maxValueBytesOf(maxValue),
      cluster: host.cluster ?? false,
      replication: {
        goodReplicas: (maxLagMs) => this.role.goodReplicas(maxLagMs),
        replicaRefusal: () => this.role.replicaRefusal(),
        writeRefusal: () => this.role.writeRefusal(),
        fullSyncInProgress: () => this.role.fullSyncInProgress(),
        // The topology this node knows names its role (the engine's default, master, until it is loaded).
        role: () => (this.known ? roleIn(this.known, this.name) : "master"),
        info: () => ({
          slaves: this.role.slaveLines(),
          master: this.role.infoFields(),
          failoverState: this.failoverState(),
          loading: this.role.loading(),
        }),
      },
    });
  }

  /** Loads the node's state and starts its role. */
  static async start(host: NodeHost): Promise<Node> {
    const node = new Node(host);
    await node.load();
    return node;
  }

  private async load(): Promise<void> {
    const meta = this.host.storage.meta;
    const configured = this.host.configured;
    const stored = parseTopology(JSON.parse(String(meta.get("topology") ?? "null")));
    const storedKey = meta.get("config_key");
    const fenced = Number(meta.get("fenced_at") ?? 0);
    let known: Topology;
    if (stored === null) known = configured;
    // A stored topology (from a failover) holds while the deployment is configured as it was
    // when it was stored (or, for a node the configuration does not name, always).
    else if (!this.watched || storedKey === configKey(configured) || (storedKey === null && sameNodes(stored, configured)))
      known = stored;
    // A deploy changed the nodes or the primary: the configured topology, after every epoch this
    // node knew (the others do the same; the largest epoch of it wins where they differ).
    // A fence of a failover that never ended is lifted by it too.
    else known = { ...configured, epoch: Math.max(stored.epoch, fenced) + 1 };
    this.faults.down = meta.get("fault_down") === 1;
    this.fencedAt = fenced > 0 ? fenced : null;
    if (stored === null || known !== stored || storedKey !== configKey(configured))
      this.engine.transaction(() => {
        meta.set("topology", JSON.stringify(known));
        meta.set("config_key", configKey(configured));
        // A deploy that changes this node's role is a change of role as a failover's is.
        if (stored !== null) changeRole(this.engine, roleIn(stored, this.name), roleIn(known, this.name), () => this.host.random.hex(20));
      });
    this.known = known;
    const alarm = await this.host.getAlarm();
    this.timers = new Timers<Timer>(this.host, this.clock, alarm);
    await this.becomeRole(false);
    this.collectGarbageSoon(); // a purge a restart interrupted goes on
  }

  /** Makes the role object for the role the topology names and starts it; `promoted`: by a failover, just now. */
  private async becomeRole(promoted: boolean): Promise<void> {
    const role = (this.role = this.engine.role === "master" ? new PrimaryRole(this, promoted) : new ReplicaRole(this, this.known.primary));
    await role.start();
  }

  background(work: Promise<unknown>): void {
    this.host.background(work);
  }

  // ---- Clients -----------------------------------------------------------------------------

  /**
   * Runs a batch of commands (one, a pipeline or a MULTI); see `Engine.run`. Sent `asPrimary` to a
   * node that is not the master, it runs nothing and answers `notPrimary`. While a failover has
   * fenced this master, every batch waits for it to end (a read may expire keys, which writes).
   */
  async execute(batch: Batch, asPrimary = false): Promise<ExecReply> {
    this.faults.checkUp();
    const engine = this.engine;
    await this.role.beforeBatch(batch);
    if (this.fenced()) await this.fenceLifted(FENCE_WAIT_MS);
    if (asPrimary && engine.role !== "master")
      return {
        result: { error: errors.readOnly().message, offset: engine.log.offset },
        replid: engine.log.replid,
        servedBy: this.servedBy(),
        notPrimary: this.known,
      };
    if (this.fenced())
      return { result: { error: errors.tryAgain().message, offset: engine.log.offset }, replid: engine.log.replid, servedBy: this.servedBy() };
    const before = engine.log.offset;
    // A client's blocking command may wait on the master (node/blocked.ts).
    const result = engine.run(engine.role === "master" ? { ...batch, blocking: true } : batch);
    // The history the result belongs to: a promotion while this call waits below shifts it.
    const replid = engine.log.replid;
    await this.role.afterBatch(result, engine.log.offset !== before, batch);
    this.collectGarbageSoon();
    return { result, replid, servedBy: this.servedBy() };
  }

  /** A read with the client's policy: a master serves it; a replica when it can (see `ReplicaRole.read`). */
  async read(batch: Batch, policy: ReadPolicy): Promise<ExecReply | null> {
    this.faults.checkUp();
    return this.role.read(batch, policy);
  }

  info(sections: string[] = []): string {
    this.faults.checkUp();
    return this.engine.info(sections);
  }

  digest(): { node: string; offset: number; digest: string } {
    this.faults.checkUp();
    return { node: this.name, offset: this.engine.log.offset, digest: digest(this.engine) };
  }

  /** Begins an RDB export of this master's keyspace at its offset (engine/export/rdb-export.ts); Redis's error text when it cannot. */
  exportBegin(): ExportStart | { error: string } {
    this.faults.checkUp();
    return answerOf(() => beginExport(this.engine, this.host.random.hex(8), this.clock.now()));
  }

  /** The next bytes of export `id`, about `maxBytes` of them (null: it ended), or why it stopped. */
  exportChunk(id: string, maxBytes: number): { bytes: Uint8Array | null } | { error: string } {
    this.faults.checkUp();
    return answerOf(() => ({ bytes: exportChunk(this.engine, id, maxBytes, this.clock.now()) }));
  }

  /** Stops export `id` (its reader went away), if it runs. */
  exportStop(id: string): void {
    if (this.engine.exporting?.start.id === id) this.engine.exporting.stop("its reader went away");
  }

  // ---- Replication messages ----------------------------------------------------------------

  psync(request: PsyncRequest): PsyncAnswer {
    this.faults.checkLink();
    return this.role.psync(request);
  }

  snapshot(replica: string, cursor: SnapshotCursor): SnapshotChunk {
    this.faults.checkLink();
    return this.role.snapshot(replica, cursor);
  }

  async push(push: Push): Promise<Ack> {
    this.faults.checkUp();
    if (this.faults.linkDown) return this.ack("down");
    if (newerTopology(this.known, push.topology)) await this.adoptTopology(push.topology);
    else if (push.topology.epoch < this.known.epoch) return this.ack("fenced");
    return this.role.push(push);
  }

  async catchUp(): Promise<Ack> {
    this.faults.checkUp();
    return this.role.catchUp();
  }

  /**
   * This node's answer to a push or a catch-up. `toMaster`: the answer goes to the master (a
   * push's), so a replica adds the reads it served since its last (`Engine.accessReport`).
   */
  ack(state: Ack["state"], toMaster = false): Ack {
    const ack: Ack = { offset: this.engine.log.offset, configVersion: this.engine.configVersion, state, topology: this.known };
    const accessed = toMaster ? this.engine.accessReport() : [];
    return accessed.length > 0 ? { ...ack, accessed } : ack;
  }

  // ---- Pub/sub ------------------------------------------------------------------------------

  /**
   * A PUBLISH's or a PUBSUB's answer on the primary: delivered to every region (their pushes
   * started by `kick`), or every node's subscriptions gathered (a node that does not answer counts none).
   */
  async answerPubSub(reply: Publish | PubSubQuery, kick: () => void): Promise<Reply> {
    const replicas = this.known.replicas;
    if (reply instanceof Publish) return this.publisher.publish({ channel: reply.channel, message: reply.message, shard: reply.shard }, replicas, kick);
    const counts = await Promise.all(replicas.map((r) => this.peers.node(r).subscriptions().catch(() => NO_SUBSCRIBERS.counts())));
    return reply.answer(mergeCounts([this.subscribers.counts(), ...counts]));
  }

  /** See `NodeApi.subscriptions`. */
  async subscriptions(): Promise<SubscriptionCounts> {
    return this.subscribers.counts();
  }

  // ---- Topology, failover and sentinels ----------------------------------------------------

  topology(): Topology {
    this.faults.checkUp();
    return this.known;
  }

  /** See `NodeApi.adopt`. */
  async adopt(topology: Topology, at?: Position): Promise<Topology> {
    this.faults.checkUp();
    const t = parseTopology(topology);
    if (t === null) throw new Error("flaredis: not a topology");
    await this.adoptTopology(t, at);
    return this.known;
  }

  /**
   * Moves to a newer topology, changing role if it says so; false when refused (an epoch not
   * newer, or a promotion this node cannot take). A replica promoted to master starts a new
   * history (keeping the old one as replid2), expires keys and pushes to its replicas; a master
   * demoted to replica stops serving writes (waiting ones are answered `notPrimary`) and syncs
   * with the new master; a replica whose master changed follows the new one.
   */
  async adoptTopology(t: Topology, at?: Position): Promise<boolean> {
    if (!newerTopology(this.known, t)) return false;
    const engine = this.engine;
    const was = engine.role;
    const role = roleIn(t, this.name);
    if (was === "slave" && role === "master") {
      if (this.role.loading()) return false;
      if (at && !(engine.log.offset === at.offset && engine.log.holds(at))) return false;
    }
    engine.transaction(() => {
      this.host.storage.meta.set("topology", JSON.stringify(t));
      if (this.fencedAt !== null && t.epoch >= this.fencedAt) this.host.storage.meta.set("fenced_at", 0);
      changeRole(engine, was, role, () => this.host.random.hex(20));
    });
    if (this.fencedAt !== null && t.epoch >= this.fencedAt) this.fencedAt = null;
    const previous = this.role;
    this.known = t;
    for (const wake of this.fenceWaiters.splice(0)) wake();
    if (!previous.carryInto(t, role)) {
      previous.stop();
      await this.becomeRole(was === "slave");
    }
    return true;
  }

  /** See `NodeApi.fence`. */
  fence(epoch: number): FenceReply {
    this.faults.checkUp();
    const engine = this.engine;
    const answer = (fenced: boolean) => ({ fenced, offset: engine.log.offset, replid: engine.log.replid, topology: this.known });
    if (this.role.kind !== "master" || epoch <= this.known.epoch) return answer(false);
    // Fenced by another failover still under way: that one decides; this one loses.
    if (this.fenced() && this.fencedAt !== epoch) return answer(false);
    if (this.fencedAt === null || epoch > this.fencedAt) {
      this.host.storage.meta.set("fenced_at", epoch);
      this.fencedAt = epoch;
    }
    // The replicas get the last writes now rather than at the next heartbeat.
    this.role.pushToReplicas();
    return answer(true);
  }

  /** A master fenced by a failover of a newer epoch than it knows takes no batch. */
  fenced(): boolean {
    return this.engine.role === "master" && this.fencedAt !== null && this.fencedAt > this.known.epoch;
  }

  private async fenceLifted(ms: number): Promise<void> {
    const timeout = new AbortController();
    await Promise.race([this.clock.sleep(ms, timeout.signal), new Promise<void>((wake) => this.fenceWaiters.push(wake))]);
    timeout.abort();
  }

  private failoverState(): NodeStatus["failoverState"] {
    return this.fenced() ? "waiting-for-sync" : "no-failover";
  }

  /** A sentinel's ping: takes the newer topology it may carry, and answers this node's status. */
  async hello(hello: SentinelHello): Promise<NodeStatus> {
    this.faults.checkUp();
    const t = parseTopology(hello.topology);
    if (t && newerTopology(this.known, t)) await this.adoptTopology(t);
    if (hello.lease !== false) this.role.heardFrom(hello.sentinel);
    return this.status();
  }

  status(probe = false): NodeStatus {
    this.faults.checkUp();
    if (probe) this.role.pushToReplicas();
    const engine = this.engine;
    const role = this.role;
    return {
      node: this.name,
      role: engine.role,
      topology: this.known,
      offset: engine.log.offset,
      replid: engine.log.replid,
      synced: !role.loading(),
      linkUp: role.linkUp(),
      staleness: role.staleness(),
      priority: engine.config["replica-priority"],
      fencedAt: this.fenced() ? this.fencedAt : null,
      failoverState: this.failoverState(),
      replicas: role.replicas(),
    };
  }

  /** What /metrics reads of this node in one call (the storage counters are the Durable Object's). */
  metrics(): Omit<NodeMetrics, "storage"> {
    const status = this.status();
    const engine = this.engine;
    const replication = engine.replication.info();
    return {
      status,
      uptimeSeconds: Math.floor((this.clock.now() - engine.startedAt) / 1000),
      loading: replication.loading === true,
      connectedSlaves: replication.slaves.length,
      stats: { ...engine.stats },
      commands: Object.fromEntries(engine.commandCalls),
      keyspace: keyspaceFigures(engine),
      backlog: { bytes: engine.log.backlogBytes, histlen: engine.log.backlog.histlen },
    };
  }

  // ---- Timers and faults -------------------------------------------------------------------

  /** A large collection was dropped: its elements are deleted on the alarm, in batches. */
  collectGarbageSoon(): void {
    if (this.engine.keyspace.garbage && !this.timers.has("purge")) this.background(this.timers.schedule("purge", this.clock.now()));
  }

  /** The one alarm: runs the timers that are due, then re-arms for the earliest left. */
  async alarm(): Promise<void> {
    const engine = this.engine;
    const now = this.clock.now();
    const due = this.timers.takeDue();
    const role = this.role;
    // A node that is down does nothing, but keeps its timers for when it is back.
    if (this.faults.down) {
      for (const name of due) this.timers.set(name, now + 1000);
      await this.timers.rearm();
      return;
    }
    // Any role deletes the elements of collections it dropped.
    if (due.has("purge") && engine.purge(PURGE_BATCH) === PURGE_BATCH) this.timers.set("purge", now);
    await role.alarm(due, now);
    await this.timers.rearm();
  }

  /** Applies an injected fault other than a restart (the Durable Object drops itself for that). */
  fault(fault: Exclude<Fault, { restart: true }>): void {
    if ("down" in fault) {
      // Stored: a node taken down stays down across restarts, as a lost region would.
      this.host.storage.meta.set("fault_down", fault.down ? 1 : 0);
      this.faults.down = fault.down;
      if (!fault.down) this.role.resume();
      return;
    }
    this.faults.checkUp();
    if ("delay" in fault) this.faults.delayMs = fault.delay;
    if (!("link" in fault)) return;
    this.faults.linkDown = fault.link === "down";
    if (this.faults.linkDown) this.role.cut();
    else this.role.resume();
  }


  private servedBy(): string {
    return `${this.engine.role === "master" ? "primary" : "replica"}:${this.name}`;
  }
}

/** A node listed as a replica is one; any other node (the primary, or one outside the topology) is a master. */
export function roleIn(t: Topology, name: string): RedisRole {
  return t.replicas.includes(name) ? "slave" : "master";
}

/** `fn`'s value, or the Redis error it threw as `{ error }` (an RPC answer rather than a rejection). */
function answerOf<T>(fn: () => T): T | { error: string } {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RedisError) return { error: e.message };
    throw e;
  }
}
