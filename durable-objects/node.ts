/**
 * A Flaredis node: one Durable Object per region, SQLite-backed, running the engine. Every node
 * is this same class; its role (master or replica) is node state, not code, because failover
 * changes it at run time. The replication protocol is described in engine/replication.ts.
 *
 * Lifecycle: state is loaded in the constructor inside `blockConcurrencyWhile`; a start-up error
 * is kept and re-thrown by every call instead of breaking the input gate. One alarm serves every
 * timer (today: the active expiry sweep), re-armed to the earliest deadline. A replica starts its
 * sync loop after start-up, and nothing else on it runs on a timer; an idle master pings its
 * replicas every IDLE_PING_MS (Redis's repl-ping-replica-period), so a replica learns that its
 * master is gone within repl-timeout, and sleeps between pings.
 */
import { DurableObject } from "cloudflare:workers";
import { type Clock, cryptoRandom, systemClock } from "./engine/clock";
import { WaitForReplicas } from "./engine/command";
import { type Batch, type BatchResult, DEFAULT_LIMITS, Engine } from "./engine/engine";
import type { Config } from "./engine/config";
import { errors } from "./engine/errors";
import type { Role } from "./engine/keyspace";
import type { LogEntry, Position, PsyncReply, SnapshotChunk, SyncState } from "./engine/replication";
import { applyEntries, beginFullSync, consistentAt, digest, endFullSync, forgetSync, hasSynced, loadChunk, psync, snapshotChunk } from "./engine/sync";
import { SqliteStorage, type StorageUsage } from "./sqlite-storage";
import { type Topology, type TopologyEnv, parseTopology, sameNodes, topologyOf } from "./topology";

export interface NodeEnv extends TopologyEnv {
  NODE: DurableObjectNamespace;
  /** Largest string value in bytes. */
  FLAREDIS_MAX_VALUE_BYTES?: string;
}

export interface ExecReply {
  readonly result: BatchResult;
  /** The history `result.offset` belongs to (the replid): with it, the response's sync token. */
  readonly replid: string;
  /** `primary:enam` or `replica:weur`, for the `Flaredis-Served-By` header. */
  readonly servedBy: string;
  /** On a replica: how old its data may be, in ms, for the `Flaredis-Staleness` header. */
  readonly staleness?: number;
  /**
   * Set when the batch was sent to this node as the primary and it is not (any more): nothing ran,
   * `result` is Redis's READONLY error, and this is the newest topology the node knows.
   */
  readonly notPrimary?: Topology;
}

/** What a client requires of a read served by a replica. */
export interface ReadPolicy {
  /** The replication position the client has seen (its sync token), or null for none. */
  readonly position: Position | null;
  /** How long the replica may wait to reach `position`. */
  readonly waitMs: number;
  /** The oldest data the client accepts, in ms (Flaredis-Max-Staleness), or null for any. */
  readonly maxStalenessMs: number | null;
}

/** PSYNC as a replica sends it; `replid` "?" for a replica that never synced. */
export interface PsyncRequest {
  readonly replica: string;
  readonly replid: string;
  readonly offset: number;
  /** True for the first PSYNC after (re)connecting: the one Redis counts in sync_partial_ok. */
  readonly handshake: boolean;
}

/** The master's CONFIG, sent to a replica whose version is older: settings apply everywhere. */
export interface ConfigUpdate {
  readonly values: Config;
  readonly version: number;
}

/**
 * The master's PSYNC answer, with its session (Redis's run_id): new at every start of the master,
 * and its topology. A node that is not the master answers `notmaster` (the replica learns the
 * newer topology from it).
 */
export type PsyncAnswer = (PsyncReply | { readonly kind: "notmaster" }) & {
  readonly session: string;
  readonly config: ConfigUpdate;
  readonly topology: Topology;
};

/** What the master pushes after a commit; entries may be empty (a wake-up). */
export interface Push {
  readonly session: string;
  readonly replid: string;
  readonly entries: readonly LogEntry[];
  readonly masterOffset: number;
  /** The master's settings, when the replica's last ACK showed an older version. */
  readonly config?: ConfigUpdate;
  /** The topology the master serves in. */
  readonly topology: Topology;
}

/** A replica's answer to a push: its ACK (REPLCONF ACK). */
export interface Ack {
  readonly offset: number;
  /** The version of the settings the replica has. */
  readonly configVersion: number;
  /**
   * `down`: the replica's link is cut (fault injection); `fenced`: the replica knows a newer
   * topology, in which the sender is not the master. Either way the push was not taken.
   */
  readonly state: SyncState | "master" | "down" | "fenced";
  /** The topology the replica knows (the sender adopts it when newer). */
  readonly topology: Topology;
}

/**
 * What nodes and the worker call on a node over RPC. (A narrow seam, and typed by hand: the RPC
 * stub's generated types cannot follow the recursive `Reply` type.)
 */
