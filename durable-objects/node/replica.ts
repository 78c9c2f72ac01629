/**
 * The replica's side of replication: the sync state machine (PSYNC, a full sync's chunks, the
 * stream) and what it serves of reads. It is the only writer of the replica's keyspace. One
 * object per master followed: a failover swaps it whole (see `Node.adoptTopology`), and its loops
 * stop writing once it is not the node's role.
 */
import type { Batch, BatchResult } from "../engine/engine";
import { type RedisError, errors } from "../engine/errors";
import { FullSyncNeeded } from "../engine/replication/effects";
import type { Role as RedisRole } from "../engine/keyspace";
import { type LogEntry, START, type SnapshotChunk, type SnapshotCursor, type SyncState, unpackEntries } from "../engine/replication/protocol";
import { applyEntries, beginFullSync, consistentAt, endFullSync, followHistory, forgetSync, hasSynced, loadChunk } from "../engine/replication/sync";
import type { Ack, ConfigUpdate, ExecReply, PsyncAnswer, Push, ReadPolicy, ReplicaStatus } from "../protocol/node-api";
import { type Topology, newerTopology } from "../protocol/topology";
import { batchKeys, holdsOwnWrites } from "../protocol/read-your-writes";
import { IDLE_PING_MS, SILENCE_GRACE_MS, SILENCE_SLACK_MS } from "./liveness";
import type { Node, Timer } from "./node";
import type { Role } from "./role";

export class ReplicaRole implements Role {
  readonly kind = "slave";
  syncState: SyncState = "connect";
  private syncing: Promise<void> | null = null;
  /** When the master was last heard from (0: never, since this role began). */
  private lastContact = 0;
  /** The master session this replica is connected to. */
  private masterSession: string | null = null;
  /**
   * The offset from which this replica's keyspace is consistent after a full sync (see
   * `consistentAt`): below it the node is LOADING.
   */
  private consistentFrom = 0;
  /** When a message from the master last found this replica with everything it announced. */
  private freshAt: number | null = null;
  /** The master's next push is due by then (its promise and a grace): later, the sentinels hear of it. */
  private contactDue = 0;

  constructor(
    private readonly node: Node,
    /** The master this role follows. */
    readonly master: string,
  ) {
    this.refreshConsistency();
  }

  private get current(): boolean {
    return this.node.role === this;
  }

  async start(): Promise<void> {
    this.node.background(this.sync());
    // Not heard from yet: the master owes a push within its idle period.
    await this.expectContact(this.node.clock.now(), IDLE_PING_MS);
  }

  stop(): void {
    this.node.timers.set("silence", null);
  }

  /** Unchanged while it follows the same master. */
  carryInto(t: Topology, role: RedisRole): boolean {
    return role === "slave" && this.master === t.primary;
  }

  // ---- What a master would answer ----------------------------------------------------------

  /** A replica runs no write; its reads have nothing to wait for. */
  async beforeBatch(): Promise<void> {}

  /** Deadlines are the master's to sweep (its DELs expire keys here). */
  async afterBatch(_result: BatchResult, _wrote: boolean, _batch: Batch): Promise<void> {
    this.node.engine.takeDeadline();
  }

  /** Not the master: says so, with what a replica needs to find the master (its settings, the topology). */
  psync(): PsyncAnswer {
    const engine = this.node.engine;
    return { kind: "notmaster", session: "", config: { values: engine.config, version: engine.configVersion }, topology: this.node.known };
  }

  snapshot(): SnapshotChunk {
    throw new Error(`flaredis ${this.node.name}: not the master`);
  }

  goodReplicas(): number {
    return 0;
  }

  writeRefusal(): RedisError | null {
    return null;
  }

  fullSyncInProgress(): boolean {
    return false;
  }

  slaveLines(): string[] {
    return [];
  }

  replicas(): ReplicaStatus[] {
    return [];
  }

  heardFrom(): void {}

  pushToReplicas(): void {}

  slotsGuarded(): void {}

  /**
   * The replica's share of the alarm: a master silent past its promise (see node/liveness.ts)
   * makes every sentinel look at it, again every IDLE_PING_MS while the silence lasts. Replicas
   * never expire keys (the master's DELs do).
   */
  async alarm(due: ReadonlySet<Timer>, now: number): Promise<void> {
    if (!due.has("silence") || !this.current) return;
    if (now < this.contactDue) {
      this.node.timers.set("silence", this.contactDue);
      return;
    }
    // The sentinels count the master's silence from its last push, and learn the topology this replica knows.
    const since = this.lastContact > 0 ? this.lastContact : undefined;
    for (const s of this.node.sentinels.sentinels) this.node.background(this.node.peers.sentinel(s).watch(this.master, since, this.node.known));
    this.node.timers.set("silence", now + IDLE_PING_MS + SILENCE_GRACE_MS);
  }

