/**
 * Which node serves a request, and what the worker does when that node cannot answer.
 *
 * Writes (a command with the `write` flag, or any command not known to be a read: `primary`,
 * `admin`, unknown), pipelines holding one, and every multi-exec go to the primary. Which node
 * that is is learned, not configured: the worker starts from wrangler.toml's topology and takes
 * any newer one (larger epoch) that a node or a sentinel tells it of.
 *
 * Reads follow a plan: the replicas fit to serve, nearest first (great-circle distance from
 * `request.cf`), then the primary, then the other replicas. A replica that declines (behind the
 * client's sync token, staler than its Flaredis-Max-Staleness, LOADING) or fails hands the read
 * to the next; each node is asked at most once. A client that cannot be located is served by the
 * primary. A replica's answer to a read that Redis makes write (PFCOUNT storing its count in the
 * value: `BatchResult.forMaster`) is replaced by the primary's, which writes it, when the primary
 * answers. Which replicas are fit comes from the primary's status (links and lag as it sees
 * them), cached per isolate; when the primary cannot be asked, the worker routes by the last
 * health it had, or, with none, by the replicas' own reports.
 *
 * Outage: while calls to the primary fail, reads go to the replicas first and the primary last
 * (replicas serve stale data and say how stale, `replica-serve-stale-data yes`); a read that
 * nobody can serve and every write fail at once with MASTERDOWN (503), after the worker has
 * asked the nodes and the sentinels whether another node has been promoted, and sent the batch
 * there if so. Every call to a node is bounded in time, so a node that hangs cannot hang a
 * request.
 */
import type { WrittenKeys } from "../durable-objects/protocol/read-your-writes";
import { type Clock, systemClock } from "../durable-objects/engine/clock";
import { MAX_BLOCK_MS } from "../durable-objects/engine/blocking";
import { flagsOf } from "../durable-objects/engine/command";
import { Engine, type Batch, type Mode } from "../durable-objects/engine/engine";
import { RedisError } from "../durable-objects/engine/errors";
import type { Position } from "../durable-objects/engine/replication/protocol";
import type { ExecReply, NodeStatus } from "../durable-objects/protocol/node-api";
import { type Region, type Topology, newerTopology, sameNodes, sentinelsOf, topologyOf } from "../durable-objects/protocol/topology";
import { type Env, nodeStub, sentinelStub } from "./env";
import { outageErrors } from "./errors";
import { type ClientLocation, byDistance, locate } from "./regions";

// ---- The topology ---------------------------------------------------------------------------

/**
 * How long the worker waits for a status (a node's or a sentinel's). A status is small; one that
 * takes longer counts as unanswered, and the worker routes by what it already knows.
 */
const STATUS_TIMEOUT_MS = 2000;

/**
 * How long the worker waits for a node to run a batch. A node whose region is lost may never
 * answer; past this the request fails (a write with MASTERDOWN, saying it may have run) instead of
 * hanging until the platform's limit. Well above a batch's legitimate time: a replica's bounded
 * wait for a sync token (READ_YOUR_WRITES_WAIT_MS), a master's probe of idle replicas (1 s), a
 * fenced master's wait for a failover to end (3 s). A WAIT adds its own timeout (see `boundOf`).
 */
const NODE_CALL_TIMEOUT_MS = 10_000;

/**
 * How long `batch` may take on its node: NODE_CALL_TIMEOUT_MS plus what its WAITs and blocking
 * commands may block for (a blocking command at most MAX_BLOCK_MS). `WAIT n 0` blocks until
 * enough replicas acknowledge (at most repl-timeout, a setting only the node knows): such a batch
 * is not bounded here.
 */
function boundOf(batch: Batch): number {
  const isBlocking = (argv: readonly string[]) => {
    const command = Engine.lookup(argv[0] ?? "");
    return command !== undefined && flagsOf(command, argv).includes("blocking");
  };
  let ms = NODE_CALL_TIMEOUT_MS;
  for (const argv of batch.commands)
    if (isBlocking(argv)) ms += MAX_BLOCK_MS;
    else if (argv[0]?.toUpperCase() === "WAIT") {
      const timeout = Number(argv[2]);
      if (!(timeout > 0)) return Number.POSITIVE_INFINITY;
      ms += timeout;
    }
  return ms;
}

class TimedOut extends Error {}

/** The longest delay a timer takes (a larger one would fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** `work`, or a TimedOut rejection after `ms` (the call itself goes on; its answer is dropped). */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  if (!(ms <= MAX_TIMER_MS)) return work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The configured sentinels' regions (none when FLAREDIS_SENTINELS is "" or unusable). */
function sentinelRegions(env: Env): readonly string[] {
  try {
    return sentinelsOf(env).sentinels;
  } catch {
    return [];
  }
}

