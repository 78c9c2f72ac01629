/**
 * The chaos run's failovers (SPEC §6), each a fault of FAULTS, and what they must leave true:
 *
 * - `primary-down`: the primary answers nothing (`{"down":true}`) until, 8-15 s after a replica
 *   was promoted, it comes back; half the time its replication link is cut 0.3-1.5 s before, so
 *   that it acknowledges writes no replica gets (lost, as asynchronous replication allows). The
 *   sentinels must promote a replica on their own within PROMOTION_MS; the old primary, back,
 *   must be a replica of the new one (INFO: role:slave, master_host) within REJOIN_MS, and every
 *   node on the new primary's history (master_replid) within CONVERGE_MS. The model widens when
 *   the primary goes down (see `Model.primaryLost`), and takes a node's reads as possibly from the
 *   lost history until that node is seen on the new one. One at a time, started alone (no other
 *   fault under way, no coordinated failover that may still move the primary, none started until
 *   the primary is down), never while a node is down. A sentinel restarted during the outage may
 *   delay the promotion by down-after-milliseconds (it counts again from its start): the limit
 *   grows by that much.
 * - `sentinel-restart`: a sentinel restarts; primary-down and the coordinated failovers also
 *   restart one now and then while they run (counted here too).
 * - `manual-failover` and `concurrent-failovers` (two at once, to different replicas): every
 *   answer must be true. A 200 names the target as the primary at an epoch above the one before,
 *   and the topology shows that epoch with that primary, or a later epoch; two 200s never share an
 *   epoch; a 409 from a failover that ran alone changed no primary; 409 and 503 (and 400 for a
 *   target that another failover made primary meanwhile) are the documented refusals, anything
 *   else is a violation. Afterwards exactly one node reports role:master within ONE_MASTER_MS.
 *   A coordinated failover loses nothing: the model stays exact across it.
 *
 * `watchTopology` polls the topology through the run: epochs never go back, and a primary change
 * that no failover explains is a violation (and widens the model, as one that may have lost
 * writes). The counts go to the summary (`Failovers.summary`).
 */
import { sleep } from "../lib/load.ts";
import { type AdminReply, NODES, SENTINELS, type Topology, ok, undo } from "./cluster.ts";
import { now, sleepUnlessStopping } from "./context.ts";
import type { Fault, FaultContext, FaultResult, Restore } from "./faults.ts";
import { show } from "./journal.ts";

/** A replica must be promoted this soon after the primary went down (down-after 5 s, then agreement and election). */
const PROMOTION_MS = 15_000;
/** Past this, the old primary is brought back even without a promotion. */
const PROMOTION_GIVE_UP_MS = 30_000;
/** The old primary, back up, must follow the new one this soon. */
const REJOIN_MS = 15_000;
/** Every node must be on the new primary's history this soon after the old one rejoined. */
const CONVERGE_MS = 60_000;
/** After a coordinated failover, exactly one node must report role:master this soon. */
const ONE_MASTER_MS = 5_000;
/** wrangler.toml's FLAREDIS_DOWN_AFTER_MS. */
const DOWN_AFTER_MS = 5_000;
/** A failover answered 503 goes on in the sentinels up to their failover-timeout (wrangler.toml), and a little more. */
const FAILOVER_TIMEOUT_MS = 35_000;

/** The model's side of a primary lost (see `Model.primaryLost`). */
export interface Losses {
  /** The primary is down now: what it acknowledged but had not replicated may be lost. */
  primaryLost(): void;
  /** `node` follows the primary's history now (off the lost one). */
  leftLostHistory(node: string): void;
}

/** The failovers under way and what they did. */
export class Failovers {
  /** The node primary-down took down, until it is back and a replica. */
  down: string | null = null;
  /** Since when the primary has been down with no replica promoted (null: not now). */
  outageSince: number | null = null;
  /** Nodes no fault may pick: down, or back but not yet a replica of the new primary. */
  readonly away = new Set<string>();
  /** Failover calls in flight, and primary-downs under way. */
  busy = 0;
  /** A primary-down is about to take the primary down: no coordinated failover may move it now. */
  settingUp = false;
  /** Topology actions started so far (to tell a failover that ran alone). */
  started = 0;
  /** No primary-down before this time (so that most of the run has a primary). */
  nextDownAt = 0;
  /** A primary change until then may be a coordinated failover's (the watcher sees it a poll later). */
  manualUntil = 0;
  /** A coordinated failover may still be moving the primary until then (a 503 leaves it to the sentinels). */
  unsettledUntil = 0;
  /** Primary changes seen by the watcher, by cause. */
  readonly observed = { automatic: 0, manual: 0, unexplained: 0 };
  /** The failover calls' answers, by status. */
  readonly answers: Record<string, number> = {};
  /** From each primary going down to a replica promoted (ms). */
  readonly promotionMs: number[] = [];
  /** Sentinels restarted during the current outage (each may delay the promotion by down-after-milliseconds). */
  restartsInOutage = 0;
  /** Which nodes are on the primary's history, as last seen (for a violation's text). */
  histories = "";