  /** A message from the master at `at` that promises the next within `withinMs`: the silence alarm moves past it. */
  private async expectContact(at: number, withinMs: number): Promise<void> {
    if (!this.node.watched || this.node.sentinels.sentinels.length === 0 || !this.current) return;
    this.contactDue = at + withinMs + SILENCE_GRACE_MS;
    await this.node.timers.move("silence", this.contactDue, SILENCE_SLACK_MS);
  }

  resume(): void {
    this.cut();
    this.node.background(this.sync());
  }

  /** A push from the master: applied when it continues this node's stream, else a resync. */
  async push(push: Push): Promise<Ack> {
    const engine = this.node.engine;
    // The master's offset was current when the push arrived, not after an injected delay.
    const received = (this.lastContact = this.node.clock.now());
    await this.expectContact(received, push.nextWithinMs ?? IDLE_PING_MS);
    if (push.config) this.adoptConfig(push.config);
    await this.node.faults.delay();
    // Published messages reach this region's subscribers whatever the node's state.
    const delivered = push.messages && this.node.subscribers.deliver(push.messages);
    if (!this.current) return delivered ? { ...this.node.ack(this.syncState), delivered } : this.node.ack(this.syncState);
    if (push.session !== this.masterSession && this.syncState === "connected") this.syncState = "connect";
    const streaming = this.syncState === "connected" && push.replid === engine.log.replid;
    if (!(streaming && this.apply(unpackEntries(push.entries)))) this.syncState = this.syncState === "transfer" ? "transfer" : "connect";
    else if (engine.log.offset >= push.masterOffset) this.freshAt = received;
    this.node.collectGarbageSoon();
    if (this.syncState !== "connected" || engine.log.offset < push.masterOffset) this.node.background(this.sync());
    const ack = this.node.ack(this.syncState, true);
    return delivered ? { ...ack, delivered } : ack;
  }

  /** Takes the master's settings when they are newer than this node's. */
  private adoptConfig(update: ConfigUpdate): void {
    const engine = this.node.engine;
    if (update.version !== engine.configVersion) engine.transaction(() => engine.adoptConfig(update.values, update.version));
  }

  /** Syncs with the master now and answers once caught up (or failed): the replica's ACK. */
  async catchUp(): Promise<Ack> {
    await this.sync();
    return this.node.ack(this.syncState);
  }

