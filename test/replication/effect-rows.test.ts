// Each replicated effect declares the rows a replica writes applying its example (its cost per
// replica at Cloudflare's price per row written): measured here with the node's SQLite counters,
// on a keyspace without the key, every key stored within the transaction (none left deferred),
// the log's one row aside. An index's entry counts as a row, as SQLite (and the bill) counts it:
// a SET with a deadline is its row and its expiry index's; an element its row and the by-score
// index's.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { EFFECTS } from "../../durable-objects/engine/replication/effects";
import { encodeCommand } from "../../durable-objects/engine/replication/resp";
import { applyEntries } from "../../durable-objects/engine/replication/sync";
import { SqliteStorage } from "../../durable-objects/sqlite/sqlite-storage";
import { inNode, stubOf } from "../support/helpers";

/** Rows written applying `effect`'s example on a fresh replica engine over a node's SQLite database, the log's row aside. */
const rowsOf = (effect: (typeof EFFECTS)[number]) =>
  inNode(stubOf(`effect-rows-${effect.name}`), (_node, state) => {
    const storage = new SqliteStorage(state.storage);
    const engine = new Engine(storage, { clock: new ManualClock(1_000_000), random: { next: () => 0.5, hex: (n) => "cd".repeat(n) }, role: "slave" });
    const frame = encodeCommand(effect.kind === "key" ? effect.of("k", effect.example) : effect.of(effect.example));
    const before = storage.usage().rows_written;
    engine.transaction(() => {
      applyEntries(engine, [{ offset: engine.log.offset, frame }]);
      storage.storeDeferred();
    });
    return storage.usage().rows_written - before - 1;
  });

describe("the rows each replicated effect declares", () => {
  it.each(EFFECTS.map((e) => [e.name, e] as const))("%s writes the rows it declares", async (_name, effect) => {
    expect(await rowsOf(effect)).toBe(effect.rows);
  });
});