  /** For the summary line. */
  summary(): string {
    const answers = Object.entries(this.answers)
      .map(([status, n]) => `${status}: ${n}`)
      .join(", ");
    const max = this.promotionMs.length ? `${Math.round(Math.max(...this.promotionMs))} ms` : "none";
    return (
      `failovers observed ${this.observed.automatic} automatic, ${this.observed.manual} manual, ${this.observed.unexplained} unexplained; ` +
      `promotion after a primary went down max ${max} (${this.promotionMs.length}); failover answers ${answers || "none"}`
    );
  }
}

// ---- Asking the cluster --------------------------------------------------------------------------

/** A JSON answer's object, or null. */
function parsed<T>(text: string): T | null {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" ? (v as T) : null;
  } catch {
    return null;
  }
}

async function topology(ctx: FaultContext): Promise<Topology | null> {
  const r = await ctx.admin("/admin/topology");
  return r.status === 200 ? parsed<Topology>(r.text) : null;
}

/** A field of an INFO text, or null. */
const field = (info: string | null, name: string) => info?.match(new RegExp(`^${name}:(.*)$`, "m"))?.[1]?.trim() ?? null;

/** A node's INFO replication, or null when it does not answer. */
async function replication(ctx: FaultContext, node: string): Promise<string | null> {
  const r = await ctx.admin(`/admin/nodes/${node}/info?section=replication`);
  return r.status === 200 ? r.text : null;
}

// ---- Sentinels -----------------------------------------------------------------------------------

async function restartSentinel(ctx: FaultContext): Promise<FaultResult> {
  const sentinel = ctx.random.pick(SENTINELS);
  if (ctx.failovers.outageSince !== null) ctx.failovers.restartsInOutage++;
  const r = await ctx.admin(`/admin/sentinels/${sentinel}/faults`, { restart: true });
  ctx.log({ fault: "sentinel-restart", sentinel, status: r.status });
  return ok(r) ? "applied" : "failed";
}

/** Restarts a sentinel `ms` from now, while a failover runs (recorded as a sentinel-restart). */
async function restartSentinelIn(ctx: FaultContext, ms: number): Promise<void> {
  await sleep(ms);
  ctx.record("sentinel-restart", await restartSentinel(ctx));
}

/** Every node (and its link) and sentinel up (primary-down undoes itself; this is for one cut short). */
const allUp: Restore = async (ctx) => {
  for (const node of NODES) {
    await undo(ctx, `/admin/nodes/${node}/faults`, { down: false });
    await undo(ctx, `/admin/nodes/${node}/faults`, { link: "up" });
  }
  for (const sentinel of SENTINELS) await undo(ctx, `/admin/sentinels/${sentinel}/faults`, { down: false });
};

// ---- primary-down --------------------------------------------------------------------------------

