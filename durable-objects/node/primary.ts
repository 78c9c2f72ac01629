/**
 * The master's side of replication: what it knows of each replica (its link: offset, last ACK,
 * a full sync in progress), the push loop, PSYNC and snapshot serving, WAIT, heartbeats, backlog
 * retention, and the sentinels it hears from. One object per time the node is master: a failover
 * swaps it whole (see `Node.adoptTopology`), and its loops stop once it is not the node's role.
 */
import type { SlotGuard } from "../engine/slot-guard";
import { systemRandom } from "../engine/clock";
import { BlockOn, PubSubQuery, Publish, WaitForReplicas } from "../engine/command";
import { BlockedClients } from "./blocked";
import type { Batch, BatchResult } from "../engine/engine";
import type { RedisError } from "../engine/errors";
import type { Role as RedisRole } from "../engine/keyspace";
import { type SnapshotChunk, type SnapshotCursor, packEntries } from "../engine/replication/protocol";
import { psync, snapshotChunk } from "../engine/replication/sync";
import type { Ack, ConfigUpdate, ExecReply, PsyncAnswer, PsyncRequest, Push, ReplicaStatus } from "../protocol/node-api";
import { type Topology, newerTopology } from "../protocol/topology";
import { Dispatcher } from "../engine/dispatch";
import { HEARTBEAT_MS, IDLE_PING_MS } from "./liveness";
import type { Node, Timer } from "./node";
import { SentinelLease } from "./sentinel-lease";
import type { Role } from "./role";

/** Most backlog kept for a streaming replica beyond repl-backlog-size (Redis's replica buffer limit). */
const REPLICA_BUFFER_BYTES = 64 * 1024 * 1024;
/** Bytes of stream per PSYNC answer or push, and of keyspace per snapshot chunk. */
export const STREAM_BYTES = 256 * 1024;
const CHUNK_BYTES = 1024 * 1024;
/** Keys expired per alarm run; more due keys re-arm the alarm at once. */
const SWEEP_BATCH = 1000;

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

export class PrimaryRole implements Role {
  readonly kind = "master";
  /** This master's run id: a replica that sees a new one reconnects with a PSYNC handshake. */
  readonly session = systemRandom.hex(20);
  private readonly links = new Map<string, ReplicaLink>();
  /** Clients blocked on keys (BLPOP and its kin). */
  private readonly blocked: BlockedClients;
  /** Resolvers of WAITs, woken at every ACK. */
  private readonly ackWaiters: (() => void)[] = [];
  /** Writes committed since the last heartbeat (the heartbeat slows down without them). */
  writesSinceBeat = false;
  /** The sentinels' lease on this master's writes. */
  private readonly lease: SentinelLease;

  constructor(
    private readonly node: Node,
    promoted: boolean,
  ) {
    this.lease = new SentinelLease(node, promoted ? node.clock.now() : Number.NEGATIVE_INFINITY, () => this.current);
    this.blocked = new BlockedClients(node.clock);
  }

  private get current(): boolean {
    return this.node.role === this;
  }

  /** Starts the master's timers and announces its session (replicas resync without waiting for a write). */
  async start(): Promise<void> {
    await this.node.timers.schedule("expiry", this.node.engine.nextDeadline());
    // Idle or not, a master's replicas hear from it at least every IDLE_PING_MS.
    await this.node.timers.schedule("heartbeat", this.node.clock.now() + IDLE_PING_MS);
    this.pushToReplicas();
    // The sentinels' answers bring a newer topology if there is one (a master back after a
    // failover then follows the new one before it takes a write), or count towards the quorum
    // its writes need. Not awaited: the answers come in once start-up is over.
    void this.lease.renew();
  }

  /** Clients held by their blocking commands now. */
  get blockedClients(): number {
    return this.blocked.count;
  }

  /** This node is not the master any more: release what waits on it. */
  stop(): void {
    this.node.engine.log.retain(null);
    this.blocked.release();
    this.node.publisher.release();
    for (const wake of this.ackWaiters.splice(0)) wake();
  }

  /** Still the master in `t`: its replicas hear of `t` now. */
  carryInto(_t: Topology, role: RedisRole): boolean {
    if (role !== "master") return false;
    this.pushToReplicas();
    return true;
  }