export interface NodeApi {
  /** `asPrimary`: the caller takes this node for the primary (see `ExecReply.notPrimary`). */
  execute(batch: Batch, asPrimary?: boolean): Promise<ExecReply>;
  read(batch: Batch, policy: ReadPolicy): Promise<ExecReply | null>;
  info(sections?: string[]): Promise<string>;
  digest(): Promise<{ node: string; offset: number; digest: string }>;
  psync(request: PsyncRequest): Promise<PsyncAnswer>;
  snapshot(replica: string, cursor: number): Promise<SnapshotChunk>;
  push(push: Push): Promise<Ack>;
  catchUp(): Promise<Ack>;
  status(): Promise<NodeStatus>;
  storageUsage(): Promise<StorageUsage>;
  fault(fault: Fault): Promise<void>;
  topology(): Promise<Topology>;
  adopt(topology: Topology): Promise<Topology>;
  pauseWrites(ms: number): Promise<{ offset: number; epoch: number }>;
  resumeWrites(): Promise<void>;
}

/** Fault injection for tests (admin API, when FLAREDIS_ALLOW_FAULTS is on). */
export type Fault = { readonly link: "down" | "up" } | { readonly restart: true } | { readonly delay: number };

/** What the admin topology reports of a master and its replicas, from the master's view. */
export interface NodeStatus {
  readonly node: string;
  readonly role: Role;
  /** The newest topology this node knows. */
  readonly topology: Topology;
  readonly offset: number;
  readonly replicas: readonly {
    node: string;
    link: "up" | "down";
    offset: number;
    lag_ms: number;
    /** Log entries sent to it (pushes and PSYNC CONTINUE) since this master started. */
    entries_shipped: number;
  }[];
}

/** Most backlog kept for a streaming replica beyond repl-backlog-size (Redis's replica buffer limit). */
const REPLICA_BUFFER_BYTES = 64 * 1024 * 1024;
/** The timers that share the node's one alarm. */
type Timer = "expiry" | "heartbeat";
/** Heartbeat period while writes go on (Redis replicas ACK once a second). */
const HEARTBEAT_MS = 1000;
/**
 * Heartbeat period without writes (Redis's repl-ping-replica-period, 10 s): quiet, but provably
 * alive. A replica that hears nothing for repl-timeout (60 s) marks its link down.
 */
const IDLE_PING_MS = 10_000;
/** The furthest ahead the alarm is set (see `rearm`). */
const MAX_ALARM_MS = 24 * 60 * 60 * 1000;
/** Keys expired per alarm run; more due keys re-arm the alarm at once. */
const SWEEP_BATCH = 1000;
/** Bytes of stream per PSYNC answer or push, and of keyspace per snapshot chunk. */
const STREAM_BYTES = 256 * 1024;
const CHUNK_BYTES = 1024 * 1024;
/** The reason an injected restart gives; the admin API recognises it. */
export const RESTART_REASON = "flaredis: restart injected";

/** What a master knows of one replica. */
interface ReplicaLink {
  /** Last acknowledged offset, or -1 before the first contact. */
  offset: number;
  ackAt: number;
  /** A push is under way; another commit only marks `again`. */
  pushing: boolean;
  again: boolean;
  /** Start of a full sync in progress: the backlog is kept from there. */
  syncFrom: number | null;
  /** False once a push failed, until the replica is heard from again. */
  reachable: boolean;
  /** The settings version the replica last reported. */
  configVersion: number;
  /** Log entries sent to it, for the admin topology (and the bench's partial resync figure). */
  shipped: number;
}