// ---- The replicas' health -------------------------------------------------------------------

/**
 * How long the worker trusts the replicas' health it learned; after that, for up to
 * HEALTH_STALE_MS (and for as long as the primary cannot be asked), it still routes by it while a
 * refresh runs in the background, so a read at the edge does not wait for a round trip to the
 * primary. (A replica that has gone bad since declines the read itself, and the next one answers.)
 */
const HEALTH_TTL_MS = 1000;
const HEALTH_STALE_MS = 10_000;

/** The replicas fit to serve reads, as last learned (from the primary, or from the replicas themselves). */
interface Health {
  readonly at: number;
  readonly healthy: Set<string>;
}

/** The largest replica lag (ms) a read accepts; FLAREDIS_MAX_LAG_MS, 2000 by default. */
const maxLag = (env: Env) => {
  const n = Number(env.FLAREDIS_MAX_LAG_MS);
  return Number.isFinite(n) && n >= 0 ? n : 2000;
};

// ---- Plans ----------------------------------------------------------------------------------

/** True when the batch must run on the primary. */
export function needsPrimary(mode: Mode, commands: readonly (readonly string[])[]): boolean {
  return mode === "multi" || !commands.every(Engine.isRead);
}

/** The replicas a read asks, in order: `first` before the primary, `then` only when the primary cannot answer. */
export interface ReadPlan {
  readonly first: readonly string[];
  readonly then: readonly string[];
}

// ---- Running a batch ------------------------------------------------------------------------

/** Work that may finish after the response (the request's waitUntil). */
export type Background = (work: Promise<unknown>) => void;

/** How long replicas may take, in all, to catch up to a client's sync token before others serve it. */
const READ_YOUR_WRITES_WAIT_MS = 200;

/** What a request asks of the node that serves it. */
export interface RouteOptions {
  /** Where the client is (`request.cf`). */
  readonly cf: ClientLocation | undefined;
  /** The position the client has seen (its sync token), or null. */
  readonly position: Position | null;
  /** The client's own writes, from its sync token (read-your-writes.ts). */
  readonly written?: WrittenKeys;
  /** Flaredis-Max-Staleness in ms (0: the primary only), or null for any. */
  readonly maxStalenessMs: number | null;
  readonly background?: Background;
}

/**
 * The routing of one isolate: the topology it has learned, the replicas' health it caches, and
 * whether the primary is failing, with the clock they are timed by (tests inject one). The
 * isolate's own is `routerFor(env)`; the functions below it are its methods, for the callers.
 */
export class Router {
  /** The newest topology this isolate has learned, or null for the configured one. */
  private learned: Topology | null = null;
  private health: Health | null = null;
  /** When a call to the primary started failing; null while it answers. */
  private primaryFailedAt: number | null = null;
  private refreshing = false;

  constructor(
    private readonly env: Env,
    private readonly clock: Clock = systemClock,
    /** The shard group whose nodes it routes to (protocol/shards.ts). */
    readonly shard = 1,
  ) {}

  /** The topology requests are routed by: the newest known for the configured nodes. */
  currentTopology(): Topology {
    const configured = topologyOf(this.env);
    if (this.learned && this.learned.epoch >= configured.epoch && sameNodes(this.learned, configured)) return this.learned;
    return configured;
  }

  /** Takes a topology a node or a sentinel reported, if newer; a new primary makes the cached health void. */
  learnTopology(t: Topology): void {
    const current = this.currentTopology();
    if (!newerTopology(current, t, current)) return;
    this.learned = t;
    if (t.primary !== current.primary) {
      this.health = null;
      this.primaryFailedAt = null;
    }
  }

  /** Asks every node and every sentinel for the topology it knows and keeps the newest. */
  async refreshTopology(): Promise<Topology> {
    await this.survey();
    return this.currentTopology();
  }

  /**
   * Asks every node for its status and every sentinel for its view, in parallel and each bounded in
   * time; learns the newest topology among them. Answers the nodes' statuses, by node.
   */
  private async survey(): Promise<Map<string, NodeStatus>> {
    const { primary, replicas } = this.currentTopology();
    const [nodes, sentinels] = await Promise.all([
      Promise.allSettled([primary, ...replicas].map(async (n) => within(STATUS_TIMEOUT_MS, nodeStub(this.env, n, this.shard).status()))),
      Promise.allSettled(sentinelRegions(this.env).map(async (s) => within(STATUS_TIMEOUT_MS, sentinelStub(this.env, s, this.shard).status()))),
    ]);
    const statuses = new Map<string, NodeStatus>();
    for (const a of nodes)
      if (a.status === "fulfilled") {
        this.learnTopology(a.value.topology);
        statuses.set(a.value.node, a.value);
      }
    for (const a of sentinels) if (a.status === "fulfilled") this.learnTopology(a.value.topology);
    return statuses;
  }