  // ---- Clients -----------------------------------------------------------------------------

  /**
   * Before a batch that may write: replicas idle for a while have not acknowledged lately, so they
   * are asked before a write is refused (min-replicas); the sentinels' lease is renewed from half
   * its life on, and waited for when it has run out (see liveness.ts).
   */
  async beforeBatch(batch: Batch): Promise<void> {
    if (!this.node.engine.enoughReplicas()) await this.probeReplicas();
    // Demoted while it probed: the batch is the new master's (the node answers notPrimary).
    if (!this.current || !mayWrite(batch)) return;
    await this.lease.beforeWrite();
  }

  /**
   * Replicates what the batch wrote, arms the expiry for its deadlines, serves the clients blocked
   * on the keys it wrote, answers its WAITs, and holds its blocking commands that found nothing.
   */
  async afterBatch(result: BatchResult, wrote: boolean, batch: Batch): Promise<void> {
    if (wrote) await this.committed();
    await this.node.timers.schedule("expiry", this.node.engine.takeDeadline());
    if (wrote) await this.wakeBlocked(batch.commands);
    this.notify();
    if (!("outcomes" in result)) return;
    // Every blocked command of the batch waits from now (a later one in a pipeline is not left
    // unregistered while an earlier one waits); none on a role that has stopped.
    const blocked = result.outcomes.map((o, i) =>
      "result" in o && o.result instanceof BlockOn ? (this.current ? this.blocked.wait(o.result.argv ?? batch.commands[i]!, batch.permission, o.result) : Promise.resolve({ result: null })) : null,
    );
    // A batch's PUBLISHes all go out at once, in order (their replicas' pushes carry them together).
    const pubsub = result.outcomes.map((o) => ("result" in o && (o.result instanceof Publish || o.result instanceof PubSubQuery) ? this.node.answerPubSub(o.result, () => this.pushToReplicas()) : null));
    for (const [i, outcome] of result.outcomes.entries()) {
      if (!("result" in outcome)) continue;
      if (outcome.result instanceof WaitForReplicas) (outcome as { result: number }).result = await this.waitForReplicas(outcome.result);
      else if (pubsub[i]) outcome.result = await pubsub[i];
      else if (blocked[i]) result.outcomes[i] = await blocked[i];
    }
    // What a blocked command took was written after the batch: the client's position is past it.
    if (blocked.some((b) => b !== null)) (result as { offset: number }).offset = Math.max(result.offset, this.node.engine.log.offset);
  }

  /** The keyspace notifications of what was committed, to every region's subscribers (engine/notify.ts). */
  private notify(): void {
    const messages = this.node.engine.notifications.take();
    // A master that has stopped (demoted meanwhile) sends none: they would wait for its next term.
    if (this.current) this.node.publisher.broadcast(messages, this.node.known.replicas, () => this.pushToReplicas());
  }

  /** Serves the blocked clients `commands` may have woken, and those that what they took wakes (BLMOVE's push). */
  private async wakeBlocked(commands: readonly (readonly string[])[]): Promise<void> {
    for (let written = commands; this.current; ) {
      const served = this.blocked.serve(this.node.engine, written);
      if (served.length === 0) return;
      await this.committed();
      for (const s of served) s.answer();
      // What they took wakes no one; what BLMOVE and BRPOPLPUSH pushed may.
      written = served.flatMap((s) => (s.pushed === null ? [] : [["LPUSH", s.pushed]]));
    }
  }

  /** A master serves every read. */
  read(batch: Batch): Promise<ExecReply | null> {
    return this.node.execute(batch);
  }

  /** The replica-side messages find a master: it says so. */
  async push(_push: Push): Promise<Ack> {
    return this.node.ack("master");
  }

  async catchUp(): Promise<Ack> {
    return this.node.ack("master");
  }

