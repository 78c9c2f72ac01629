/**
 * Shrinks a diverging program to a short one that still diverges the same way (the same class,
 * classify.ts), each candidate replayed from FLUSHALL on both sides:
 *  1. a slice: only the steps that touch the diverging command's keys, or keys those steps
 *     touch in turn (a step with no key, DBSIZE or KEYS, is dropped; FLUSHDB kept);
 *  2. delta debugging (Zeller's ddmin) over the steps before the diverging one;
 *  3. the same inside each MULTI block or pipeline left;
 *  4. a block left with one command made a plain command, when it still diverges so.
 * Candidates' earlier steps are replayed fast (single commands and pipelines sent as pipelines,
 * replies unread); only the last step, or the final keyspace, is compared.
 */
import { mismatchSignature, stateSignature } from "./classify.ts";
import { specOf } from "./generator.ts";
import { type Command, type Step, argText, commandsOf, isBinary } from "./reply.ts";
import type { Differential, Mismatch } from "./runner.ts";
import { type StateDifference, compareKeyspace } from "./state.ts";
import { KEYS } from "./values.ts";

/** What must still happen: the last step's reply diverges, or the final keyspace does, in this class. */
export interface Target {
  readonly on: "reply" | "state";
  readonly signature: string;
}

export interface Budget {
  /** Replays allowed. */
  readonly replays: number;
  /** Time allowed, in ms. */
  readonly ms: number;
}

export const DEFAULT_BUDGET: Budget = { replays: 400, ms: 60_000 };

/** Runs steps without comparing (but SPOP's reconciliation and MULTI's framing). */
export async function runQuietly(d: Differential, steps: readonly Step[]): Promise<void> {
  let batch: Command[] = [];
  const flush = async () => {
    for (let i = 0; i < batch.length; i += 500) {
      const chunk = batch.slice(i, i + 500);
      await Promise.all([d.redis.pipeline(chunk), d.flaredis.pipeline(chunk)]);
    }
    batch = [];
  };
  for (const step of steps) {
    const quiet = commandsOf(step).every((c) => !specOf(c)?.randomWrite && !c.some(isBinary));
    if (quiet && !(!Array.isArray(step) && "multi" in step)) batch.push(...commandsOf(step));
    else {
      await flush();
      await d.execute(step);
    }
  }
  await flush();
}

/**
 * Replays `steps` from an empty keyspace: the divergence of the class `target` names (the last
 * step's mismatch, or a difference in the final keyspace), or null when it no longer happens.
 */
export async function replayCase(d: Differential, steps: readonly Step[], target: Target): Promise<Mismatch | StateDifference | null> {
  await d.reset();
  if (target.on === "state") {
    await runQuietly(d, steps);
    return (await compareKeyspace(d)).find((s) => stateSignature(s) === target.signature) ?? null;
  }
  await runQuietly(d, steps.slice(0, -1));
  const mismatch = await d.execute(steps[steps.length - 1]!);
  return mismatch !== null && mismatchSignature(mismatch) === target.signature ? mismatch : null;
}

export const stillDiverges = async (d: Differential, steps: readonly Step[], target: Target) => (await replayCase(d, steps, target)) !== null;

const keyOf = new Set<string>(KEYS);
function keysOf(step: Step): Set<string> {
  return new Set(commandsOf(step).flatMap((c) => c.slice(1).flatMap((a) => (keyOf.has(argText(a)) ? [argText(a)] : []))));
}
const flushes = (step: Step) => commandsOf(step).some((c) => ["FLUSHDB", "FLUSHALL"].includes(argText(c[0] ?? "").toUpperCase()));

/** The steps before the last that touch its keys, transitively; all of them when it has none. */
function slice(steps: readonly Step[], target: Target, stateKey: string | undefined): Step[] {
  const last = steps[steps.length - 1]!;
  const relevant = target.on === "state" ? new Set(stateKey ? [stateKey] : []) : keysOf(last);
  if (relevant.size === 0) return [...steps];
  const kept: Step[] = target.on === "state" ? [] : [last];
  for (let i = steps.length - (target.on === "state" ? 1 : 2); i >= 0; i--) {
    const step = steps[i]!;
    const ks = keysOf(step);
    if (flushes(step) || [...ks].some((k) => relevant.has(k))) {
      kept.unshift(step);
      for (const k of ks) relevant.add(k);
    }
  }
  return kept;
}

/**
 * The shortest program found (within the budget) that diverges as `target` says; `steps` must
 * do so. `stateKey` is the key a state divergence is about, if one.
 */
export async function minimize(d: Differential, steps: readonly Step[], target: Target, budget = DEFAULT_BUDGET, stateKey?: string): Promise<Step[]> {
  const started = Date.now();
  let replays = 0;
  const spent = () => replays >= budget.replays || Date.now() - started >= budget.ms;
  const test = async (candidate: Step[]) => {
    replays++;
    return stillDiverges(d, candidate, target);
  };
  let current = [...steps];
  const sliced = slice(current, target, stateKey);
  if (sliced.length < current.length && (await test(sliced))) current = sliced;

  // The last step stays (for a reply target); ddmin over the others.
  const fixed = target.on === "reply" ? current.slice(-1) : [];
  const prefix = target.on === "reply" ? current.slice(0, -1) : current;
  const kept = await ddmin(prefix, (c) => test([...c, ...fixed]), spent);
  current = [...kept, ...fixed];

  for (let i = 0; i < current.length && !spent(); i++) {
    const step = current[i]!;
    if (Array.isArray(step) || commandsOf(step).length < 2) continue;
    const wrap = (cs: Command[]): Step => ("multi" in step ? { multi: cs } : { pipeline: cs });
    const inner = await ddmin(commandsOf(step), async (cs) => cs.length > 0 && (await test(current.map((s, j) => (j === i ? wrap(cs) : s)))), spent);
    current = current.map((s, j) => (j === i ? wrap(inner) : s));
  }
  for (let i = 0; i < current.length && !spent(); i++) {
    const step = current[i]!;
    if (Array.isArray(step) || commandsOf(step).length !== 1) continue;
    const plain = current.map((s, j) => (j === i ? commandsOf(step)[0]! : s));
    if (await test(plain)) current = plain;
  }
  return current;
}

/** Zeller's ddmin: a 1-minimal subsequence of `items` (within the budget) that passes `test`. */
async function ddmin<T>(items: T[], test: (candidate: T[]) => Promise<boolean>, spent: () => boolean): Promise<T[]> {
  if (items.length === 0) return items;
  if (await test([])) return [];
  let current = items;
  let n = 2;
  while (current.length >= 2 && !spent()) {
    const size = Math.ceil(current.length / n);
    let reduced = false;
    for (let start = 0; start < current.length && !spent(); start += size) {
      const complement = [...current.slice(0, start), ...current.slice(start + size)];
      if (await test(complement)) {
        current = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(current.length, n * 2);
    }
  }
  return current;
}
