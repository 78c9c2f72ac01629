/**
 * A sentinel: Redis Sentinel's monitoring, agreement and failover, on Durable Objects. Free of the
 * runtime (see flaredis-sentinel.ts), so tests run sentinels and nodes together in one isolate.
 *
 * WATCHING
 * A sentinel sleeps (no alarm: an idle deployment pays for no polling) until it has something to
 * suspect; node/liveness.ts says who wakes it. Asked to look at the master (`watch`, by a replica
 * that stopped hearing from it) or asked by another sentinel whether the master is down, it pings
 * the master (`hello`, which also hands the node the newest topology the sentinel knows: how a
 * returning old primary learns it was replaced). While the master does not answer, a failover is
 * under way, or a replica's report is recent (WATCH_WINDOW_MS), it ticks every TICK_MS (the alarm): it pings the master and the replicas (their
 * state while the master answers is in its status, as Redis's sentinels read it from the
 * master's INFO). The master's lease renewals (`lease`) count as answers. A node that has not
 * answered for down-after-milliseconds is subjectively down (SDOWN). When the master is SDOWN the
 * sentinel asks the others (is-master-down-by-addr); with `quorum` of them agreeing (itself
 * included) it is objectively down (ODOWN). Once the master answers, no failover runs and the
 * replicas' reports are old, the sentinel sleeps again.
 *
 * ELECTION (Sentinel's rules)
 * A sentinel that sees ODOWN asks to be leader of a new epoch: one above every epoch it knows.
 * It votes for itself, then asks each other sentinel, which votes for the first asker of an epoch
 * it has not voted in (and moves its own current epoch up to it). With a majority of the
 * sentinels (and at least the quorum) it leads; otherwise it tries again after a pause with
 * jitter, from the injected randomness, so that two candidates do not keep splitting the vote.
 *
 * FAILOVER: see failover.ts.
 */
import type { Clock, Random } from "../engine/clock";
import type { Transport } from "../node/transport";
import type { NodeStatus } from "../protocol/node-api";
import type { DownAnswer, DownQuestion, FailoverAnswer, SentinelStatus, WatchedNode } from "../protocol/sentinel-api";
import { type SentinelSettings, type Topology, configKey, newerTopology, parseTopology, votesNeeded } from "../protocol/topology";
import { IDLE_PING_MS, SILENCE_GRACE_MS } from "../node/liveness";
import { FailoverRun, type SentinelContext } from "./failover";

/** The sentinel's period (Redis Sentinel pings every second). */
export const TICK_MS = 1000;
/** How often replicas are pinged while the sentinel ticks and the primary answers (Sentinel's INFO period). */
export const REPLICA_PING_MS = 10_000;
/** How long a replica's report of silence keeps a sentinel ticking: until its next report would come (node/liveness.ts). */
const WATCH_WINDOW_MS = IDLE_PING_MS + SILENCE_GRACE_MS + 2 * TICK_MS;
/** Events kept for the dashboard and /admin/topology. */
const EVENTS_KEPT = 20;

/** The sentinel's stored state, a few named values (a table row each in the Durable Object). */
export interface SentinelStore {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
}

export interface SentinelHost {
  readonly name: string;
  readonly store: SentinelStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly transport: Transport;
  readonly configured: Topology;
  readonly settings: SentinelSettings;
  setAlarm(at: number): Promise<void>;
}

/** What the node said last, and when it last answered. */
interface Watch {
  lastOk: number | null;
  status: NodeStatus | null;
}

export class Sentinel implements SentinelContext {
  readonly name: string;
  readonly clock: Clock;
  readonly settings: SentinelSettings;
  readonly transport: Transport;
  readonly store: SentinelStore;
  /** Sentinel's current_epoch: the largest epoch this sentinel knows of (stored). */
  private epoch: number;
  /** The one vote per epoch (stored), when it was given, and whether for an automatic failover. */
  private vote: { epoch: number; leader: string | null; at?: number; auto?: boolean };
  /** The newest topology this sentinel knows (stored). */
  topology: Topology;
  /** The failover this sentinel leads, if any. */
  private readonly failover: FailoverRun;
  private events: { at: number; event: string }[];
  private readonly watched = new Map<string, Watch>();
  private readonly since: number;
  private odown = false;
  /** No automatic failover attempt before this time (after a lost election). */
  private nextAttempt = 0;
  private lastReplicaPing = Number.NEGATIVE_INFINITY;
  /** The alarm is armed: this sentinel ticks (it suspects the master, or a failover runs). */
  private ticking = false;
  /** A replica's report of silence keeps this sentinel ticking until then, the master answering or not. */
  private watchUntil = 0;
  down = false;

