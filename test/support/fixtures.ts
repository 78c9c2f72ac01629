/** Engine fixtures shared by tests: fixed randomness and a fresh engine on in-memory storage. */
import { ManualClock, type Random } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";

export const fixedRandom: Random = { next: () => 0.5, hex: (n) => "ab".repeat(n) };

export function newEngine(clock = new ManualClock()) {
  return new Engine(new MemoryStorage(), { clock, random: fixedRandom, node: "test" });
}

/** Runs one command with the admin permission; returns its outcome. */
export function run(engine: Engine, ...argv: string[]) {
  const result = engine.run({ mode: "single", commands: [argv], permission: "admin" });
  if (!("outcomes" in result)) throw new Error(result.error);
  return result.outcomes[0]!;
}
