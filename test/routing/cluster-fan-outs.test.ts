// The calls a sharded deployment fans out (worker/cluster-commands.ts), on answers made up for
// each shard: KEYS keeps each shard's keys of the slots it holds (during a move both shards hold
// some keys: the target a copy, the source until its cleanup), INFO sums the keyspace line, SCAN
// sends a cursor Redis refuses to a shard as it was given, RANDOMKEY asks the shards in a fair
// random order. And the sync token a read of moved slots runs with in their new shard
// (worker/cluster.ts tokenFor).
import { describe, expect, it } from "vitest";
import { fromBytes, toBytes } from "../../durable-objects/engine/bytes";
import type { Outcome } from "../../durable-objects/engine/dispatch";
import { hashSlot } from "../../durable-objects/engine/slot";
import { SlotMap } from "../../durable-objects/protocol/shards";
import { tokenFor } from "../../worker/cluster";
import { fanOutOf } from "../../worker/cluster-commands";

const map = SlotMap.even(2).moved(0, 99, 2);
const keyIn = (test: (slot: number) => boolean, prefix: string) => Array.from({ length: 100_000 }, (_, i) => `${prefix}${i}`).find((k) => test(hashSlot(k)))!;

describe("fan-outs over shards", () => {
  it("KEYS: each shard's keys of the slots the map gives it, no key twice", () => {
    const moved = keyIn((s) => s < 100, "m"); // shard 2's now; shard 1 keeps it until its cleanup
    const one = keyIn((s) => s >= 100 && s < 8192, "a");
    const two = keyIn((s) => s >= 8192, "b");
    const keys = fanOutOf(["KEYS", "*"]) as (o: readonly Outcome[], shards: readonly number[], m: SlotMap) => Outcome;
    const out = keys([{ result: [toBytes(moved), toBytes(one)] }, { result: [toBytes(moved), toBytes(two)] }], [1, 2], map) as { result: Uint8Array[] };
    expect(out.result.map(fromBytes).sort()).toEqual([moved, one, two].sort());
  });

  it("INFO: shard 1's, with the keyspace line summed over the shards", () => {
    const info = fanOutOf(["INFO"]) as (o: readonly Outcome[], shards: readonly number[], m: SlotMap) => Outcome;
    const text = (line: string) => ({ result: toBytes(`# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\n${line}`) });
    const out = info([text("db0:keys=10,expires=2,avg_ttl=1000\r\n"), text("db0:keys=5,expires=2,avg_ttl=3000\r\n")], [1, 2], map) as { result: Uint8Array };
    expect(fromBytes(out.result)).toBe("# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=15,expires=4,avg_ttl=2000\r\n");
    const empty = info([text(""), text("db0:keys=5,expires=0,avg_ttl=0\r\n")], [1, 2], map) as { result: Uint8Array };
    expect(fromBytes(empty.result)).toBe("# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=5,expires=0,avg_ttl=0\r\n");
  });

  it("RANDOMKEY: each shard asked first as often, the first that has a key of a slot it holds answers", async () => {
    const three = SlotMap.even(3);
    const randomKey = fanOutOf(["RANDOMKEY"]) as { run(m: SlotMap, argv: readonly string[], one: (shard: number, argv: readonly string[]) => Promise<unknown>): Promise<Outcome> };
    const held = [1, 2, 3].map((shard) => keyIn((s) => three.shardOf(s) === shard, `k${shard}:`));
    /** A shard's answer to RANDOMKEY. */
    const answer = (key: string | null) => ({ result: { outcomes: [{ result: key === null ? null : toBytes(key) }], offset: 0 } });
    const first = [0, 0, 0];
    const RUNS = 6000;
    for (let i = 0; i < RUNS; i++) {
      const out = (await randomKey.run(three, ["RANDOMKEY"], async (shard) => answer(held[shard - 1]!))) as { result: Uint8Array };
      first[held.indexOf(fromBytes(out.result))]!++;
    }
    // A fair order puts each first a third of the time (6,000 runs: 0.006 standard deviation).
    for (const n of first) expect(n / RUNS).toBeGreaterThan(0.3);
    // A shard's answer that is not its own (a key of slots moved away, not yet cleaned up) is
    // passed over: shards 1 and 3 answer shard 2's key, shard 2 has none left.
    for (let i = 0; i < 10; i++) expect(await randomKey.run(three, ["RANDOMKEY"], async (shard) => answer(shard === 2 ? null : held[1]!))).toEqual({ result: null });
    // Every shard empty: nil, as Redis's empty keyspace.
    expect(await randomKey.run(three, ["RANDOMKEY"], async () => answer(null))).toEqual({ result: null });
  });

  it("SCAN: a cursor that is not digits goes to shard 1 as given, which answers Redis's error", async () => {
    const scan = fanOutOf(["SCAN", "0x10"]) as { run(m: SlotMap, argv: readonly string[], one: (shard: number, argv: readonly string[]) => Promise<unknown>): Promise<Outcome> };
    const asked: (readonly string[])[] = [];
    await scan.run(map, ["SCAN", "0x10"], async (shard, argv) => {
      asked.push([String(shard), ...argv]);
      return { result: { outcomes: [{ error: "ERR invalid cursor" }], offset: 0 } };
    });
    expect(asked).toEqual([["1", "SCAN", "0x10"]]);
  });
});

describe("read-your-writes across a move", () => {
  const R = "a".repeat(40);
  const moved = SlotMap.even(2).moved(0, 99, 2, { replid: R, offset: 5000 });
  const inMoved = keyIn((s) => s < 100, "m");
  const elsewhere = keyIn((s) => s >= 8192, "b");
  const token = (offset: number, replid = R) => ({ position: { replid, offset }, written: { floor: offset, keys: {} } });

  it("a read of a moved slot by a client with a token waits for the target's position at the move", () => {
    // The client wrote on shard 1 (its token has no part for shard 2): the read waits for 5000 on shard 2.
    expect(tokenFor(moved, 2, [["GET", inMoved]], null, true)).toEqual(token(5000));
    expect(tokenFor(moved, 2, [["GET", inMoved]], token(4000), true)).toEqual(token(5000));
    // A later position of the client's, or one of another history (a failover since), stands.
    expect(tokenFor(moved, 2, [["GET", inMoved]], token(6000), true)).toEqual(token(6000));
    expect(tokenFor(moved, 2, [["GET", inMoved]], token(10, "b".repeat(40)), true)).toEqual(token(10, "b".repeat(40)));
  });

  it("leaves other slots, and clients without a token, as they are", () => {
    expect(tokenFor(moved, 2, [["GET", elsewhere]], null, true)).toBeNull();
    expect(tokenFor(moved, 2, [["GET", inMoved]], null, false)).toBeNull();
    expect(tokenFor(SlotMap.even(2), 2, [["GET", inMoved]], null, true)).toBeNull();
    // The map keeps the arrival through its stored form, as the worker learns it.
    expect(new SlotMap(moved.state).arrivalOf(2, hashSlot(inMoved))).toMatchObject({ from: 0, to: 99, shard: 2, offset: 5000 });
  });
});