  /**
   * Learns the replicas' health: from the primary's status (link up, lag within the bound) when it
   * answers; else, after asking every node and sentinel (a newer primary may answer instead), from
   * the replicas' own reports (a whole keyspace: their link is expected to be down); else keeps the
   * last health it had. Never throws.
   */
  private async learnHealth(now: number): Promise<Health | null> {
    let status = await within(STATUS_TIMEOUT_MS, nodeStub(this.env, this.currentTopology().primary, this.shard).status()).catch(() => null);
    if (status) this.learnTopology(status.topology);
    let reports: NodeStatus[] = [];
    if (!status || status.role !== "master" || status.node !== this.currentTopology().primary) {
      const seen = await this.survey();
      const { primary, replicas } = this.currentTopology();
      status = seen.get(primary)?.role === "master" ? seen.get(primary)! : null;
      reports = [...seen.values()].filter((s) => replicas.includes(s.node));
    }
    if (status) {
      this.primaryFailedAt = null;
      const fit = status.replicas.filter((r) => r.link === "up" && r.lag_ms >= 0 && r.lag_ms <= maxLag(this.env));
      return (this.health = { at: now, healthy: new Set(fit.map((r) => r.node)) });
    }
    this.primaryFailedAt ??= now;
    if (reports.length > 0) this.health = { at: now, healthy: new Set(reports.filter((s) => s.role === "slave" && s.synced).map((s) => s.node)) };
    return this.health;
  }

  /** The replicas' health, cached per isolate (see HEALTH_TTL_MS); `background` is the request's waitUntil. */
  private async replicaHealth(now: number, background?: Background): Promise<Health | null> {
    if (this.health && now - this.health.at < HEALTH_TTL_MS) return this.health;
    if (this.health && background && (now - this.health.at < HEALTH_STALE_MS || this.primaryFailedAt !== null)) {
      if (!this.refreshing) {
        this.refreshing = true;
        background(this.learnHealth(now).finally(() => (this.refreshing = false)));
      }
      return this.health;
    }
    return this.learnHealth(now);
  }

  /** A replica declined a read: its state has changed, so the health is refreshed at the next read. */
  private replicaDeclined(now: number): void {
    if (this.health) this.health = { ...this.health, at: Math.min(this.health.at, now - HEALTH_TTL_MS) };
  }

  /** A replica failed (unreachable, or no answer in time): no read goes to it until the health is refreshed. */
  private replicaFailed(replica: string, now: number): void {
    if (!this.health) return;
    this.health.healthy.delete(replica);
    this.replicaDeclined(now);
  }

  /** Forgets what the isolate knows of the nodes' health, as a fresh isolate (tests). */
  forgetHealth(): void {
    this.health = null;
    this.primaryFailedAt = null;
  }

  /**
   * The order in which a read from `cf` asks the nodes. The healthy replicas come first, nearest
   * first, then the primary, then the rest; while the primary is failing, it comes last. A client
   * that cannot be located goes to the primary first (the replicas in configured order after it).
   */
  async readPlan(cf: ClientLocation | undefined, background?: Background, now = this.clock.now()): Promise<ReadPlan> {
    if (this.currentTopology().replicas.length === 0) return { first: [], then: [] };
    const from = locate(cf);
    const view = from === null && this.primaryFailedAt === null ? null : await this.replicaHealth(now, background);
    const { replicas } = this.currentTopology();
    const ordered = from === null ? [...replicas] : byDistance(from, replicas as Region[]);
    const healthy = ordered.filter((r) => view?.healthy.has(r));
    const rest = ordered.filter((r) => !healthy.includes(r));
    return this.primaryFailedAt === null ? { first: healthy, then: rest } : { first: [...healthy, ...rest], then: [] };
  }

  /** The replica a read from `cf` asks first, or null when the primary comes first. */
  async readReplica(cf: ClientLocation | undefined, background?: Background, now = this.clock.now()): Promise<string | null> {
    return (await this.readPlan(cf, background, now)).first[0] ?? null;
  }