async function primaryDown(ctx: FaultContext): Promise<FaultResult> {
  const f = ctx.failovers;
  const before = await topology(ctx);
  if (!before || before.from !== "primary") return "refused"; // the primary does not answer already
  const old = before.primary.node;
  f.down = old;
  f.away.add(old);
  f.busy++;
  f.started++;
  f.settingUp = true;
  f.restartsInOutage = 0;
  const side = ctx.random.next() < 0.5 ? restartSentinelIn(ctx, ctx.random.between(0, 8000)) : null;
  let converging: Promise<void> | null = null;
  let converged = false;
  let stopConverging = false;
  let result: FaultResult = "applied";
  try {
    const path = `/admin/nodes/${old}/faults`;
    // Half the time its replication link is cut first: the writes it acknowledges meanwhile
    // reach no replica, and the failover loses them (as Redis's asynchronous replication may).
    const cut = ctx.random.next() < 0.5;
    if (cut) {
      if (!ok(await ctx.admin(path, { link: "down" }))) result = "failed";
      await sleep(ctx.random.between(300, 1500));
      if ((await topology(ctx))?.primary.node !== old) {
        await undo(ctx, path, { link: "up" });
        return "refused"; // the primary moved meanwhile (a failover the sentinels finished late)
      }
    }
    const r = await ctx.admin(path, { down: true });
    f.settingUp = false;
    // It takes nothing from now on; what it acknowledged before may not have replicated.
    ctx.losses.primaryLost();
    const downAt = now();
    f.outageSince = downAt;
    ctx.log({ fault: "primary-down", node: old, epoch: before.epoch, linkCutFirst: cut, status: r.status });
    if (!ok(r)) result = "failed";

    let promoted: Topology | null = null;
    while (now() - downAt < PROMOTION_GIVE_UP_MS) {
      const t = await topology(ctx);
      if (t && t.primary.node !== old && t.epoch > before.epoch) {
        promoted = t;
        break;
      }
      await sleep(250);
    }
    f.outageSince = null;
    const promotionMs = now() - downAt;
    // A restarted sentinel counts down-after-milliseconds again from its start.
    const limit = PROMOTION_MS + f.restartsInOutage * DOWN_AFTER_MS;
    if (promoted === null) ctx.violation(`primary-down: no replica promoted within ${PROMOTION_GIVE_UP_MS / 1000} s of the primary ${old} going down (epoch ${before.epoch})`);
    else {
      f.promotionMs.push(promotionMs);
      ctx.log({ fault: "primary-down", promoted: promoted.primary.node, epoch: promoted.epoch, afterMs: Math.round(promotionMs), sentinelRestarts: f.restartsInOutage });
      if (promotionMs > limit)
        ctx.violation(
          `primary-down: ${promoted.primary.node} promoted ${Math.round(promotionMs)} ms after the primary ${old} went down, later than ${limit} ms (${f.restartsInOutage} sentinel restart(s) meanwhile)`,
        );
    }
    // Each node leaves the lost history (its master_replid becomes the primary's) in its time;
    // the model checks its reads exactly again from then on.
    converging = leaveLostHistory(ctx, () => stopConverging).then((all) => void (converged = all));

    await sleepUnlessStopping(ctx, ctx.random.between(8000, 15_000));
    if (!(await undo(ctx, path, { down: false }))) result = "failed";
    if (cut && !(await undo(ctx, path, { link: "up" }))) result = "failed";
    const upAt = now();
    let seen = "";
    let rejoined = false;
    while (!rejoined && now() - upAt < REJOIN_MS) {
      const [t, info] = await Promise.all([topology(ctx), replication(ctx, old)]);
      const primary = t?.primary.node;
      rejoined = field(info, "role") === "slave" && primary !== old && field(info, "master_host") === primary;
      seen = `role:${field(info, "role")} master_host:${field(info, "master_host")}, topology's primary ${primary} (epoch ${t?.epoch})`;
      if (!rejoined) await sleep(250);
    }
    if (!rejoined) ctx.violation(`primary-down: ${old}, back up after the failover, is not a replica of the new primary ${REJOIN_MS / 1000} s later: ${seen}`);
    f.away.delete(old);
    f.down = null;
    const convergeFrom = now();
    while (!converged && now() - convergeFrom < CONVERGE_MS) await sleep(250);
    if (!converged)
      ctx.violation(`primary-down: ${CONVERGE_MS / 1000} s after ${old} rejoined, not every node is on the primary's history (${f.histories})`);
  } finally {
    f.settingUp = false;
    stopConverging = true;
    await converging;
    f.outageSince = null;
    f.away.delete(old);
    f.down = null;
    f.busy--;
    f.nextDownAt = now() + ctx.random.between(10_000, 20_000);
    await side;
  }
  return result;
}

/** Marks each node in the model as it is seen on the primary's history; true once every node is, false if stopped first. */
async function leaveLostHistory(ctx: FaultContext, stopped: () => boolean): Promise<boolean> {
  const left = new Set<string>();
  while (!stopped()) {
    const t = await topology(ctx);
    const infos = await Promise.all(NODES.map((n) => (left.has(n) && n !== t?.primary.node ? null : replication(ctx, n))));
    const replids = infos.map((i) => field(i, "master_replid"));
    const primaryReplid = t ? replids[NODES.indexOf(t.primary.node as (typeof NODES)[number])] : null;
    if (primaryReplid)
      NODES.forEach((n, i) => {
        if (!left.has(n) && replids[i] === primaryReplid) {
          left.add(n);
          ctx.losses.leftLostHistory(n);
          ctx.log({ history: "left the lost one", node: n });
        }
      });
    ctx.failovers.histories = NODES.map((n, i) => `${n} ${left.has(n) ? "on it" : (replids[i]?.slice(0, 8) ?? "?")}`).join(", ");
    if (left.size === NODES.length) return true;
    await sleep(500);
  }
  return false;
}

