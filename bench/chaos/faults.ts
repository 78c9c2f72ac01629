/**
 * The faults injected at random while the clients run, several at once (the same node too): a
 * new one every 0.3-1.5 s, without waiting for the others, at most 3 at once. A fault that must
 * start alone (`exclusive`: taking the primary down) waits for the others to end, and one that
 * is not `ready` (another primary down, the primary unreachable) is not picked now. No fault
 * picks a node that is down or not yet back as a replica (`away`). The failovers and the
 * sentinels' faults are in failover.ts.
 *
 * A fault kind is one entry of FAULTS: its name, how it is injected and undone (`run`), and what
 * sets back at the end of the run whatever it may have left set (`restore`, shared between kinds
 * that set the same thing, and run once each). Everything a fault needs comes in its context:
 * the admin API, who is primary now, the seeded generator, the history.
 */
import { sleep } from "../lib/load.ts";
import { type AdminReply, NODES, type Roles, ok, undo } from "./cluster.ts";
import { type Random, sleepUnlessStopping } from "./context.ts";
import { FAILOVER_FAULTS, type Failovers, type Losses } from "./failover.ts";

export type FaultResult = "applied" | "refused" | "failed";

export interface FaultContext {
  /** An admin call; a 2xx answer is ok (status 0: no answer). */
  admin(path: string, body?: unknown): Promise<AdminReply>;
  /** Who is primary now (refreshed before each fault). */
  readonly roles: Readonly<Roles>;
  refreshRoles(): Promise<void>;
  readonly random: Random;
  log(entry: Record<string, unknown>): void;
  /** True once the run's time is up: a fault undoes itself early. */
  stopping(): boolean;
  /** A violation: the run fails with this text. */
  violation(text: string, entry?: Record<string, unknown>): void;
  /** Records how a fault went that another one injected (a sentinel restart during a failover). */
  record(name: string, result: FaultResult): void;
  /** The failovers under way and what they did (nodes down, outages, counts). */
  readonly failovers: Failovers;
  /** The model's side of a primary lost: what it acknowledged may be lost. */
  readonly losses: Losses;
}

/** Sets back, at the end of the run, what a fault may have left set (an undo that failed). */
export type Restore = (ctx: FaultContext) => Promise<void>;

export interface Fault {
  readonly name: string;
  /** Injects the fault and, after a while, undoes it. */
  run(ctx: FaultContext): Promise<FaultResult>;
  readonly restore?: readonly Restore[];
  /** Whether it may be picked now (default: always). */
  ready?(ctx: FaultContext): boolean;
  /** Starts only once every other fault has ended (others may start while it runs). */
  readonly exclusive?: boolean;
}

/** The primary answers (no outage): faults aimed at it may be picked. */
const primaryUp = (ctx: FaultContext) => ctx.failovers.outageSince === null && !ctx.failovers.away.has(ctx.roles.primary);

/** A replica that is not down nor on its way back. */
const someReplica = (ctx: FaultContext) => ctx.random.pick(ctx.roles.replicas.filter((n) => !ctx.failovers.away.has(n)));


/** A fault that sets something on a node and, after `ms`, sets it back. */
async function toggle(ctx: FaultContext, node: string, on: unknown, off: unknown, ms: number): Promise<FaultResult> {
  const path = `/admin/nodes/${node}/faults`;
  const applied = ok(await ctx.admin(path, on));
  await sleepUnlessStopping(ctx, ms);
  const undone = await undo(ctx, path, off);
  return applied && undone ? "applied" : "failed";
}

/** A restore that sets `off` on every node. */
const onEveryNode =
  (off: unknown): Restore =>
  async (ctx) => {
    for (const node of NODES) await undo(ctx, `/admin/nodes/${node}/faults`, off);
  };
const linksUp = onEveryNode({ link: "up" });
const noDelay = onEveryNode({ delay: 0 });
const defaultBacklog: Restore = async (ctx) => void (await undo(ctx, "/", ["CONFIG", "SET", "repl-backlog-size", "1mb"]));