  /**
   * The sync loop, one at a time: PSYNC, then a full sync's chunks if the master asks for one,
   * then CONTINUE until caught up. Any failure returns the state to `connect`.
   */
  sync(): Promise<void> {
    this.syncing ??= this.syncWithMaster().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async syncWithMaster(): Promise<void> {
    const node = this.node;
    const engine = node.engine;
    let handshake = this.syncState !== "connected";
    try {
      for (;;) {
        if (!this.current) return;
        node.faults.checkLink();
        const master = node.peers.node(this.master);
        const reply = await master.psync({
          replica: node.name,
          replid: hasSynced(engine) ? engine.log.replid : "?",
          offset: engine.log.offset,
          handshake,
        });
        const received = node.clock.now();
        handshake = false;
        await node.faults.delay();
        if (newerTopology(node.known, reply.topology)) await node.adoptTopology(reply.topology);
        // The master changed while asking: the role that follows the new one syncs.
        if (!this.current) return;
        if (reply.kind === "notmaster") throw new Error(`${this.master} is not the master`);
        this.masterSession = reply.session;
        this.adoptConfig(reply.config);
        this.lastContact = received;
        if (reply.kind === "fullresync") {
          // transfer: load the snapshot, then stream from the sync's start offset.
          this.syncState = "transfer";
          beginFullSync(engine, reply.replid, reply.offset);
          this.consistentFrom = Number.POSITIVE_INFINITY;
          for (let cursor: SnapshotCursor | null = START; cursor !== null; ) {
            const chunk: SnapshotChunk = await master.snapshot(node.name, cursor);
            if (!this.current) return;
            loadChunk(engine, chunk);
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
          followHistory(engine, reply.replid);
        }
        if (!this.apply(reply.entries)) throw new Error("replication: the master's entries left a gap or need a full sync");
        node.collectGarbageSoon();
        this.syncState = "connected";
        if (engine.log.offset >= reply.masterOffset) {
          this.freshAt = this.lastContact;
          return;
        }
      }
    } catch (e) {
      if (!this.current) return;
      this.syncState = "connect";
      console.warn(`flaredis ${node.name}: sync with the master failed:`, e);
    }
  }

  /**
   * Applies the master's entries (see replication/sync.ts `applyEntries`); false for a gap, or for an effect
   * this keyspace cannot take while it mixes snapshot chunks: the replica then forgets its sync
   * and full-syncs again.
   */
  private apply(entries: readonly LogEntry[]): boolean {
    try {
      return applyEntries(this.node.engine, entries);
    } catch (e) {
      if (!(e instanceof FullSyncNeeded)) throw e;
      console.warn(`flaredis ${this.node.name}: ${e.message}; full sync again`);
      forgetSync(this.node.engine);
      this.refreshConsistency();
      this.syncState = "connect";
      return false;
    }
  }

  // ---- Reads -------------------------------------------------------------------------------

  /**
   * A read served only when it meets the client's policy: this replica has applied the position
   * the client has seen (pulling from the master, waiting at most `waitMs`), and its data is no
   * older than `maxStalenessMs` (it applied everything up to the offset the master announced in a
   * message received at most that long ago; it pulls once to refresh). A replica that cannot
   * (behind, stale, link down) answers null and the worker asks the next candidate.
   */
  async read(batch: Batch, policy: ReadPolicy): Promise<ExecReply | null> {
    const engine = this.node.engine;
    if (!this.servesReads()) return null;
    const position = policy.position;
    // Behind the client's position, but holding every write of its own to the keys it reads: at once.
    const ownWritesHeld = () => {
      if (position === null || policy.written === undefined) return false;
      const keys = batchKeys(batch.commands, () => true);
      return holdsOwnWrites((p) => engine.log.holds(p), engine.log.replid, position, policy.written, keys === undefined ? [] : keys);
    };
    if (position && !engine.log.holds(position) && !ownWritesHeld()) {
      let waited = false;
      const timer = this.node.clock.sleep(policy.waitMs).then(() => {
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
    return { ...(await this.node.execute(batch)), staleness: this.staleness() };
  }

  /**
   * Serves reads: a whole keyspace, and either a link up or `replica-serve-stale-data yes` (the
   * default: while the master is gone, reads go on, their staleness growing and said).
   */
  servesReads(): boolean {
    return !this.loading() && (this.linkUp() || this.node.engine.config["replica-serve-stale-data"]);
  }

  /** How old this replica's data may be: the time since it last had all the master announced. */
  staleness(): number {
    return this.freshAt === null ? Number.MAX_SAFE_INTEGER : Math.max(0, this.node.clock.now() - this.freshAt);
  }

  /** Why data commands are refused now (LOADING, MASTERDOWN), or null. */
  replicaRefusal(): RedisError | null {
    if (this.loading()) return errors.loading();
    if (!this.linkUp() && !this.node.engine.config["replica-serve-stale-data"]) return errors.masterDown();
    return null;
  }

  // ---- State -------------------------------------------------------------------------------

  /**
   * `master_link_status`: streaming, consistent, and heard from within repl-timeout (an idle
   * master pings every IDLE_PING_MS, so silence means it is gone or cut off).
   */
  linkUp(): boolean {
    const silentFor = this.node.clock.now() - this.lastContact;
    return this.syncState === "connected" && !this.loading() && silentFor <= this.node.engine.config["repl-timeout"] * 1000;
  }

  /**
   * `consistentFrom` from storage: the newest chunk's offset after a full sync, or never (a
   * replica whose full sync did not finish, or that never had one, holds no consistent keyspace).
   */
  refreshConsistency(): void {
    const engine = this.node.engine;
    this.consistentFrom = hasSynced(engine) ? consistentAt(engine) : Number.POSITIVE_INFINITY;
  }

  /** LOADING: a full sync in progress, or loaded but not yet consistent at one offset. */
  loading(): boolean {
    return this.syncState === "transfer" || this.node.engine.log.offset < this.consistentFrom;
  }

  /** A link was cut by a fault: the next message resyncs. */
  cut(): void {
    this.syncState = "connect";
  }

  /** The replica fields of INFO replication, in Redis's names and order. */
  infoFields(): [string, string | number][] {
    const now = this.node.clock.now();
    const engine = this.node.engine;
    return [
      ["master_host", this.master],
      ["master_port", 0],
      ["master_link_status", this.linkUp() ? "up" : "down"],
      ["master_last_io_seconds_ago", this.lastContact ? Math.floor((now - this.lastContact) / 1000) : -1],
      ["master_sync_in_progress", this.loading() ? 1 : 0],
      ["slave_read_repl_offset", engine.log.offset],
      ["slave_repl_offset", engine.log.offset],
      ["slave_priority", engine.config["replica-priority"]],
      ["slave_read_only", 1],
    ];
  }
}