  /** Expiry (unless a failover has fenced this master: replicas and fenced masters never expire keys) and heartbeats. */
  async alarm(due: ReadonlySet<Timer>, now: number): Promise<void> {
    const engine = this.node.engine;
    const timers = this.node.timers;
    if (due.has("expiry") && this.node.fenced()) timers.set("expiry", now + 100);
    else if (due.has("expiry")) {
      const before = engine.log.offset;
      const removed = engine.sweep(SWEEP_BATCH);
      if (engine.log.offset !== before) await this.committed();
      this.notify();
      await timers.schedule("expiry", removed === SWEEP_BATCH ? now : engine.nextDeadline());
    }
    if (due.has("heartbeat")) await this.heartbeat();
    // Come early (the alarm is capped): the earliest deadline may have gone meanwhile.
    if (!due.has("expiry") && timers.has("expiry")) timers.set("expiry", engine.nextDeadline());
  }

  /** A master has no link to a master to cut. */
  cut(): void {}

  resume(): void {
    this.pushToReplicas();
  }

  // ---- What a replica would answer ---------------------------------------------------------

  replicaRefusal(): RedisError | null {
    return null;
  }

  infoFields(): [string, string | number][] {
    return [];
  }

  loading(): boolean {
    return false;
  }

  linkUp(): boolean {
    return false;
  }

  staleness(): number | null {
    return null;
  }

  // ---- Serving replicas --------------------------------------------------------------------

  /** PSYNC from a replica: CONTINUE with entries, or FULLRESYNC (see replication/protocol.ts). */
  psync(request: PsyncRequest): PsyncAnswer {
    const engine = this.node.engine;
    const reply = psync(engine, request.replid, request.offset, STREAM_BYTES, request.handshake);
    const link = this.link(request.replica);
    if (reply.kind === "fullresync") {
      link.syncFrom = reply.offset;
      link.ackAt = this.node.clock.now();
      link.offset = -1;
    } else {
      if (link.syncFrom !== null && request.offset >= link.syncFrom) link.syncFrom = null;
      link.shipped += reply.entries.length;
      this.acked(link, request.offset);
    }
    this.retainBacklog();
    return { ...reply, session: this.session, config: this.configUpdate(), topology: this.node.known };
  }

  /** One chunk of a full sync's snapshot. */
  snapshot(replica: string, cursor: SnapshotCursor): SnapshotChunk {
    this.link(replica).ackAt = this.lastSnapshotAt = this.node.clock.now();
    return snapshotChunk(this.node.engine, cursor, CHUNK_BYTES);
  }

  /** When a snapshot chunk was last served (a full sync this instance did not start may be under way). */
  private lastSnapshotAt = Number.NEGATIVE_INFINITY;

  configUpdate(): ConfigUpdate {
    return { values: this.node.engine.config, version: this.node.engine.configVersion };
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
    link.ackAt = this.node.clock.now();
    link.reachable = true;
    this.retainBacklog();
    for (const wake of this.ackWaiters.splice(0)) wake();
  }

  // ---- Writes: WAIT, min-replicas, the sentinels' quorum -----------------------------------

  /**
   * WAIT: resolves with the number of replicas that acknowledged `offset`, once there are
   * `numreplicas` of them or the timeout has passed. A timeout of 0 waits at most `repl-timeout`.
   */
  async waitForReplicas(w: WaitForReplicas): Promise<number> {
    if (w.offset < 0) throw new Error("flaredis: a WAIT whose offset the engine did not set");
    const timeout = w.timeoutMs > 0 ? w.timeoutMs : this.node.engine.config["repl-timeout"] * 1000;
    let timedOut = false;
    const timer = this.node.clock.sleep(timeout).then(() => {
      timedOut = true;
    });
    this.pushToReplicas();
    for (;;) {
      const acked = [...this.links.values()].filter((l) => l.reachable && l.offset >= w.offset).length;
      if (acked >= w.numreplicas || timedOut || !this.current) return acked;
      await Promise.race([timer, new Promise<void>((wake) => this.ackWaiters.push(wake))]);
    }
  }

  /** A replica is loading a full sync from this master (its backlog is kept from the sync's start). */
  fullSyncInProgress(): boolean {
    for (const l of this.links.values()) if (l.syncFrom !== null) return true;
    // A replica still asking for chunks after this master restarted (its sync's start is not known).
    return this.node.clock.now() - this.lastSnapshotAt <= this.node.engine.config["repl-timeout"] * 1000;
  }

