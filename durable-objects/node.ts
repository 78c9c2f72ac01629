/**
 * A Flaredis node: one Durable Object per region, SQLite-backed, running the engine. Every node
 * is this same class; its role (master or replica) is node state, not code, because failover
 * changes it at run time.
 *
 * Lifecycle: state is loaded in the constructor inside `blockConcurrencyWhile`; a start-up error
 * is kept and re-thrown by every call instead of breaking the input gate. One alarm serves every
 * timer (today: the active expiry sweep), re-armed to the earliest deadline.
 */
import { DurableObject } from "cloudflare:workers";
import { type Clock, cryptoRandom, systemClock } from "./engine/clock";
import { type Batch, type BatchResult, DEFAULT_LIMITS, Engine } from "./engine/engine";
import type { Role } from "./engine/keyspace";
import { SqliteStorage } from "./sqlite-storage";

export interface NodeEnv {
  /** Largest string value in bytes. */
  FLAREDIS_MAX_VALUE_BYTES?: string;
}

export interface ExecReply {
  readonly result: BatchResult;
  /** `primary:enam` or `replica:weur`, for the `Flaredis-Served-By` header. */
  readonly servedBy: string;
}

/**
 * What the worker calls on a node over RPC. (A narrow seam, and typed by hand: the RPC stub's
 * generated types cannot follow the recursive `Reply` type.)
 */
export interface NodeApi {
  execute(batch: Batch): Promise<ExecReply>;
  info(sections?: string[]): Promise<string>;
}

/** Keys expired per alarm run; more due keys re-arm the alarm at once. */
const SWEEP_BATCH = 1000;

export class FlaredisNode extends DurableObject<NodeEnv> implements NodeApi {
  /** The node's time. Tests replace it (through `runInDurableObject`) with a `ManualClock`. */
  clock: Clock = systemClock;
  private engine!: Engine;
  private startError: unknown = null;
  /** When the alarm is set, in engine time; null when unset. */
  private armedAt: number | null = null;

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
    const storage = new SqliteStorage(this.ctx.storage);
    const name = this.ctx.id.name ?? String(storage.meta.get("node") ?? "");
    if (this.ctx.id.name && storage.meta.get("node") !== name) storage.meta.set("node", name);
    const maxValue = Number(this.env.FLAREDIS_MAX_VALUE_BYTES);
    this.engine = new Engine(storage, {
      clock: { now: () => this.clock.now() },
      random: cryptoRandom,
      role: (storage.meta.get("role") as Role | null) ?? "master",
      node: name,
      maxValueBytes: Number.isSafeInteger(maxValue) && maxValue > 0 ? maxValue : DEFAULT_LIMITS.maxValueBytes,
    });
    const alarm = await this.ctx.storage.getAlarm();
    this.armedAt = alarm === null ? null : this.toEngineTime(alarm);
    await this.arm(this.engine.nextDeadline());
  }

  private ready(): Engine {
    if (this.startError) throw this.startError;
    return this.engine;
  }

  /** Runs a batch of commands (one, a pipeline or a MULTI); see `Engine.run`. */
  async execute(batch: Batch): Promise<ExecReply> {
    const engine = this.ready();
    const result = engine.run(batch);
    await this.arm(engine.takeDeadline());
    return { result, servedBy: this.servedBy() };
  }

  /** The INFO text of this node (admin API and tests). */
  async info(sections: string[] = []): Promise<string> {
    return this.ready().info(sections);
  }

  override async alarm(): Promise<void> {
    const engine = this.ready();
    this.armedAt = null;
    const removed = engine.sweep(SWEEP_BATCH);
    await this.arm(removed === SWEEP_BATCH ? this.clock.now() : engine.nextDeadline());
  }

  private servedBy(): string {
    return `${this.engine.role === "master" ? "primary" : "replica"}:${this.engine.options.node ?? ""}`;
  }

  /** Sets the alarm to `at` (engine time) unless it is already set earlier. */
  private async arm(at: number | null): Promise<void> {
    if (at === null || (this.armedAt !== null && this.armedAt <= at)) return;
    this.armedAt = at;
    await this.ctx.storage.setAlarm(this.toWallTime(at));
  }

  // The alarm runs on wall time; the engine on `clock`, which tests may move.
  private toWallTime(at: number): number {
    return Date.now() + Math.max(0, at - this.clock.now());
  }
  private toEngineTime(wall: number): number {
    return this.clock.now() + (wall - Date.now());
  }
}