/** The faults injected at random; a new one is one more entry. */
export const FAULTS: readonly Fault[] = [
  {
    name: "replica-link-cut",
    run: (ctx) => toggle(ctx, someReplica(ctx), { link: "down" }, { link: "up" }, ctx.random.between(300, 3000)),
    restore: [linksUp],
  },
  {
    name: "primary-link-cut",
    run: (ctx) => toggle(ctx, ctx.roles.primary, { link: "down" }, { link: "up" }, ctx.random.between(300, 2000)),
    restore: [linksUp],
    ready: primaryUp,
  },
  {
    name: "replica-slow-link",
    run: (ctx) => toggle(ctx, someReplica(ctx), { delay: Math.round(ctx.random.between(20, 400)) }, { delay: 0 }, ctx.random.between(500, 3000)),
    restore: [noDelay],
  },
  {
    name: "primary-slow",
    run: (ctx) => toggle(ctx, ctx.roles.primary, { delay: Math.round(ctx.random.between(20, 200)) }, { delay: 0 }, ctx.random.between(300, 1500)),
    restore: [noDelay],
    ready: primaryUp,
  },
  {
    name: "replica-restart",
    run: async (ctx) => (ok(await ctx.admin(`/admin/nodes/${someReplica(ctx)}/faults`, { restart: true })) ? "applied" : "failed"),
  },
  {
    name: "primary-restart",
    run: async (ctx) => (ok(await ctx.admin(`/admin/nodes/${ctx.roles.primary}/faults`, { restart: true })) ? "applied" : "failed"),
    ready: primaryUp,
  },
  {
    // The replica misses more than the backlog holds, so it must full-sync while clients write.
    name: "backlog-overrun",
    ready: primaryUp,
    async run(ctx) {
      const node = someReplica(ctx);
      const path = `/admin/nodes/${node}/faults`;
      let good = ok(await ctx.admin("/", ["CONFIG", "SET", "repl-backlog-size", "16384"]));
      good = ok(await ctx.admin(path, { link: "down" })) && good;
      try {
        for (let i = 0; i < 4; i++) {
          const burst = Array.from({ length: 100 }, (_, j) => ["SET", `chaos:burst:${j}`, "x".repeat(100)]);
          good = ok(await ctx.admin("/pipeline", burst)) && good;
        }
      } finally {
        good = (await undo(ctx, path, { link: "up" })) && good;
        await sleepUnlessStopping(ctx, 1000);
        good = (await undo(ctx, "/", ["CONFIG", "SET", "repl-backlog-size", "1mb"])) && good;
      }
      return good ? "applied" : "failed";
    },
    restore: [linksUp, defaultBacklog],
  },
  ...FAILOVER_FAULTS,
];

/** How each kind of fault went: applied, refused (a documented refusal) or failed. */
export class FaultStats {
  readonly byName: Record<string, Record<FaultResult, number>> = {};

  add(name: string, result: FaultResult): void {
    const s = (this.byName[name] ??= { applied: 0, refused: 0, failed: 0 });
    s[result]++;
  }

  get total(): number {
    return Object.values(this.byName).reduce((a, s) => a + s.applied + s.refused + s.failed, 0);
  }

  get failed(): number {
    return Object.values(this.byName).reduce((a, s) => a + s.failed, 0);
  }

  /** `name applied/refused/failed, ...` for the summary. */
  toString(): string {
    return Object.entries(this.byName)
      .map(([k, s]) => `${k} ${s.applied}/${s.refused}/${s.failed}`)
      .join(", ");
  }
}

/** Runs one fault, from the next turn of the event loop, and records how it went (it never throws). */
async function runFault(ctx: FaultContext, stats: FaultStats, fault: Fault): Promise<void> {
  await sleep(0);
  let result: FaultResult;
  try {
    result = await fault.run(ctx);
  } catch (e) {
    ctx.log({ fault: fault.name, error: String(e) });
    result = "failed";
  }
  ctx.log({ fault: fault.name, result });
  stats.add(fault.name, result);
}

/** Injects faults from `faults` until the run stops, then waits for the ones still running. */
export async function injectFaults(ctx: FaultContext, stats: FaultStats, faults: readonly Fault[] = FAULTS): Promise<void> {
  const active = new Set<Promise<void>>();
  while (!ctx.stopping()) {
    await sleep(ctx.random.between(300, 1500));
    if (ctx.stopping()) break;
    if (active.size >= 3) continue;
    await ctx.refreshRoles().catch(() => undefined);
    const ready = faults.filter((f) => f.ready?.(ctx) ?? true);
    if (ready.length === 0) continue;
    const fault = ctx.random.pick(ready);
    if (fault.exclusive) {
      ctx.log({ fault: fault.name, waitingFor: active.size });
      await Promise.all(active);
      if (ctx.stopping() || !(fault.ready?.(ctx) ?? true)) continue;
      await ctx.refreshRoles().catch(() => undefined);
    }
    ctx.log({ fault: fault.name, active: active.size });
    const running = runFault(ctx, stats, fault);
    active.add(running);
    void running.then(() => active.delete(running));
  }
  await Promise.all(active);
}

/** Undoes, on every node, whatever any fault of `faults` may have left set (each restore once). */
export async function restoreAll(ctx: FaultContext, faults: readonly Fault[] = FAULTS): Promise<void> {
  for (const restore of new Set(faults.flatMap((f) => f.restore ?? []))) await restore(ctx);
}