// ---- Coordinated failovers -----------------------------------------------------------------------

interface Asked {
  to: string;
  reply: AdminReply;
}

/** POST /admin/failover {"to": to}, recorded. */
async function askFailover(ctx: FaultContext, to: string): Promise<Asked> {
  const f = ctx.failovers;
  const reply = await ctx.admin("/admin/failover", { to });
  f.answers[reply.status] = (f.answers[reply.status] ?? 0) + 1;
  // The watcher may see its change a poll later; after a 503 (or no answer) it may still come.
  const settled = reply.status === 200 || reply.status === 409 || reply.status === 400;
  f.manualUntil = Math.max(f.manualUntil, now() + (settled ? 10_000 : FAILOVER_TIMEOUT_MS));
  if (!settled) f.unsettledUntil = Math.max(f.unsettledUntil, now() + FAILOVER_TIMEOUT_MS);
  ctx.log({ fault: "failover", to, status: reply.status, text: reply.text.slice(0, 300) });
  return { to, reply };
}

/**
 * Checks that every answer tells the truth (see the top of this file); `alone`: no other
 * failover nor primary-down ran meanwhile. Answers how the failovers went.
 */
async function judge(ctx: FaultContext, asked: Asked[], before: Topology, alone: boolean): Promise<FaultResult> {
  const won: { to: string; epoch: number }[] = [];
  let refusals = 0;
  for (const { to, reply } of asked) {
    const what = `failover to ${to}`;
    if (reply.status === 200) {
      const body = parsed<{ epoch?: unknown; primary?: unknown; replicas?: unknown }>(reply.text);
      const nodes = body && Array.isArray(body.replicas) ? [body.primary, ...body.replicas].map(String).sort() : [];
      if (!body || body.primary !== to || typeof body.epoch !== "number")
        ctx.violation(`${what} answered 200 naming ${show(body?.primary)} as the primary at epoch ${show(body?.epoch)}: ${reply.text.slice(0, 200)}`);
      else if (body.epoch <= before.epoch) ctx.violation(`${what} answered 200 at epoch ${body.epoch}, not above the epoch before it (${before.epoch})`);
      else if (nodes.join(" ") !== [...NODES].sort().join(" ")) ctx.violation(`${what} answered 200 with the nodes ${show(nodes)}, not ${show(NODES)}`);
      else won.push({ to, epoch: body.epoch });
    } else if (reply.status === 409 || reply.status === 503) refusals++;
    // 400: the target is no replica (another failover made it the primary meanwhile).
    else if (reply.status === 400 && !alone) refusals++;
    else ctx.violation(`${what} answered ${reply.status || "nothing"} (${reply.text.slice(0, 200)}): neither 200, 409 nor 503`);
  }
  if (won.length === 2 && won[0]!.epoch === won[1]!.epoch)
    ctx.violation(`two failovers answered 200 at the same epoch ${won[0]!.epoch}: to ${won[0]!.to} and to ${won[1]!.to}`);
  const t = await topology(ctx);
  if (t === null) return "failed";
  for (const w of won) {
    if (t.epoch < w.epoch) ctx.violation(`failover to ${w.to} answered 200 at epoch ${w.epoch}, but the topology is at epoch ${t.epoch} after it (epochs never go back)`);
    else if (t.epoch === w.epoch && t.primary.node !== w.to)
      ctx.violation(`failover to ${w.to} answered 200 at epoch ${w.epoch}, but the topology at that epoch has ${t.primary.node} as the primary`);
  }
  const lone = asked[0]!;
  if (alone && asked.length === 1 && lone.reply.status === 409 && t.primary.node !== before.primary.node)
    ctx.violation(`failover to ${lone.to} answered 409 (nothing changed), but the primary moved from ${before.primary.node} to ${t.primary.node} (epoch ${t.epoch})`);
  return won.length > 0 ? "applied" : refusals > 0 ? "refused" : "failed";
}

/** Exactly one node (of those up and not on their way back) reports role:master within ONE_MASTER_MS. */
async function oneMaster(ctx: FaultContext, what: string): Promise<void> {
  const f = ctx.failovers;
  const from = now();
  let masters: string[] = [];
  while (now() - from < ONE_MASTER_MS) {
    // The primary is down and none promoted yet: there is no master to find now.
    if (f.outageSince !== null) return;
    const nodes = NODES.filter((n) => !f.away.has(n));
    const infos = await Promise.all(nodes.map((n) => replication(ctx, n)));
    masters = nodes.filter((_, i) => field(infos[i]!, "role") === "master");
    if (masters.length === 1) return;
    await sleep(200);
  }
  ctx.violation(`after ${what}: ${masters.length} nodes report role:master (${masters.join(", ") || "none"}) ${ONE_MASTER_MS / 1000} s later`);
}