  constructor(private readonly host: SentinelHost) {
    this.name = host.name;
    // Read through the host each time: a test may replace the clock after start-up.
    this.clock = { now: () => host.clock.now(), sleep: (ms, signal) => host.clock.sleep(ms, signal) };
    this.settings = host.settings;
    this.transport = host.transport;
    this.store = host.store;
    const store = host.store;
    const configured = host.configured;
    const stored = parseTopology(store.get("topology"));
    // A deploy that changed the nodes or the primary: start from the configuration and learn the
    // epoch the nodes gave it from their answers.
    const sameConfig = store.get("config_key") === configKey(configured);
    this.topology = stored && sameConfig ? stored : { ...configured, epoch: 0 };
    if (!sameConfig) {
      store.set("config_key", configKey(configured));
      store.set("topology", this.topology);
    }
    this.epoch = Math.max(Number(store.get("epoch") ?? 0), this.topology.epoch);
    this.vote = (store.get("vote") as Sentinel["vote"] | undefined) ?? { epoch: 0, leader: null };
    this.events = (store.get("events") as Sentinel["events"] | undefined) ?? [];
    this.down = store.get("down") === true;
    this.since = this.clock.now();
    this.failover = new FailoverRun(this);
  }

  get others(): string[] {
    return this.settings.sentinels.filter((s) => s !== this.name);
  }

  private checkUp(): void {
    if (this.down) throw new Error(`flaredis sentinel ${this.name}: unreachable (down)`);
  }

  // ---- The alarm ---------------------------------------------------------------------------

  /**
   * Looks at `node` (the master when not named) now; for the master, ticks for WATCH_WINDOW_MS,
   * and on while it does not answer (a replica that stopped hearing from its master asks this;
   * see node/liveness.ts).
   */
  async watch(node?: string, silentSince?: number, seen?: Topology | null): Promise<void> {
    this.checkUp();
    this.learn(seen ?? null);
    const target = node ?? this.topology.primary;
    // A replica that stopped hearing from the master: something is wrong even if the master answers
    // now (its link may be cut): the sentinel ticks a while, so a master lost next is noticed in time.
    if (target === this.topology.primary) this.watchUntil = Math.max(this.watchUntil, this.clock.now() + WATCH_WINDOW_MS);
    await this.look(target, silentSince);
    if (target === this.topology.primary) await this.arm();
  }

  /** Pings `target` now; a master that does not answer makes this sentinel tick (`suspect`). */
  private async look(target: string, silentSince: number | undefined): Promise<void> {
    const { primary, replicas } = this.topology;
    if (![primary, ...replicas].includes(target)) return;
    const status = await this.ping(target);
    if (status === null && target === this.topology.primary) await this.suspect(silentSince);
  }

  /**
   * The master did not answer a sentinel that was asleep: it ticks from now. Its last answer may be
   * long ago (nothing asked it to look): SDOWN is counted from the silence the asker saw
   * (`silentSince`: a replica's last push, another sentinel's last answer), or from now, never from
   * an old answer, so one missed ping after a quiet spell does not make the master down at once.
   */
  private async suspect(silentSince: number | undefined): Promise<void> {
    if (this.ticking) return;
    this.answered(this.topology.primary, Math.min(silentSince ?? this.clock.now(), this.clock.now()));
    await this.arm();
  }

  /**
   * Whether this sentinel counts the master's lease (its pings and lease answers): not while it has
   * voted for an automatic failover of a newer epoch than its topology's (within the failover
   * timeout), or leads one: another master may be on its way, and the old one, which the quorum took
   * for down, must not count it towards its writes. (A coordinated failover fences the master
   * first: its writes wait for it, whatever the lease.)
   */
  private grantsLease(): boolean {
    if (this.failover.current?.kind === "auto") return false;
    const v = this.vote;
    return !(v.auto === true && v.epoch > this.topology.epoch && this.clock.now() - (v.at ?? 0) < this.settings.failoverTimeoutMs);
  }

  /** The master renews its lease: it counts as an answer (unless `grantsLease` says no). The answer: whether it counts, and the topology this sentinel knows. */
  lease(node: string, seen: Topology | null): { topology: Topology; granted: boolean } {
    this.checkUp();
    this.learn(seen);
    const granted = node === this.topology.primary && this.grantsLease();
    if (node === this.topology.primary) this.answered(node, this.clock.now());
    return { topology: this.topology, granted };
  }

  /** One tick: watch, agree, fail over; then tick again while there is something to watch. */
  async tick(): Promise<void> {
    this.ticking = false;
    let again = true;
    try {
      if (!this.down) again = await this.check();
    } finally {
      if (again) await this.arm();
    }
  }

