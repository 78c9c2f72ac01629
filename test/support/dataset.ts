/** Shared checks of the dataset's size estimate (engine/sizes.ts) on an engine's storage. */
import { expect } from "vitest";
import type { Engine } from "../../durable-objects/engine/engine";
import { keySize } from "../../durable-objects/engine/sizes";

/**
 * Every collection's stored size equals its elements' (sizes.ts), and the running dataset size
 * (INFO used_memory) equals the sum over the keys, on `engine`.
 */
export function sizesExact(engine: Engine) {
  let used = 0;
  for (const row of engine.storage.keys.scan(0, null, 1_000_000)) {
    if (row.entry.eid !== undefined) expect(row.entry.bytes, row.key).toBe(engine.keyspace.measureCollection(row.entry.eid).bytes);
    used += keySize(row.key, row.entry);
  }
  expect(engine.keyspace.usedBytes).toBe(used);
}
