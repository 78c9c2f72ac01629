/**
 * A sentinel's failover, run step by step as its leader.
 *
 * Stored at every step, so a sentinel restarted midway resumes where it was:
 * - `fence` (coordinated only): the old primary takes no batch from now on (stored on the node);
 *   a node already fenced by another failover refuses, which makes concurrent failovers lose. A
 *   fence without an answer may have been applied: the failover goes to `abort`, never just ends.
 * - `sync` (coordinated only): the target catches up to the fenced primary's exact offset.
 * - `select` (automatic only): the best replica among those that answer, follow this topology's
 *   primary, hold a whole keyspace and have a replica-priority above 0: lowest priority, then
 *   largest offset, then name.
 * - `promote`: the target adopts the new topology at the election's epoch (a compare-and-set; a
 *   coordinated failover also names the exact position). Then the other nodes and sentinels are
 *   told; the rest learn it from the new master's pushes and the sentinels' pings. A promotion
 *   without an answer is asked again of the same target, never of another at the same epoch.
 * - `abort` (coordinated, after fencing): the epoch is settled at the target as "the old primary
 *   stays" (the same compare-and-set, so a late promotion cannot also win it), then the old
 *   primary adopts it, which lifts its fence (or hears it in the sentinels' next ping). A target
 *   that cannot be asked keeps the abort pending (the primary stays fenced and answers TRYAGAIN)
 *   rather than risk two masters, for twice failover-timeout; then a newer epoch, elected as any,
 *   settles "the primary stays" everywhere (see `abandon`).
 */
import type { Clock } from "../engine/clock";
import type { Transport } from "../node/transport";
import type { NodeStatus } from "../protocol/node-api";
import type { FailoverAnswer } from "../protocol/sentinel-api";
import { type SentinelSettings, type Topology, promoted, sameTopology } from "../protocol/topology";
import type { SentinelStore } from "./sentinel";

/** How long a coordinated failover waits for its target to reach the primary's offset. */
const CATCH_UP_MS = 5000;

/** A failover in progress, as stored. */
export interface Failover {
  readonly epoch: number;
  readonly kind: "auto" | "manual";
  /** The topology it replaces. */
  readonly from: Topology;
  state: "fence" | "sync" | "select" | "promote" | "abort";
  to: string | null;
  /** Where the fenced primary stopped (coordinated). */
  at: { replid: string; offset: number } | null;
  readonly startedAt: number;
  /** Why a coordinated failover is being aborted. */
  reason?: string;
}

/** What the failover needs of its sentinel. */
export interface SentinelContext {
  readonly clock: Clock;
  readonly settings: SentinelSettings;
  readonly transport: Transport;
  readonly store: SentinelStore;
  /** The newest topology the sentinel knows. */
  readonly topology: Topology;
  /** The other sentinels. */
  readonly others: readonly string[];
  /** Takes a newer topology. */
  learn(t: Topology | null): void;
  /** Pings a node now; its status, or null when it does not answer. */
  ping(node: string): Promise<NodeStatus | null>;
  /** Adds a line to the recent role changes. */
  record(event: string): void;
  /** Asks to lead a new epoch: the epoch when elected, else null. */
  elect(): Promise<number | null>;
}

export class FailoverRun {
  /** The failover under way (stored), or null. */
  current: Failover | null;
  /** A step under way (the alarm and an admin call never run two at once). */
  running: Promise<FailoverAnswer | null> | null = null;

  constructor(private readonly s: SentinelContext) {
    this.current = (s.store.get("failover") as Failover | null | undefined) ?? null;
  }

  /** Starts `f` (stored before anything is done). */
  begin(f: Failover): void {
    this.current = f;
    this.save();
    this.s.record(`${f.kind === "auto" ? "failover" : "coordinated failover"} of ${f.from.primary} at epoch ${f.epoch}${f.to ? ` to ${f.to}` : ""}`);
  }

  private save(): void {
    this.s.store.set("failover", this.current);
  }