  /**
   * Runs a batch where it belongs (see the module comment). A read goes through its plan; the first
   * replica may wait for the client's position up to READ_YOUR_WRITES_WAIT_MS, the next ones for
   * what is left of it.
   * @throws RedisError MASTERDOWN when the primary cannot be reached and the batch is a write, a
   *   primary-only read, or a read no replica could serve.
   */
  async route(batch: Batch, options: RouteOptions): Promise<ExecReply> {
    const write = needsPrimary(batch.mode, batch.commands);
    if (write || options.maxStalenessMs === 0) {
      const reply = await this.onPrimary(batch, write);
      if (reply instanceof RedisError) throw reply;
      return reply;
    }
    const plan = await this.readPlan(options.cf, options.background);
    const deadline = this.clock.now() + READ_YOUR_WRITES_WAIT_MS;
    const fromReplica = async (replica: string): Promise<ExecReply | null> => {
      const policy = {
        position: options.position,
        ...(options.written ? { written: options.written } : {}),
        maxStalenessMs: options.maxStalenessMs,
        waitMs: Math.max(0, deadline - this.clock.now()),
      };
      try {
        const reply = await within(NODE_CALL_TIMEOUT_MS, nodeStub(this.env, replica, this.shard).read(batch, policy));
        if (!reply) this.replicaDeclined(this.clock.now());
        return reply;
      } catch {
        this.replicaFailed(replica, this.clock.now());
        return null;
      }
    };
    for (const replica of plan.first) {
      const reply = await fromReplica(replica);
      if (reply && "forMaster" in reply.result) {
        // A read that writes on a master (PFCOUNT storing its count): served there when it answers
        // it; while the primary is failing, or when it refuses the batch (TRYAGAIN while fenced),
        // the replica's answer stands.
        if (this.primaryFailedAt !== null) return reply;
        const onPrimary = await this.onPrimary(batch, false);
        return onPrimary instanceof RedisError || "error" in onPrimary.result ? reply : onPrimary;
      }
      if (reply) return reply;
    }
    const reply = await this.onPrimary(batch, false);
    if (!(reply instanceof RedisError)) return reply;
    for (const replica of plan.then) {
      const reply = await fromReplica(replica);
      if (reply) return reply;
    }
    throw plan.first.length + plan.then.length > 0 ? outageErrors.noReplicaServes(this.currentTopology().primary) : reply;
  }

  /**
   * Runs a batch on the primary. A node that answers it is not the primary (a failover happened)
   * names the newer topology: the batch, which it did not run, goes once to the new primary. A call
   * that fails makes the worker ask every node and sentinel for the topology; a read then goes once
   * to a newer primary if there is one. A write does not: a call that failed may have run it (the
   * node may have committed and then been lost), and it must not run twice (an INCR, an APPEND), so
   * the client gets MASTERDOWN saying so and decides; its next request goes to the new primary.
   * The answer is the MASTERDOWN error, returned, not thrown.
   */
  private async onPrimary(batch: Batch, write: boolean): Promise<ExecReply | RedisError> {
    for (let retried = false; ; retried = true) {
      const primary = this.currentTopology().primary;
      let reply: ExecReply;
      try {
        reply = await within(boundOf(batch), nodeStub(this.env, primary, this.shard).execute(batch, true));
      } catch (e) {
        this.primaryFailedAt ??= this.clock.now();
        console.warn(`flaredis: the primary (${primary}) did not answer:`, e);
        await this.refreshTopology();
        const timedOut = e instanceof TimedOut;
        if (!retried && this.currentTopology().primary !== primary && !write) continue;
        if (!write) return outageErrors.primaryDown(primary);
        return timedOut ? outageErrors.writeTimedOut(primary, boundOf(batch)) : outageErrors.writeFailed(primary);
      }
      if (this.currentTopology().primary === primary) this.primaryFailedAt = null;
      if (!reply.notPrimary) return reply;
      this.learnTopology(reply.notPrimary);
      // Still the same node, or a second refusal: the client gets its READONLY error.
      if (retried || this.currentTopology().primary === primary) return reply;
    }
  }
}

const isolateRouters = new Map<number, Router>();

/** This isolate's router of shard `shard` (its state lives as long as the isolate). */
export function routerFor(env: Env, shard = 1): Router {
  let router = isolateRouters.get(shard);
  if (!router) isolateRouters.set(shard, (router = new Router(env, systemClock, shard)));
  return router;
}

/** See `Router.currentTopology`. */
export const currentTopology = (env: Env): Topology => routerFor(env).currentTopology();
/** See `Router.learnTopology`. */
export const learnTopology = (env: Env, t: Topology): void => routerFor(env).learnTopology(t);
/** See `Router.refreshTopology`. */
export const refreshTopology = (env: Env): Promise<Topology> => routerFor(env).refreshTopology();
/** See `Router.route`. */
export const route = (env: Env, batch: Batch, options: RouteOptions): Promise<ExecReply> => routerFor(env).route(batch, options);
/** See `Router.readReplica`. */
export const readReplica = (env: Env, cf: ClientLocation | undefined, background?: Background, now?: number): Promise<string | null> =>
  routerFor(env).readReplica(cf, background, now);

/** Forgets what the isolate knows of the nodes' health, as a fresh isolate (tests). */
export function forgetHealth(): void {
  for (const router of isolateRouters.values()) router.forgetHealth();
}
