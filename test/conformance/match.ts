/** Compares a reply in JSON form with a case's expectation. */
import { expect } from "vitest";
import type { Expected, Step } from "./cases";

function matches(actual: unknown, expected: Expected): boolean {
  if (expected === null || typeof expected !== "object") return actual === expected;
  if ("between" in expected) {
    const [min, max] = expected.between;
    return typeof actual === "number" && actual >= min && actual <= max;
  }
  if ("unordered" in expected) {
    if (!Array.isArray(actual) || actual.length !== expected.unordered.length) return false;
    const sort = (xs: readonly unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
    return JSON.stringify(sort(actual)) === JSON.stringify(sort(expected.unordered));
  }
  return (
    Array.isArray(actual) &&
    actual.length === expected.length &&
    expected.every((e, i) => matches(actual[i], e as Expected))
  );
}

/** Asserts one step's outcome: `{ result }` or `{ error }` as the HTTP API shapes it. */
export function expectStep(step: Step, outcome: { result?: unknown; error?: string }): void {
  const label = JSON.stringify(step.cmd);
  if (step.error !== undefined) {
    expect(outcome.error, label).toBeDefined();
    expect(outcome.error!.startsWith(step.error), `${label}: ${outcome.error}`).toBe(true);
    return;
  }
  expect(outcome.error, label).toBeUndefined();
  const ok = matches(outcome.result, step.reply!);
  expect(ok, `${label}: got ${JSON.stringify(outcome.result, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`).toBe(true);
}