/** One or two coordinated failovers at once, to different replicas, judged; a sentinel restarted meanwhile now and then. */
async function coordinated(ctx: FaultContext, count: 1 | 2): Promise<FaultResult> {
  const f = ctx.failovers;
  const before = await topology(ctx);
  if (!before) return "failed";
  const targets = before.replicas.map((r) => r.node).filter((n) => !f.away.has(n));
  const to: string[] = [];
  while (to.length < count && to.length < targets.length) {
    const t = ctx.random.pick(targets.filter((n) => !to.includes(n)));
    to.push(t);
  }
  // (Not during an outage: primary-down restarts one itself, and each may delay the promotion.)
  const side = ctx.random.next() < 0.3 && f.outageSince === null ? restartSentinelIn(ctx, ctx.random.between(0, 300)) : null;
  // Alone: no other failover nor primary-down under way or started meanwhile, none answered 503
  // lately (it goes on in the sentinels), no sentinel restarted under it (the next sentinel may
  // answer 409 while the first finishes the failover).
  const alone = f.busy === 0 && f.down === null && now() >= f.unsettledUntil && side === null;
  f.busy++;
  const mark = ++f.started;
  try {
    const asked = await Promise.all(to.map((t) => askFailover(ctx, t)));
    const result = await judge(ctx, asked, before, alone && f.started === mark);
    await oneMaster(ctx, asked.map((a) => `failover to ${a.to} (${a.reply.status})`).join(" and "));
    return result;
  } finally {
    f.busy--;
    await side;
  }
}

// ---- The topology watcher ------------------------------------------------------------------------

/**
 * Polls the topology every second until the run stops: epochs never go back, and every primary
 * change has a cause (a primary down, a coordinated failover under way or answered 503).
 */
export async function watchTopology(ctx: FaultContext): Promise<void> {
  const f = ctx.failovers;
  let last: Topology | null = null;
  while (!ctx.stopping()) {
    await sleep(1000);
    // A coordinated failover under way (primary-down counts in `busy` too) or lately answered.
    const manual = () => f.busy > (f.down !== null ? 1 : 0) || now() < f.manualUntil;
    const manualBefore = manual();
    const t = await topology(ctx);
    if (!t) continue;
    if (last && t.epoch < last.epoch) ctx.violation(`the topology went back from epoch ${last.epoch} to ${t.epoch}`);
    if (last && t.primary.node !== last.primary.node) {
      if (f.down === last.primary.node) f.observed.automatic++;
      else if (manualBefore || manual()) f.observed.manual++;
      else {
        f.observed.unexplained++;
        // A primary replaced while it answered: what it acknowledged since may be lost.
        ctx.losses.primaryLost();
        ctx.violation(`the primary changed from ${last.primary.node} to ${t.primary.node} (epoch ${last.epoch} to ${t.epoch}) with no primary down and no failover asked`);
      }
      ctx.log({ watch: "primary changed", from: last.primary.node, to: t.primary.node, epoch: t.epoch });
    }
    if (!last || t.epoch >= last.epoch) last = t;
  }
}

// ---- The faults ----------------------------------------------------------------------------------

export const FAILOVER_FAULTS: readonly Fault[] = [
  {
    name: "primary-down",
    exclusive: true,
    // Not while a coordinated failover may still move the primary (under way, or answered 503 lately).
    ready: (ctx) => ctx.failovers.down === null && ctx.failovers.busy === 0 && now() >= Math.max(ctx.failovers.nextDownAt, ctx.failovers.unsettledUntil),
    run: primaryDown,
    restore: [allUp],
  },
  // Not on its own during an outage (primary-down restarts one now and then itself): each restart
  // may delay the promotion by down-after-milliseconds.
  { name: "sentinel-restart", run: restartSentinel, ready: (ctx) => ctx.failovers.outageSince === null },
  { name: "manual-failover", run: (ctx) => coordinated(ctx, 1), ready: (ctx) => !ctx.failovers.settingUp },
  { name: "concurrent-failovers", run: (ctx) => coordinated(ctx, 2), ready: (ctx) => !ctx.failovers.settingUp },
];