  /** Replicas acknowledged within `maxLagMs` (min-replicas-to-write). */
  goodReplicas(maxLagMs: number): number {
    const now = this.node.clock.now();
    return [...this.links.values()].filter((l) => l.reachable && l.offset >= 0 && now - l.ackAt <= maxLagMs).length;
  }

  /** Pushes to every replica and waits (at most a second) for their ACKs. */
  async probeReplicas(): Promise<void> {
    await Promise.race([Promise.all(this.node.known.replicas.map((r) => this.pushTo(r))), this.node.clock.sleep(1000)]);
  }

  /** A sentinel pinged this master. */
  heardFrom(sentinel: string): void {
    this.lease.heardFrom(sentinel);
  }

  /** Why this master takes no write now: the sentinels' lease ran out (sentinel-lease.ts), or null. */
  writeRefusal(): RedisError | null {
    return this.lease.refusal();
  }

  // ---- The push loop and heartbeats --------------------------------------------------------

  /** After a commit: push it, and keep heartbeats going while writes go on. */
  async committed(): Promise<void> {
    // The heartbeat first: the push tells the replicas when the next one comes.
    const armed = this.node.timers.schedule("heartbeat", this.node.clock.now() + HEARTBEAT_MS);
    this.pushToReplicas();
    this.writesSinceBeat = true;
    this.retainBacklog();
    await armed;
  }

  /**
   * A heartbeat: every replica is pushed to (REPLCONF GETACK) and answers with its offset. While
   * writes go on there is one about every second; after a second without writes the master pings
   * every IDLE_PING_MS only, so idle replicas can hibernate.
   */
  async heartbeat(): Promise<void> {
    const active = this.writesSinceBeat;
    this.writesSinceBeat = false;
    this.retainBacklog();
    const armed = this.node.timers.schedule("heartbeat", this.node.clock.now() + (active ? HEARTBEAT_MS : IDLE_PING_MS));
    this.pushToReplicas();
    await armed;
  }

  /**
   * Keeps the backlog that replicas still need: from the start of every full sync in progress
   * (however long it takes), and from the last ACK of every reachable streaming replica, so a
   * burst larger than repl-backlog-size does not push connected replicas into a full sync. The
   * latter is capped, as Redis caps a replica's output buffer, so a stuck replica cannot hold the
   * backlog forever.
   */
  retainBacklog(): void {
    const log = this.node.engine.log;
    const now = this.node.clock.now();
    let from: number | null = null;
    const keep = (offset: number) => {
      if (from === null || offset < from) from = offset;
    };
    for (const l of this.links.values()) {
      // A full sync whose replica stopped asking for chunks for repl-timeout is abandoned: it
      // no longer holds the backlog (the replica, if it comes back, starts a new one).
      if (l.syncFrom !== null && now - l.ackAt > this.node.engine.config["repl-timeout"] * 1000) l.syncFrom = null;
      if (l.syncFrom !== null) keep(l.syncFrom);
      else if (l.reachable && l.offset >= 0) keep(Math.max(l.offset, log.offset - REPLICA_BUFFER_BYTES));
    }
    log.retain(from);
  }

  slotsGuarded(guard: SlotGuard): void {
    this.blocked.refuse(guard);
  }

  /** Starts a push to every configured replica; never delays the client's answer. */
  pushToReplicas(): void {
    if (!this.current || this.node.faults.linkDown || this.node.faults.down) return;
    for (const replica of this.node.known.replicas) this.node.background(this.pushTo(replica));
  }