export class FlaredisNode extends DurableObject<NodeEnv> implements NodeApi {
  /** The node's time. Tests replace it (through `runInDurableObject`) with a `ManualClock`. */
  clock: Clock = systemClock;
  private engine!: Engine;
  private storage!: SqliteStorage;
  private name = "";
  /** The newest topology this node knows (stored; the configured one until a failover). */
  private known!: Topology;
  /** A coordinated failover has paused writes here (see `pauseWrites`). */
  private paused: { done: Promise<void>; resume: () => void } | null = null;
  private startError: unknown = null;
  /** When the alarm is set, in engine time; null when unset. */
  private armedAt: number | null = null;
  /** The timers the one alarm serves, in engine time. */
  private readonly timers = new Map<Timer, number>();
  // Master side.
  private readonly links = new Map<string, ReplicaLink>();
  /** This instance's run id: a replica that sees a new one reconnects with a PSYNC handshake. */
  private readonly session = cryptoRandom.hex(20);
  private writesSinceBeat = false;
  // Replica side.
  private syncState: SyncState = "connect";
  private syncing: Promise<void> | null = null;
  private lastContact = 0;
  /** A cut replication link (fault injection): no pushes, PSYNC or snapshots in or out. */
  private linkDown = false;
  /** A slow replication link (fault injection): what arrives is applied this many ms later. */
  private delayMs = 0;
  /** The master session this replica is connected to. */
  private masterSession: string | null = null;
  /**
   * The offset from which this replica's keyspace is consistent after a full sync (see
   * `consistentAt`): below it the node is LOADING.
   */
  private consistentFrom = 0;
  /** When a message from the master last found this replica with everything it announced. */
  private freshAt: number | null = null;

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
    this.name = this.ctx.id.name ?? String(storage.meta.get("node") ?? "");
    if (this.ctx.id.name && storage.meta.get("node") !== this.name) storage.meta.set("node", this.name);
    const configured = topologyOf(this.env);
    // A stored topology (from a failover) holds while the deployment has the same nodes (or, for
    // a node the configuration does not name, always).
    const stored = parseTopology(JSON.parse(String(storage.meta.get("topology") ?? "null")));
    const configuredHere = configured.primary === this.name || configured.replicas.includes(this.name);
    const holds = stored && stored.epoch >= configured.epoch && (sameNodes(stored, configured) || !configuredHere);
    this.known = holds ? stored : configured;
    const role = this.roleIn(this.known);
    const maxValue = Number(this.env.FLAREDIS_MAX_VALUE_BYTES);
    this.engine = new Engine(storage, {
      clock: { now: () => this.clock.now(), sleep: (ms) => this.clock.sleep(ms) },
      random: cryptoRandom,
      role,
      node: this.name,
      maxValueBytes: Number.isSafeInteger(maxValue) && maxValue > 0 ? maxValue : DEFAULT_LIMITS.maxValueBytes,
    });
    this.engine.replicationInfo = () => this.replicationInfo();
    this.refreshConsistency();
    this.engine.replicaRefusal = () => {
      if (this.loading()) return errors.loading();
      if (!this.linkUp() && !this.engine.config["replica-serve-stale-data"]) return errors.masterDown();
      return null;
    };
    this.engine.goodReplicas = (maxLagMs) => {
      const now = this.clock.now();
      return [...this.links.values()].filter((l) => l.reachable && l.offset >= 0 && now - l.ackAt <= maxLagMs).length;
    };
    const alarm = await this.ctx.storage.getAlarm();
    this.armedAt = alarm === null ? null : this.toEngineTime(alarm);
    if (role === "master") {
      await this.schedule("expiry", this.engine.nextDeadline());
      // Idle or not, a master's replicas hear from it at least every IDLE_PING_MS.
      await this.schedule("heartbeat", this.clock.now() + IDLE_PING_MS);
      // A (re)started master announces its new session, so replicas resync without waiting for
      // a write (as Redis replicas reconnect to a restarted master).
      this.pushToReplicas();
    } else this.ctx.waitUntil(this.sync());
  }

  private ready(): Engine {
    if (this.startError) throw this.startError;
    return this.engine;
  }

  /** A node listed as a replica is one; any other node (the primary, or one outside the topology) is a master. */
  private roleIn(t: Topology): Role {
    return t.replicas.includes(this.name) ? "slave" : "master";
  }

  /**
   * Runs a batch of commands (one, a pipeline or a MULTI); see `Engine.run`. Sent `asPrimary` to a
   * node that is not the master, it runs nothing and answers `notPrimary`. While a failover has
   * paused writes, every batch waits (a read may expire keys, which writes).
   */
  async execute(batch: Batch, asPrimary = false): Promise<ExecReply> {
    const engine = this.ready();
    // Replicas idle for a while have not acknowledged lately: ask them before refusing a write.
    if (!engine.enoughReplicas()) await this.probeReplicas();
    while (this.paused) await this.paused.done;
    if (asPrimary && engine.role !== "master")
      return {
        result: { error: errors.readOnly().message, offset: engine.log.offset },
        replid: engine.log.replid,
        servedBy: this.servedBy(),
        notPrimary: this.known,
      };
    const before = engine.log.offset;
    const result = engine.run(batch);
    // The history the result belongs to: a promotion while this call waits below shifts it.
    const replid = engine.log.replid;
    if (engine.log.offset !== before) await this.committed();
    const deadline = engine.takeDeadline();
    if (engine.role === "master") await this.schedule("expiry", deadline);
    if ("outcomes" in result)
      for (const outcome of result.outcomes)
        if ("result" in outcome && outcome.result instanceof WaitForReplicas)
          (outcome as { result: number }).result = await this.waitForReplicas(outcome.result);
    return { result, replid, servedBy: this.servedBy() };
  }

  /**
   * A read that a replica serves only when it meets the client's policy: it has applied the
   * position the client has seen (pulling from the master, waiting at most `waitMs`), and its data
   * is no older than `maxStalenessMs` (it applied everything up to the offset the master announced
   * in a message received at most that long ago; it pulls once to refresh). A replica that cannot
   * (behind, stale, link down) answers null and the worker asks the primary. A master serves it.
   */
  async read(batch: Batch, policy: ReadPolicy): Promise<ExecReply | null> {
    const engine = this.ready();
    if (engine.role === "master") return this.execute(batch);
    if (!this.linkUp()) return null;
    const position = policy.position;
    if (position && !engine.log.holds(position)) {
      let waited = false;
      const timer = this.clock.sleep(policy.waitMs).then(() => {
        waited = true;
      });
      // Pull until there, out of time, or a pull brings nothing (a position the master never had,
      // or one of a history this node does not share: the primary answers those).
      for (let before = -1; !engine.log.holds(position) && !waited && this.linkUp() && engine.log.offset !== before; ) {
        before = engine.log.offset;
        await Promise.race([this.sync(), timer]);
      }
      if (!engine.log.holds(position)) return null;
    }
    if (policy.maxStalenessMs !== null && this.staleness() > policy.maxStalenessMs) {
      await this.sync(); // one pull: an answer from the master makes the data fresh as of now
      if (this.staleness() > policy.maxStalenessMs) return null;
    }
    return { ...(await this.execute(batch)), staleness: this.staleness() };
  }

  /** How old this replica's data may be: the time since it last had all the master announced. */
  private staleness(): number {
    return this.freshAt === null ? Number.MAX_SAFE_INTEGER : Math.max(0, this.clock.now() - this.freshAt);
  }

  /** The INFO text of this node (admin API and tests). */
  async info(sections: string[] = []): Promise<string> {
    return this.ready().info(sections);
  }

  /** The digest of the logical keyspace, with the offset it reflects. */
  async digest(): Promise<{ node: string; offset: number; digest: string }> {
    const engine = this.ready();
    return { node: this.name, offset: engine.log.offset, digest: digest(engine) };
  }

  /** The one alarm: runs the timers that are due, then re-arms for the earliest left. */
  override async alarm(): Promise<void> {
    const engine = this.ready();
    this.armedAt = null;
    const now = this.clock.now();
    const due = new Set<Timer>();
    for (const [name, at] of this.timers) if (at <= now) due.add(name);
    for (const name of due) this.timers.delete(name);
    // Replicas never expire keys: the master's DELs do.
    if (due.has("expiry") && engine.role === "master" && this.paused) this.timers.set("expiry", now + 100);
    else if (due.has("expiry") && engine.role === "master") {
      const before = engine.log.offset;
      const removed = engine.sweep(SWEEP_BATCH);
      if (engine.log.offset !== before) await this.committed();
      await this.schedule("expiry", removed === SWEEP_BATCH ? now : engine.nextDeadline());
    }
    if (due.has("heartbeat")) await this.heartbeat();
    // Come early (the alarm is capped, see `rearm`): the earliest deadline may have gone meanwhile.
    if (!due.has("expiry") && this.timers.has("expiry") && engine.role === "master") {
      const at = engine.nextDeadline();
      if (at === null) this.timers.delete("expiry");
      else this.timers.set("expiry", at);
    }
    await this.rearm();
  }

  /** Sets timer `name` to `at` (engine time) unless it is due earlier, and re-arms the alarm. */
  private async schedule(name: Timer, at: number | null): Promise<void> {
    const current = this.timers.get(name);
    if (at === null || (current !== undefined && current <= at)) return;
    this.timers.set(name, at);
    await this.rearm();
  }

  /**
   * Sets the alarm to the earliest timer, but never further than MAX_ALARM_MS ahead: deadlines go
   * up to Redis's (year 292 million), the runtime's alarms only to 2189. An alarm that comes early
   * finds nothing due and re-arms.
   */
  private async rearm(): Promise<void> {
    let next: number | null = null;
    for (const at of this.timers.values()) if (next === null || at < next) next = at;
    if (next === null) return;
    next = Math.min(next, this.clock.now() + MAX_ALARM_MS);
    if (this.armedAt !== null && this.armedAt <= next) return;
    this.armedAt = next;
    await this.ctx.storage.setAlarm(this.toWallTime(next));
  }

  // ---- Master side -------------------------------------------------------------------------

  /** PSYNC from a replica: CONTINUE with entries, or FULLRESYNC (see replication.ts). */
  async psync(request: PsyncRequest): Promise<PsyncAnswer> {
    const engine = this.ready();
    this.checkLink();
    if (engine.role !== "master") return { kind: "notmaster", session: this.session, config: this.configUpdate(), topology: this.known };
    const reply = psync(engine, request.replid, request.offset, STREAM_BYTES);
    const link = this.link(request.replica);
    if (reply.kind === "fullresync") {
      engine.stats.syncFull++;
      if (request.handshake && request.replid !== "?") engine.stats.syncPartialErr++;
      link.syncFrom = reply.offset;
      link.ackAt = this.clock.now();
      link.offset = -1;
    } else {
      if (request.handshake) engine.stats.syncPartialOk++;
      if (link.syncFrom !== null && request.offset >= link.syncFrom) link.syncFrom = null;
      link.shipped += reply.entries.length;
      this.acked(link, request.offset);
    }
    this.retainBacklog();
    return { ...reply, session: this.session, config: this.configUpdate(), topology: this.known };
  }

  /** One chunk of a full sync's snapshot. */
  async snapshot(replica: string, cursor: number): Promise<SnapshotChunk> {
    const engine = this.ready();
    this.checkLink();
    this.link(replica).ackAt = this.clock.now();
    return snapshotChunk(engine, cursor, CHUNK_BYTES);
  }

  private link(name: string): ReplicaLink {
    let link = this.links.get(name);
    if (!link) {
      link = { offset: -1, ackAt: 0, pushing: false, again: false, syncFrom: null, reachable: true, configVersion: -1, shipped: 0 };
      this.links.set(name, link);
    }
    return link;
  }

  private acked(link: ReplicaLink, offset: number): void {
    link.offset = Math.max(link.offset, offset);
    link.ackAt = this.clock.now();
    link.reachable = true;
    this.retainBacklog();
    for (const wake of this.ackWaiters.splice(0)) wake();
  }

  /** Resolvers of WAITs, woken at every ACK. */
  private readonly ackWaiters: (() => void)[] = [];

  /**
   * WAIT: resolves with the number of replicas that acknowledged `offset`, once there are
   * `numreplicas` of them or the timeout has passed. A timeout of 0 waits at most `repl-timeout`.
   */
  private async waitForReplicas(w: WaitForReplicas): Promise<number> {
    if (w.offset < 0) throw new Error("flaredis: a WAIT whose offset the engine did not set");
    const timeout = w.timeoutMs > 0 ? w.timeoutMs : this.engine.config["repl-timeout"] * 1000;
    let timedOut = false;
    const timer = this.clock.sleep(timeout).then(() => {
      timedOut = true;
    });
    this.pushToReplicas();
    for (;;) {
      const acked = [...this.links.values()].filter((l) => l.reachable && l.offset >= w.offset).length;
      if (acked >= w.numreplicas || timedOut) return acked;
      await Promise.race([timer, new Promise<void>((wake) => this.ackWaiters.push(wake))]);
    }
  }

  /** Pushes to every replica and waits (at most a second) for their ACKs. */
  private async probeReplicas(): Promise<void> {
    await Promise.race([
      Promise.all(this.known.replicas.map((r) => this.pushTo(r))),
      this.clock.sleep(1000),
    ]);
  }

  private configUpdate(): ConfigUpdate {
    return { values: this.engine.config, version: this.engine.configVersion };
  }

  /** After a commit on the master: push it, and keep heartbeats going while writes go on. */
  private async committed(): Promise<void> {
    this.pushToReplicas();
    this.writesSinceBeat = true;
    this.retainBacklog();
    await this.schedule("heartbeat", this.clock.now() + HEARTBEAT_MS);
  }

  /**
   * A heartbeat: every replica is pushed to (REPLCONF GETACK) and answers with its offset. While
   * writes go on there is one about every second; after a second without writes the master says
   * it is idle and stops, so idle replicas can hibernate.
   */
  private async heartbeat(): Promise<void> {
    if (this.engine.role !== "master") return;
    const active = this.writesSinceBeat;
    this.writesSinceBeat = false;
    this.retainBacklog();
    this.pushToReplicas();
    await this.schedule("heartbeat", this.clock.now() + (active ? HEARTBEAT_MS : IDLE_PING_MS));
  }

  /**
   * Keeps the backlog that replicas still need: from the start of every full sync in progress
   * (however long it takes), and from the last ACK of every reachable streaming replica, so a
   * burst larger than repl-backlog-size does not push connected replicas into a full sync. The
   * latter is capped, as Redis caps a replica's output buffer, so a stuck replica cannot hold the
   * backlog forever.
   */
  private retainBacklog(): void {
    const log = this.engine.log;
    const now = this.clock.now();
    let from: number | null = null;
    const keep = (offset: number) => {
      if (from === null || offset < from) from = offset;
    };
    for (const l of this.links.values()) {
      // A full sync whose replica stopped asking for chunks for repl-timeout is abandoned: it
      // no longer holds the backlog (the replica, if it comes back, starts a new one).
      if (l.syncFrom !== null && now - l.ackAt > this.engine.config["repl-timeout"] * 1000) l.syncFrom = null;
      if (l.syncFrom !== null) keep(l.syncFrom);
      else if (l.reachable && l.offset >= 0) keep(Math.max(l.offset, log.offset - REPLICA_BUFFER_BYTES));
    }
    log.retainFrom = from;
  }

  /** Starts a push to every configured replica; never delays the client's answer. */
  private pushToReplicas(): void {
    if (this.engine.role !== "master" || this.linkDown) return;
    for (const replica of this.known.replicas) this.ctx.waitUntil(this.pushTo(replica));
  }

  /**
   * Pushes new entries to one replica, one push in flight at a time: commits made meanwhile are
   * sent by the same loop, batched. A replica not known to be streaming gets an empty push that
   * wakes it; it then comes back with PSYNC.
   */
  private async pushTo(replica: string): Promise<void> {
    const link = this.link(replica);
    if (link.pushing) {
      link.again = true;
      return;
    }
    link.pushing = true;
    try {
      do {
        link.again = false;
        // Demoted meanwhile: the new master feeds the replicas now.
        if (this.engine.role !== "master") return;
        const log = this.engine.log;
        const streaming = link.offset >= 0 && log.canContinue(log.replid, link.offset);
        const entries = streaming && link.offset < log.offset ? log.entriesAfter(link.offset, STREAM_BYTES) : [];
        const before = link.offset;
        const config = link.configVersion === this.engine.configVersion ? undefined : this.configUpdate();
        const push = { session: this.session, replid: log.replid, entries, masterOffset: log.offset, config, topology: this.known };
        const ack = await this.node(replica).push(push);
        // A replica that knows a newer topology fences this node: it is not the master any more.
        if (ack.topology.epoch > this.known.epoch) await this.adoptTopology(ack.topology);
        if (this.engine.role !== "master") return;
        link.configVersion = ack.configVersion;
        if (ack.state === "connected") {
          link.shipped += entries.length;
          this.acked(link, ack.offset);
        } else if (ack.state === "down") {
          link.reachable = false;
          this.retainBacklog();
        }
        // More to send, and the replica is taking it: go on (a replica that did not move resyncs).
        if (streaming && link.offset > before && link.offset < this.engine.log.offset) link.again = true;
      } while (link.again);
    } catch {
      // The replica is unreachable; it resumes with PSYNC when its link is back.
      link.reachable = false;
      this.retainBacklog();
    } finally {
      link.pushing = false;
    }
  }

  // ---- Replica side ------------------------------------------------------------------------

  /** A push from the master: applied when it continues this node's stream, else a resync. */
  async push(push: Push): Promise<Ack> {
    const engine = this.ready();
    if (this.linkDown) return this.ack("down");
    if (push.topology.epoch > this.known.epoch) await this.adoptTopology(push.topology);
    else if (push.topology.epoch < this.known.epoch) return this.ack("fenced");
    if (engine.role === "master") return this.ack("master");
    // The master's offset was current when the push arrived, not after an injected delay.
    const received = (this.lastContact = this.clock.now());
    if (push.config) this.adoptConfig(push.config);
    if (this.delayMs > 0) await this.clock.sleep(this.delayMs);
    if (push.session !== this.masterSession && this.syncState === "connected") this.syncState = "connect";
    const current = this.syncState === "connected" && push.replid === engine.log.replid;
    if (!(current && applyEntries(engine, push.entries))) this.syncState = this.syncState === "transfer" ? "transfer" : "connect";
    else if (engine.log.offset >= push.masterOffset) this.freshAt = received;
    if (this.syncState !== "connected" || engine.log.offset < push.masterOffset) this.ctx.waitUntil(this.sync());
    return this.ack(this.syncState);
  }

  private ack(state: Ack["state"]): Ack {
    return { offset: this.engine.log.offset, configVersion: this.engine.configVersion, state, topology: this.known };
  }

  /** Takes the master's settings when they are newer than this node's. */
  private adoptConfig(update: ConfigUpdate): void {
    if (update.version !== this.engine.configVersion) this.engine.transaction(() => this.engine.adoptConfig(update.values, update.version));
  }

  /** Syncs with the master now and answers once caught up (or failed): the replica's ACK. */
  async catchUp(): Promise<Ack> {
    const engine = this.ready();
    if (engine.role === "master") return this.ack("master");
    await this.sync();
    return this.ack(this.syncState);
  }

  /**
   * The replica's sync loop, one at a time: PSYNC, then a full sync's chunks if the master asks
   * for one, then CONTINUE until caught up. Any failure returns the state to `connect`.
   */
  private sync(): Promise<void> {
    this.syncing ??= this.syncWithMaster().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async syncWithMaster(): Promise<void> {
    const engine = this.engine;
    let handshake = this.syncState !== "connected";
    try {
      for (;;) {
        this.checkLink();
        if (engine.role === "master") return;
        const epoch = this.known.epoch;
        const master = this.node(this.known.primary);
        const reply = await master.psync({
          replica: this.name,
          replid: hasSynced(engine) ? engine.log.replid : "?",
          offset: engine.log.offset,
          handshake,
        });
        const received = this.clock.now();
        handshake = false;
        if (this.delayMs > 0) await this.clock.sleep(this.delayMs);
        if (reply.topology.epoch > this.known.epoch) await this.adoptTopology(reply.topology);
        if (this.known.epoch !== epoch) {
          // The master changed while asking: start over with the new one.
          handshake = true;
          continue;
        }
        if (reply.kind === "notmaster") throw new Error(`${this.known.primary} is not the master`);
        this.masterSession = reply.session;
        this.adoptConfig(reply.config);
        this.lastContact = received;
        if (reply.kind === "fullresync") {
          // transfer: load the snapshot, then stream from the sync's start offset.
          this.syncState = "transfer";
          beginFullSync(engine, reply.replid, reply.offset);
          this.consistentFrom = Number.POSITIVE_INFINITY;
          for (let cursor = 0; ; ) {
            const chunk = await master.snapshot(this.name, cursor);
            loadChunk(engine, chunk);
            if (chunk.next === 0) break;
            cursor = chunk.next;
          }
          endFullSync(engine);
          this.refreshConsistency();
          this.syncState = "connected";
          continue;
        }
        // A promoted master continues this node's history under a new replid: take it on.
        if (reply.replid !== engine.log.replid) {
          // A keyspace still mixing snapshot chunks holds keys stamped with offsets of the old
          // history past where the new one forked: continuing would skip the new history's
          // writes to them. Only a consistent replica continues; this one full-syncs again.
          if (this.loading()) {
            forgetSync(engine);
            this.refreshConsistency();
            handshake = true;
            continue;
          }
          engine.transaction(() => engine.log.shiftReplid(reply.replid));
        }
        if (!applyEntries(engine, reply.entries)) throw new Error("replication: the master's entries left a gap");
        this.syncState = "connected";
        if (engine.log.offset >= reply.masterOffset) {
          this.freshAt = this.lastContact;
          return;
        }
      }
    } catch (e) {
      this.syncState = "connect";
      console.warn(`flaredis ${this.name}: sync with the master failed:`, e);
    }
  }

  // ---- Shared ------------------------------------------------------------------------------

  /** The newest topology this node knows. */
  async topology(): Promise<Topology> {
    this.ready();
    return this.known;
  }

  /** Takes `topology` if it is newer than the one this node knows; answers the one it then knows. */
  async adopt(topology: Topology): Promise<Topology> {
    this.ready();
    const t = parseTopology(topology);
    if (t === null) throw new Error("flaredis: not a topology");
    await this.adoptTopology(t);
    return this.known;
  }

  /**
   * Moves to a newer topology, changing role if it says so. A replica promoted to master starts a
   * new history (keeping the old one as replid2, so the others continue with a partial sync),
   * expires keys and pushes to its replicas; a master demoted to replica stops serving writes
   * (paused ones are answered `notPrimary`) and syncs with the new master; a replica whose master
   * changed resyncs with the new one.
   */
  private async adoptTopology(t: Topology): Promise<void> {
    if (t.epoch <= this.known.epoch) return;
    const engine = this.engine;
    const was = engine.role;
    const oldPrimary = this.known.primary;
    const role = this.roleIn(t);
    engine.transaction(() => {
      this.storage.meta.set("topology", JSON.stringify(t));
      if (was === "slave" && role === "master") engine.log.shiftReplid(cryptoRandom.hex(20));
      // A demoted master's own history is as good as a synced one: it continues it with PSYNC.
      if (was === "master" && role === "slave") endFullSync(engine);
    });
    this.refreshConsistency();
    this.known = t;
    engine.role = role;
    if (role === "master") {
      if (was !== "master") {
        this.links.clear();
        this.syncState = "connect";
        this.masterSession = null;
        this.freshAt = null;
        await this.schedule("expiry", engine.nextDeadline());
        await this.schedule("heartbeat", this.clock.now() + IDLE_PING_MS);
      }
      this.pushToReplicas();
      return;
    }
    if (was === "master") {
      this.links.clear();
      engine.log.retainFrom = null;
      this.paused?.resume();
      for (const wake of this.ackWaiters.splice(0)) wake();
    }
    if (was === "master" || oldPrimary !== t.primary) {
      this.syncState = "connect";
      this.masterSession = null;
      this.ctx.waitUntil(this.sync());
    }
  }

  /**
   * A coordinated failover's first step: this master holds every batch until `resumeWrites`, a
   * demotion, or `ms` later, and answers the offset its replicas must reach.
   */
  async pauseWrites(ms: number): Promise<{ offset: number; epoch: number }> {
    const engine = this.ready();
    if (engine.role !== "master") throw new Error(`flaredis ${this.name}: not the master`);
    if (!this.paused) {
      let release!: () => void;
      const timeout = new AbortController();
      const paused = {
        done: new Promise<void>((r) => (release = r)),
        resume: () => {
          if (this.paused === paused) this.paused = null;
          timeout.abort();
          release();
        },
      };
      this.paused = paused;
      void this.clock.sleep(ms, timeout.signal).then(paused.resume);
      this.pushToReplicas();
    }
    return { offset: engine.log.offset, epoch: this.known.epoch };
  }

  /** Ends a pause (a failover that did not happen). */
  async resumeWrites(): Promise<void> {
    this.ready();
    this.paused?.resume();
  }

  /** The master's view of the deployment (admin topology); a replica reports itself alone. */
  async status(): Promise<NodeStatus> {
    const engine = this.ready();
    const now = this.clock.now();
    const replicas =
      engine.role !== "master"
        ? []
        : this.known.replicas.map((node) => {
            const l = this.links.get(node);
            // A replica that has acknowledged everything is current however long ago that was.
            const current = l !== undefined && l.offset >= engine.log.offset;
            const heard = l !== undefined && now - l.ackAt <= engine.config["repl-timeout"] * 1000;
            const up = l !== undefined && l.reachable && l.offset >= 0 && l.syncFrom === null && (current || heard);
            const lag = l === undefined || l.offset < 0 ? -1 : current ? 0 : now - l.ackAt;
            const link = up ? ("up" as const) : ("down" as const);
            return { node, link, offset: Math.max(l?.offset ?? 0, 0), lag_ms: lag, entries_shipped: l?.shipped ?? 0 };
          });
    return { node: this.name, role: engine.role, topology: this.known, offset: engine.log.offset, replicas };
  }

  /** What this node's SQLite storage has read and written since it started. */
  async storageUsage(): Promise<StorageUsage> {
    this.ready();
    return this.storage.usage();
  }

  /** Applies an injected fault: cut or restore the replication link, or drop in-memory state. */
  async fault(fault: Fault): Promise<void> {
    this.ready();
    // The in-memory state goes as on a crash; this call fails with it (the admin API expects so).
    if ("restart" in fault) this.ctx.abort(RESTART_REASON);
    if ("delay" in fault) this.delayMs = fault.delay;
    if (!("link" in fault)) return;
    this.linkDown = fault.link === "down";
    if (this.linkDown) this.syncState = this.engine.role === "master" ? this.syncState : "connect";
    else if (this.engine.role === "master") this.pushToReplicas();
    else this.ctx.waitUntil(this.sync());
  }

  /**
   * A replica's `master_link_status`: streaming, consistent, and heard from within repl-timeout
   * (an idle master pings every IDLE_PING_MS, so silence means it is gone or cut off).
   */
  private linkUp(): boolean {
    const silentFor = this.clock.now() - this.lastContact;
    return this.syncState === "connected" && !this.loading() && silentFor <= this.engine.config["repl-timeout"] * 1000;
  }

  /**
   * `consistentFrom` from storage: the newest chunk's offset after a full sync, or never (a
   * replica whose full sync did not finish, or that never had one, holds no consistent keyspace).
   */
  private refreshConsistency(): void {
    this.consistentFrom = hasSynced(this.engine) ? consistentAt(this.engine) : Number.POSITIVE_INFINITY;
  }

  /** LOADING: a full sync in progress, or loaded but not yet consistent at one offset. */
  private loading(): boolean {
    return this.syncState === "transfer" || this.engine.log.offset < this.consistentFrom;
  }

  private checkLink(): void {
    if (this.linkDown) throw new Error(`flaredis ${this.name}: replication link is down`);
  }

  /** The role-specific fields of INFO replication, in Redis's names and order. */
  private replicationInfo(): { slaves: string[]; master: [string, string | number][] } {
    const now = this.clock.now();
    const engine = this.engine;
    if (engine.role === "master") {
      const slaves = [...this.links]
        .filter(([, l]) => l.offset >= 0 || l.syncFrom !== null)
        .map(([name, l]) => {
          const state = l.syncFrom !== null ? "wait_bgsave" : "online";
          return `ip=${name},port=0,state=${state},offset=${Math.max(l.offset, 0)},lag=${Math.floor((now - l.ackAt) / 1000)}`;
        });
      return { slaves, master: [] };
    }
    const master = this.known.primary;
    const up = this.linkUp();
    return {
      slaves: [],
      master: [
        ["master_host", master],
        ["master_port", 0],
        ["master_link_status", up ? "up" : "down"],
        ["master_last_io_seconds_ago", this.lastContact ? Math.floor((now - this.lastContact) / 1000) : -1],
        ["master_sync_in_progress", this.loading() ? 1 : 0],
        ["slave_read_repl_offset", engine.log.offset],
        ["slave_repl_offset", engine.log.offset],
        ["slave_priority", engine.config["replica-priority"]],
        ["slave_read_only", 1],
      ],
    };
  }

  /**
   * Another node's stub, made afresh for every call. Not worker/env.ts's `nodeStub`, which keeps
   * ids: here, kept ids (or stubs) make workerd's full collections rarer but longer, and the
   * replication lag's p99 worse (README, "Why the lag's tail is far from 5 ms").
   */
  private node(name: string): NodeApi {
    const ns = this.env.NODE;
    return ns.get(ns.idFromName(name), { locationHint: name as DurableObjectLocationHint }) as unknown as NodeApi;
  }

  private servedBy(): string {
    return `${this.engine.role === "master" ? "primary" : "replica"}:${this.name}`;
  }

  // The alarm runs on wall time; the engine on `clock`, which tests may move.
  private toWallTime(at: number): number {
    return Date.now() + Math.max(0, at - this.clock.now());
  }
  private toEngineTime(wall: number): number {
    return this.clock.now() + (wall - Date.now());
  }
}