  private finish(answer: FailoverAnswer): FailoverAnswer {
    this.current = null;
    this.save();
    return answer;
  }

  /** Runs the stored failover as far as it goes now; its answer when it ended, else null. */
  step(): Promise<FailoverAnswer | null> {
    this.running ??= this.advance().finally(() => (this.running = null));
    return this.running;
  }

  private async advance(): Promise<FailoverAnswer | null> {
    for (;;) {
      const f = this.current;
      if (!f) return null;
      const failed = (status: 409 | 503, error: string) => this.finish({ ok: false, status, error, topology: this.s.topology });
      // Someone settled this epoch, or a later one, already.
      if (this.s.topology.epoch >= f.epoch && f.state !== "abort") {
        const ok = this.s.topology.epoch === f.epoch && this.s.topology.primary === f.to;
        return ok ? this.finish({ ok: true, topology: this.s.topology, offset: f.at?.offset ?? -1 }) : failed(409, `ERR epoch ${f.epoch} was settled otherwise`);
      }
      const timedOut = this.s.clock.now() - f.startedAt > this.s.settings.failoverTimeoutMs;
      if (timedOut && f.state !== "abort") {
        // An automatic failover's epoch is given up (a later election supersedes whatever it
        // did); a coordinated one may have fenced the primary, and must settle its epoch.
        if (f.kind === "auto") {
          this.s.record(`failover at epoch ${f.epoch} timed out`);
          return failed(503, `ERR failover at epoch ${f.epoch} timed out`);
        }
        this.abortWith("timed out");
        continue;
      }
      if (f.state === "fence") {
        const reply = await this.s.transport
          .node(f.from.primary)
          .fence(f.epoch)
          .catch(() => null);
        if (this.current !== f) continue;
        // No answer: the fence may have been applied. Settle the epoch so that it is lifted.
        if (reply === null) {
          this.abortWith(`${f.from.primary} did not confirm the fence`);
          continue;
        }
        if (!reply.fenced) {
          this.s.learn(reply.topology);
          return failed(409, `ERR ${f.from.primary} refused the fence (another failover, or a newer epoch); nothing changed`);
        }
        f.at = { replid: reply.replid, offset: reply.offset };
        f.state = "sync";
        this.save();
        continue;
      }
      if (f.state === "sync") {
        const reached = await this.catchUp(f.to!, f.at!.offset);
        if (this.current !== f) continue;
        if (reached) f.state = "promote";
        else this.abortWith(`${f.to} did not reach offset ${f.at!.offset}`);
        this.save();
        continue;
      }
      if (f.state === "select") {
        const best = await this.select(f);
        if (this.current !== f) continue;
        if (best === null) return null; // none promotable yet: the next tick looks again, until the timeout
        f.to = best;
        f.state = "promote";
        this.save();
        continue;
      }
      if (f.state === "promote") {
        const next = promoted(f.from, f.to!, f.epoch);
        const after = await this.s.transport
          .node(f.to!)
          .adopt(next, f.at ?? undefined)
          .catch(() => null);
        if (this.current !== f) continue;
        if (after && sameTopology(after, next)) return this.finish(await this.promotedTo(f, next));
        if (after && after.epoch >= f.epoch) {
          this.s.learn(after);
          return failed(409, `ERR epoch ${f.epoch} was settled otherwise`);
        }
        // No answer: the target may have taken the promotion. Never promote another at this
        // epoch (two masters at one epoch could never fence each other): ask the same target
        // again at the next tick, until the timeout gives the epoch up.
        if (after === null && f.kind === "auto") return null;
        // Refused (not a whole keyspace, not at the position).
        if (f.kind === "auto") {
          f.state = "select";
          f.to = null;
          this.save();
          return null;
        }
        this.abortWith(`${f.to} refused the promotion`);
        continue;
      }
      // abort: settle the epoch as "the old primary stays" at the target, then lift the fence.
      const keep: Topology = { ...f.from, epoch: f.epoch };
      const atTarget = await this.s.transport
        .node(f.to!)
        .adopt(keep)
        .catch(() => null);
      if (this.current !== f) continue;
      if (atTarget === null) return this.abandon(f);
      if (sameTopology(atTarget, promoted(f.from, f.to!, f.epoch))) return this.finish(await this.promotedTo(f, atTarget));
      // The sentinels' pings carry `keep` from now on: a primary that misses this call lifts its
      // fence when it next hears from one.
      this.s.learn(keep);
      await this.s.transport
        .node(f.from.primary)
        .adopt(keep)
        .catch(() => null);
      this.s.record(`coordinated failover at epoch ${f.epoch} aborted: ${f.reason}; ${f.from.primary} stays the primary`);
      return this.finish({ ok: false, status: 409, error: `ERR failover: ${f.reason}; nothing changed`, topology: this.s.topology });
    }
  }