  private async arm(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    await this.host.setAlarm(this.clock.now() + TICK_MS);
  }

  /** Pings, agrees, elects, fails over as it must; whether to tick again. */
  private async check(): Promise<boolean> {
    const now = this.clock.now();
    const { primary, replicas } = this.topology;
    const primaryDown = this.sdown(primary);
    const pingReplicas = primaryDown || this.failover.current !== null || now - this.lastReplicaPing >= REPLICA_PING_MS;
    const [answer] = await Promise.all([primary, ...(pingReplicas ? replicas : [])].map((n) => this.ping(n)));
    if (pingReplicas) this.lastReplicaPing = now;
    if (this.failover.current) {
      await this.failover.step();
      return true;
    }
    if (!this.sdown(this.topology.primary)) {
      this.odown = false;
      // The master answered (or has not been silent for long): nothing left to watch, unless a
      // replica said lately that it does not hear from it.
      return answer === null || this.topology.primary !== primary || this.clock.now() < this.watchUntil;
    }
    const question = { from: this.name, primary: this.topology.primary, epoch: this.epoch, candidate: null, topology: this.topology, silentSince: this.lastAnswer(this.topology.primary) };
    const answers = await this.ask(question);
    const agree = 1 + answers.filter((a) => a.down).length;
    this.odown = agree >= this.settings.quorum;
    if (this.odown && this.clock.now() >= this.nextAttempt) {
      const epoch = await this.elect(true);
      if (epoch === null || this.failover.current) {
        // Lost (or split) the vote: wait, with jitter, before asking again.
        this.nextAttempt = this.clock.now() + this.settings.downAfterMs + Math.floor(this.host.random.next() * 2000);
        return true;
      }
      this.failover.begin({ epoch, kind: "auto", from: this.topology, state: "select", to: null, at: null, startedAt: this.clock.now() });
      await this.failover.step();
    }
    return true;
  }

  /** Pings one node; its answer may carry a newer topology. */
  async ping(node: string): Promise<NodeStatus | null> {
    try {
      const status = await this.host.transport.node(node).hello({ sentinel: this.name, topology: this.topology, lease: this.grantsLease() });
      this.answered(node, this.clock.now(), status);
      this.learn(status.topology);
      return status;
    } catch {
      return null;
    }
  }

  /**
   * Counts `node` as having answered at `at` (a ping, a lease renewal, the silence an asker saw;
   * never moving its last answer back), with its status when the answer carried one.
   */
  private answered(node: string, at: number, status?: NodeStatus): void {
    const w = this.watched.get(node);
    this.watched.set(node, { lastOk: Math.max(w?.lastOk ?? Number.NEGATIVE_INFINITY, at), status: status ?? w?.status ?? null });
  }

  /** When `node` last answered (or this sentinel started). */
  private lastAnswer(node: string): number {
    return this.watched.get(node)?.lastOk ?? this.since;
  }

  /** Subjectively down: no answer for down-after-milliseconds (counted from this sentinel's start). */
  private sdown(node: string): boolean {
    return this.clock.now() - this.lastAnswer(node) > this.settings.downAfterMs;
  }

  /** Takes a newer topology of this deployment's nodes. */
  learn(seen: Topology | null): void {
    const t = newerTopology(this.topology, seen, this.host.configured);
    if (!t) return;
    // A new primary is given down-after-milliseconds from now: not taken for down at its first missed ping.
    if (t.primary !== this.topology.primary) this.answered(t.primary, this.clock.now());
    this.topology = t;
    this.host.store.set("topology", t);
    this.raiseEpoch(t.epoch);
  }

  private raiseEpoch(epoch: number): void {
    if (epoch <= this.epoch) return;
    this.epoch = epoch;
    this.host.store.set("epoch", epoch);
  }

  record(event: string): void {
    this.events = [...this.events, { at: this.clock.now(), event }].slice(-EVENTS_KEPT);
    this.host.store.set("events", this.events);
  }

  // ---- Agreement ---------------------------------------------------------------------------

  /** The others' answers to `question` (those that answer). */
  private async ask(question: DownQuestion): Promise<DownAnswer[]> {
    const answers = await Promise.allSettled(this.others.map((s) => this.host.transport.sentinel(s).isMasterDown(question)));
    const ok = answers.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
    for (const a of ok) this.learn(parseTopology(a.topology));
    return ok;
  }