  /**
   * Pushes new entries to one replica, one push in flight at a time: commits made meanwhile are
   * sent by the same loop, batched. A replica not known to be streaming gets an empty push that
   * wakes it; it then comes back with PSYNC.
   */
  async pushTo(replica: string): Promise<void> {
    const link = this.link(replica);
    if (link.pushing) {
      link.again = true;
      return;
    }
    link.pushing = true;
    let messages = this.node.publisher.take(replica);
    try {
      do {
        link.again = false;
        // Demoted meanwhile: the new master feeds the replicas now.
        if (!this.current) return;
        const engine = this.node.engine;
        const log = engine.log;
        const streaming = link.offset >= 0 && log.canContinue(log.replid, link.offset);
        const entries = streaming && link.offset < log.offset ? log.entriesAfter(link.offset, STREAM_BYTES) : [];
        const before = link.offset;
        const config = link.configVersion === engine.configVersion ? undefined : this.configUpdate();
        const beat = this.node.timers.at("heartbeat");
        const nextWithinMs = beat === undefined ? IDLE_PING_MS : Math.max(0, beat - this.node.clock.now());
        const push = { session: this.session, replid: log.replid, entries: packEntries(entries), masterOffset: log.offset, config, topology: this.node.known, nextWithinMs };
        const ack = await this.node.peers.node(replica).push(messages.length > 0 ? { ...push, messages: messages.map((p) => p.message) } : push);
        this.node.publisher.settle(messages, ack.delivered);
        messages = [];
        // The reads the replica served count for this master's eviction.
        if (ack.accessed) this.node.engine.foldAccessReport(ack.accessed);
        // A replica that knows a newer topology fences this node: it is not the master any more.
        if (newerTopology(this.node.known, ack.topology)) await this.node.adoptTopology(ack.topology);
        if (!this.current) return;
        link.configVersion = ack.configVersion;
        if (ack.state === "connected") {
          link.shipped += entries.length;
          this.acked(link, ack.offset);
        } else if (ack.state === "down") {
          link.reachable = false;
          this.retainBacklog();
        }
        // More to send, and the replica is taking it: go on (a replica that did not move resyncs).
        if (streaming && link.offset > before && link.offset < log.offset) link.again = true;
        if (this.node.publisher.waiting(replica)) [link.again, messages] = [true, this.node.publisher.take(replica)];
      } while (link.again);
    } catch {
      // The replica is unreachable; it resumes with PSYNC when its link is back.
      link.reachable = false;
      this.retainBacklog();
    } finally {
      link.pushing = false;
      this.node.publisher.settle(messages, undefined);
    }
  }

  // ---- What it reports ---------------------------------------------------------------------

  /**
   * Each configured replica as this master sees it. A link is up when the replica is streaming,
   * its last push got through, and it has acknowledged everything or been heard from within
   * repl-timeout.
   */
  replicas(): ReplicaStatus[] {
    const engine = this.node.engine;
    const now = this.node.clock.now();
    return this.node.known.replicas.map((node) => {
      const l = this.links.get(node);
      // A replica that has acknowledged everything is current however long ago that was.
      const current = l !== undefined && l.offset >= engine.log.offset;
      const heard = l !== undefined && now - l.ackAt <= engine.config["repl-timeout"] * 1000;
      const up = l !== undefined && l.reachable && l.offset >= 0 && l.syncFrom === null && (current || heard);
      const lag = l === undefined || l.offset < 0 ? -1 : current ? 0 : now - l.ackAt;
      return { node, link: up ? "up" : "down", offset: Math.max(l?.offset ?? 0, 0), lag_ms: lag, entries_shipped: l?.shipped ?? 0 };
    });
  }

  /** INFO's `slaveN` lines: replicas with a link up (online) or loading a full sync (wait_bgsave). */
  slaveLines(): string[] {
    const now = this.node.clock.now();
    const up = new Set(this.replicas().filter((r) => r.link === "up").map((r) => r.node));
    return [...this.links]
      .filter(([name, l]) => up.has(name) || l.syncFrom !== null)
      .map(([name, l]) => {
        const state = l.syncFrom !== null ? "wait_bgsave" : "online";
        return `ip=${name},port=0,state=${state},offset=${Math.max(l.offset, 0)},lag=${Math.floor((now - l.ackAt) / 1000)}`;
      });
  }

  /** For tests: the timers and the idle state drainAlarms looks at. */
  get idle(): boolean {
    return !this.writesSinceBeat;
  }
}

/** Whether a batch may write: any of its commands not flagged `readonly` (scripts, unknown names and all). */
function mayWrite(batch: Batch): boolean {
  return batch.commands.some((argv) => !Dispatcher.readOnly(argv));
}
