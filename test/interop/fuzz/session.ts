/**
 * One seed's run, shared by `npm run fuzz` and the vitest check: the program is run step by
 * step on both sides; at a divergence, its class is minimized (the first time it is seen in this
 * session); then, if the two keyspaces now differ, both are flushed before the program goes on
 * (whatever follows would diverge for the same reason), else it goes on as it was. At the end,
 * the keyspaces are compared.
 */
import { mismatchSignature, stateSignature } from "./classify.ts";
import { type Family, generate } from "./generator.ts";
import { type Budget, DEFAULT_BUDGET, type Target, minimize, replayCase, runQuietly } from "./minimize.ts";
import { type Command, type Reply, type Step, argText, render, renderStep } from "./reply.ts";
import type { Differential, Mismatch } from "./runner.ts";
import { type StateDifference, compareKeyspace } from "./state.ts";

/** A class of divergence, with its minimized replayable case. */
export interface Finding {
  readonly signature: string;
  /** The seed it was first seen with, and the length of the program it was minimized from. */
  readonly seed: number;
  readonly originalSteps: number;
  /** The minimized program, its last command, and what each side answered to it. */
  readonly steps: Step[];
  readonly command: Command;
  readonly redis: Reply;
  readonly flaredis: Reply;
  readonly reason: string;
  /** How often, in which seeds. */
  occurrences: number;
  readonly seeds: Set<number>;
}

export interface SeedOptions {
  readonly ops: number;
  readonly redisVersion: string;
  readonly binary?: boolean;
  readonly families?: readonly Family[];
  readonly scripted?: boolean;
  readonly minimize?: boolean;
  readonly budget?: Budget;
  /** End the seed at its first divergence (a replayed transcript holds nothing past it). */
  readonly stopAtDivergence?: boolean;
  readonly onProgress?: (done: number, divergences: number) => void;
}

export interface SeedResult {
  readonly seed: number;
  readonly ops: number;
  /** Running the program (comparisons included), without minimizing. */
  readonly runMs: number;
  readonly minimizeMs: number;
  /** The classes this seed hit (each once), in order. */
  readonly signatures: string[];
}

/** What a session found, by class. */
export class Findings {
  readonly byClass = new Map<string, Finding>();

  get size(): number {
    return this.byClass.size;
  }
}

export async function runSeed(d: Differential, seed: number, findings: Findings, options: SeedOptions): Promise<SeedResult> {
  const steps = generate(seed, options.ops, {
    redisVersion: options.redisVersion,
    binary: options.binary ?? false,
    ...(options.families ? { families: options.families } : {}),
    ...(options.scripted ? { scripted: true } : {}),
  });
  const signatures: string[] = [];
  let minimizeMs = 0;
  const started = Date.now();
  const record = async (target: Target, segment: Step[], found: Mismatch | StateDifference) => {
    const known = findings.byClass.get(target.signature);
    if (!signatures.includes(target.signature)) signatures.push(target.signature);
    if (known) {
      known.occurrences++;
      known.seeds.add(seed);
      return;
    }
    const t = Date.now();
    const stateKey = "what" in found && found.what !== "keys" && found.command[1] !== undefined ? argText(found.command[1]) : undefined;
    let minimal = segment;
    let shown: Mismatch | StateDifference = found;
    if (options.minimize ?? true) {
      minimal = await minimize(d, segment, target, options.budget ?? DEFAULT_BUDGET, stateKey);
      shown = (await replayCase(d, minimal, target)) ?? found;
    }
    findings.byClass.set(target.signature, {
      signature: target.signature,
      seed,
      originalSteps: segment.length,
      steps: minimal,
      command: shown.command,
      redis: shown.redis,
      flaredis: shown.flaredis,
      reason: "what" in shown ? `the ${shown.what} differs` : shown.reason,
      occurrences: 1,
      seeds: new Set([seed]),
    });
    minimizeMs += Date.now() - t;
  };

  await d.reset();
  let segment: Step[] = [];
  let done = 0;
  let divergences = 0;
  for (const step of steps) {
    segment.push(step);
    const mismatch = await d.execute(step);
    done += Array.isArray(step) ? 1 : "multi" in step ? step.multi.length : step.pipeline.length;
    if (mismatch) {
      divergences++;
      const before = findings.byClass.has(mismatchSignature(mismatch));
      await record({ on: "reply", signature: mismatchSignature(mismatch) }, segment, mismatch);
      if (options.stopAtDivergence) return { seed, ops: done, runMs: Date.now() - started - minimizeMs, minimizeMs, signatures };
      // Minimizing replayed other programs: the segment is replayed to come back to where it was.
      if (!before && (options.minimize ?? true)) {
        const t = Date.now();
        await d.reset();
        await runQuietly(d, segment);
        minimizeMs += Date.now() - t;
      }
      if ((await compareKeyspace(d)).length > 0) {
        await d.reset();
        segment = [];
      }
    }
    options.onProgress?.(done, divergences);
  }
  const seen = new Set<string>();
  for (const difference of await compareKeyspace(d)) {
    const signature = stateSignature(difference);
    if (seen.has(signature)) continue;
    seen.add(signature);
    await record({ on: "state", signature }, segment, difference);
  }
  return { seed, ops: done, runMs: Date.now() - started - minimizeMs, minimizeMs, signatures };
}

/** A finding as the report prints it: its class, the replayable program, both replies. */
export function formatFinding(f: Finding, n: number): string {
  const seeds = [...f.seeds].sort((a, b) => a - b).join(", ");
  return [
    `[${n}] ${f.signature}`,
    `    seen ${f.occurrences}× (seeds ${seeds}); minimized from ${f.originalSteps} steps of seed ${f.seed} to ${f.steps.length}; ${f.reason}`,
    `    replay:   [${f.steps.map(renderStep).join(",")}]`,
    `    command:  ${JSON.stringify(f.command)}`,
    `    redis:    ${render(f.redis)}`,
    `    flaredis: ${render(f.flaredis)}`,
  ].join("\n");
}

export function formatFindings(findings: Findings): string {
  return [...findings.byClass.values()].map((f, i) => formatFinding(f, i + 1)).join("\n\n");
}

/**
 * Replays a case step by step from an empty keyspace, printing every divergence and, at the
 * end, the keyspace's: for a case copied from a report (`npm run fuzz -- --replay '[…]'`).
 */
export async function replayVerbose(d: Differential, steps: readonly Step[], print: (line: string) => void): Promise<number> {
  await d.reset();
  let divergences = 0;
  for (const step of steps) {
    const mismatch = await d.execute(step);
    print(`${mismatch ? "DIVERGES" : "same    "} ${renderStep(step)}`);
    if (mismatch) {
      divergences++;
      print(`    ${JSON.stringify(mismatch.command)}: ${mismatch.reason}\n    redis:    ${render(mismatch.redis)}\n    flaredis: ${render(mismatch.flaredis)}`);
    }
  }
  for (const s of await compareKeyspace(d)) {
    divergences++;
    print(`final state: the ${s.what} differs: ${JSON.stringify(s.command)}\n    redis:    ${render(s.redis)}\n    flaredis: ${render(s.flaredis)}`);
  }
  return divergences;
}