  /**
   * SENTINEL is-master-down-by-addr: this sentinel's SDOWN view, and its vote when asked for one.
   * A sleeping sentinel pings the master first (its view would be old), and ticks from then on
   * while the master does not answer.
   */
  async isMasterDown(q: DownQuestion): Promise<DownAnswer> {
    this.checkUp();
    this.learn(parseTopology(q.topology ?? null));
    if (!this.ticking && q.primary === this.topology.primary) await this.look(q.primary, q.silentSince);
    if (q.candidate !== null) {
      this.raiseEpoch(q.epoch);
      // One vote per epoch, to the first that asks.
      if (this.vote.epoch < q.epoch && this.epoch <= q.epoch) {
        this.vote = { epoch: q.epoch, leader: q.candidate, at: this.clock.now(), auto: q.auto === true };
        this.host.store.set("vote", this.vote);
      }
    }
    const down = q.primary === this.topology.primary && this.sdown(q.primary);
    return { down, leader: this.vote.leader, leaderEpoch: this.vote.epoch, topology: this.topology };
  }

  /** Asks to lead a new epoch; the epoch when a majority voted for this sentinel, else null. */
  async elect(auto = false): Promise<number | null> {
    const epoch = Math.max(this.epoch, this.topology.epoch) + 1;
    this.raiseEpoch(epoch);
    this.vote = { epoch, leader: this.name, at: this.clock.now(), auto };
    this.host.store.set("vote", this.vote);
    const answers = await this.ask({ from: this.name, primary: this.topology.primary, epoch, candidate: this.name, topology: this.topology, silentSince: this.lastAnswer(this.topology.primary), auto });
    const votes = 1 + answers.filter((a) => a.leader === this.name && a.leaderEpoch === epoch).length;
    const won = votes >= votesNeeded(this.settings) && this.topology.epoch < epoch;
    this.record(`${won ? "elected" : "not elected"} leader of epoch ${epoch} (${votes} votes)`);
    return won ? epoch : null;
  }

  /** A coordinated failover to `to` (POST /admin/failover), run to its end. */
  async coordinate(to: string): Promise<FailoverAnswer> {
    this.checkUp();
    const refuse = (status: 400 | 409 | 503, error: string): FailoverAnswer => ({ ok: false, status, error, topology: this.topology });
    if (this.failover.current || this.failover.running) return refuse(409, "ERR a failover is already in progress; nothing changed");
    const primaryStatus = await this.ping(this.topology.primary);
    const from = this.topology;
    if (!from.replicas.includes(to)) return refuse(400, `ERR a failover is {"to": <a replica: ${from.replicas.join(", ")}>}`);
    if (primaryStatus === null) return refuse(503, `ERR ${from.primary} cannot be reached; the sentinels fail over on their own once it is down`);
    if (primaryStatus.fencedAt !== null) return refuse(409, "ERR a failover is already in progress; nothing changed");
    const epoch = await this.elect();
    if (epoch === null) return refuse(409, "ERR this sentinel was not elected to lead the failover (another is under way); nothing changed");
    if (this.failover.current || this.failover.running || this.topology !== from) return refuse(409, "ERR the topology changed meanwhile; nothing changed");
    // Ticking from now: a restart in the middle finds the stored failover on its alarm and finishes it.
    await this.arm();
    this.failover.begin({ epoch, kind: "manual", from, state: "fence", to, at: null, startedAt: this.clock.now() });
    return (await this.failover.step()) ?? refuse(503, "ERR the failover is still under way; see /admin/topology");
  }

  /** Another sentinel's new topology. */
  announce(t: Topology): void {
    this.checkUp();
    this.learn(parseTopology(t));
  }

  status(): SentinelStatus {
    this.checkUp();
    const now = this.clock.now();
    const t = this.topology;
    const nodes: WatchedNode[] = [t.primary, ...t.replicas].map((node) => {
      const w = this.watched.get(node);
      return {
        node,
        role: w?.status?.role ?? "unknown",
        // A sleeping sentinel suspects nothing (its last answers may be old: nothing asked it to look).
        sdown: this.ticking && this.sdown(node),
        lastOkMs: w?.lastOk == null ? -1 : now - w.lastOk,
        offset: w?.status?.offset ?? 0,
        linkUp: w?.status?.linkUp ?? false,
      };
    });
    const f = this.failover.current;
    return {
      sentinel: this.name,
      epoch: this.epoch,
      topology: t,
      odown: this.odown,
      failover: f ? { epoch: f.epoch, to: f.to, state: f.state } : null,
      nodes,
      events: this.events,
    };
  }

  /** Takes the sentinel down (it answers nothing, and its alarm does nothing) or back up. */
  setDown(down: boolean): void {
    this.down = down;
    this.host.store.set("down", down);
  }
}