  /**
   * An abort whose target cannot be asked: the next tick asks again (the old primary stays fenced
   * rather than risk two masters); after twice failover-timeout, the epoch is settled by a newer
   * one instead, elected as any: "the primary stays" at that epoch, told to every node. (A target
   * that took the promotion unseen learns it and follows; nobody could reach it meanwhile.)
   */
  private async abandon(f: Failover): Promise<FailoverAnswer | null> {
    if (this.s.clock.now() - f.startedAt <= 2 * this.s.settings.failoverTimeoutMs) return null;
    const epoch = await this.s.elect();
    if (this.current !== f || epoch === null) return null;
    const keep: Topology = { ...f.from, epoch };
    this.s.learn(keep);
    await Promise.allSettled([f.from.primary, ...f.from.replicas].map((n) => this.s.transport.node(n).adopt(keep)));
    this.s.record(`coordinated failover at epoch ${f.epoch} abandoned (${f.to} unreachable); ${f.from.primary} stays the primary at epoch ${epoch}`);
    return this.finish({ ok: false, status: 409, error: `ERR failover: ${f.reason}; nothing changed`, topology: this.s.topology });
  }

  private abortWith(reason: string): void {
    const f = this.current!;
    f.state = "abort";
    f.reason = reason;
    this.save();
  }

  /** A promotion took: tell the nodes and the other sentinels. */
  private async promotedTo(f: Failover, next: Topology): Promise<FailoverAnswer> {
    this.s.learn(next);
    this.s.record(`${next.primary} promoted at epoch ${next.epoch} (was ${f.from.primary})`);
    await Promise.allSettled([
      ...next.replicas.map((n) => this.s.transport.node(n).adopt(next)),
      ...this.s.others.map((s) => this.s.transport.sentinel(s).announce(next)),
    ]);
    return { ok: true, topology: next, offset: f.at?.offset ?? -1 };
  }

  /** Pulls `to` up to `offset`; true once it is there (the fenced primary takes no more writes). */
  private async catchUp(to: string, offset: number): Promise<boolean> {
    const deadline = this.s.clock.now() + CATCH_UP_MS;
    let last = -1;
    while (this.s.clock.now() <= deadline) {
      const ack = await this.s.transport
        .node(to)
        .catchUp()
        .catch(() => null);
      if (ack && ack.offset === offset) return true;
      if (ack && ack.offset > offset) return false;
      // No progress: wait a little before asking again.
      if (!ack || ack.offset === last) await this.s.clock.sleep(50);
      last = ack?.offset ?? last;
    }
    return false;
  }

  /** The best promotable replica of `f.from`, asked now; null when none is. */
  private async select(f: Failover): Promise<string | null> {
    const statuses = await Promise.all(f.from.replicas.map((n) => this.s.ping(n)));
    const candidates = statuses.filter(
      (s): s is NodeStatus => s !== null && s.role === "slave" && s.synced && s.priority > 0 && s.topology.primary === f.from.primary,
    );
    candidates.sort((a, b) => a.priority - b.priority || b.offset - a.offset || a.node.localeCompare(b.node));
    return candidates[0]?.node ?? null;
  }
}
