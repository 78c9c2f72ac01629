// A move of hash slots between two shards (durable-objects/cluster/mover.ts), step by step over
// two engines standing for the shards' primaries, with a client's writes between every step:
// new keys behind the copy's cursor, overwrites, deletes, expiring keys and collections. At the
// end the target holds exactly what the source held in the moved slots, the source holds none of
// them and refuses their calls with MOVED (TRYAGAIN while frozen), and a FLUSHALL during the move
// makes it begin again. A step's state survives a restart: a move resumed from its stored JSON ends
// the same.
import { describe, expect, it } from "vitest";
import { fromBytes } from "../../durable-objects/engine/bytes";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { type SlotGuard, isGuardRefusal, slotWrites } from "../../durable-objects/engine/slot-guard";
import { hashSlot } from "../../durable-objects/engine/slot";
import { type Move, type MoveHost, type ShardOps, minus, newMove, step } from "../../durable-objects/cluster/mover";
import { SlotMap } from "../../durable-objects/protocol/shards";
import { seeded } from "../support/cluster";

const LO = 0;
const HI = 8191;

function shards() {
  const clock = new ManualClock(1_000_000);
  const engines: Record<number, Engine> = {
    1: new Engine(new MemoryStorage(), { clock, random: seeded(1), cluster: true }),
    2: new Engine(new MemoryStorage(), { clock, random: seeded(2), cluster: true }),
  };
  const guards: Record<number, SlotGuard> = {};
  const ops: ShardOps = {
    run: async (shard, commands) => {
      const r = engines[shard]!.run({ mode: "pipeline", commands, permission: "admin", slotMove: true });
      if (!("outcomes" in r)) throw new Error(r.error);
      return r.outcomes;
    },
    guard: async (shard) => guards[shard] ?? { frozen: [], moved: [] },
    setGuard: async (shard, guard) => {
      guards[shard] = guard;
      const e = engines[shard]!;
      e.adoptConfig({ ...e.config, slots: guard }, e.configVersion + 1);
    },
    writes: async (shard, replid, offset, from, to) => slotWrites(engines[shard]!.log, replid, offset, from, to, 4096),
  };
  let map = SlotMap.even(1);
  const host = (): MoveHost => ({
    map,
    publish: async (next) => {
      map = next;
    },
    position: async (shard) => ({ replid: engines[shard]!.log.replid, offset: engines[shard]!.log.offset }),
  });
  const client = (commands: string[][]) => {
    const r = engines[map.shardOf(hashSlot(commands[0]![1]!))]!.run({ mode: "pipeline", commands, permission: "admin" });
    if (!("outcomes" in r)) throw new Error(r.error);
    return r.outcomes.map((o) => ("result" in o ? o.result : o));
  };
  return { clock, engines, ops, host, client, map: () => map };
}

/** Every key of `e` and its value as the client reads it (strings, hashes), with its deadline. */
function contents(e: Engine, inMoved: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const run = (commands: string[][]) => {
    const r = e.run({ mode: "pipeline", commands, permission: "admin", slotMove: true });
    if (!("outcomes" in r)) throw new Error(r.error);
    return r.outcomes.map((o) => ("result" in o ? o.result : o));
  };
  const keys = (run([["KEYS", "*"]])[0] as Uint8Array[]).map(fromBytes).filter((k) => (hashSlot(k) <= HI) === inMoved);
  for (const k of keys.sort()) {
    const [type, ttl] = run([["TYPE", k], ["PEXPIRETIME", k]]) as [string, number];
    const value = type === "string" ? run([["GET", k]])[0] : type === "hash" ? run([["HGETALL", k]])[0] : run([["LRANGE", k, "0", "-1"]])[0];
    out[k] = [type, ttl, value];
  }
  return out;
}

async function runMove(s: ReturnType<typeof shards>, move: Move, between: (i: number, move: Move) => void, restartEvery = 0): Promise<Move> {
  for (let i = 0; i < 2_000; i++) {
    between(i, move);
    const done = await step(move, s.ops, s.host());
    if (done === "done") return move;
    // A restart: the move goes on from its stored JSON.
    if (restartEvery > 0 && i % restartEvery === 0) move = JSON.parse(JSON.stringify(move)) as Move;
  }
  throw new Error("the move did not end");
}

describe("a move of hash slots between shards", () => {
  for (const restartEvery of [0, 3])
    it(`ends with the target holding what the source held, under writes between every step${restartEvery ? ", restarted every 3 steps" : ""}`, async () => {
      const s = shards();
      for (let i = 0; i < 1500; i += 100) s.client(Array.from({ length: 100 }, (_, j) => ["SET", `pre:${i + j}`, `v${i + j}`]));
      s.client([["HSET", "{x}hash", "a", "1", "b", "2"]]);
      s.client([["SET", "dying", "v", "PX", "50"]]);
      let n = 0;
      let phases = new Set<string>();
      const moved = await runMove(
        s,
        newMove(1, 2, LO, HI),
        (i, move) => {
          phases.add(move.phase);
          s.clock.advance(1);
          // Writes by the client wherever the map sends them; refused calls go again after the map changed.
          for (let j = 0; j < 5; j++, n++) s.client([["SET", `new:${n}`, String(n)]]);
          s.client([["INCR", `counter:${i % 7}`]]);
          s.client([["SET", `pre:${(i * 37) % 1500}`, `changed:${i}`]]);
          if (i % 4 === 0) s.client([["DEL", `pre:${(i * 53) % 1500}`]]);
          s.client([["HSET", "{x}hash", `f${i}`, String(i)]]);
        },
        restartEvery,
      );
      expect([...phases].sort()).toEqual(["catchup", "cleanup", "clear", "copy", "flip", "freeze"].sort());
      expect(moved.copied).toBeGreaterThan(700);
      expect(s.map().shardOf(0)).toBe(2);
      expect(s.map().shardOf(HI)).toBe(2);
      expect(s.map().shardOf(HI + 1)).toBe(1);
      // The target's position once it held every copy, for read-your-writes (worker/cluster.ts tokenFor).
      expect(s.map().arrivals).toEqual([{ from: LO, to: HI, shard: 2, replid: s.engines[2]!.log.replid, offset: expect.any(Number) }]);
      expect(s.map().arrivals[0]!.offset).toBeGreaterThan(0);
      // The source holds none of the moved slots' keys, the target none of the others.
      expect(contents(s.engines[1]!, true)).toEqual({});
      expect(contents(s.engines[2]!, false)).toEqual({});
      expect(Object.keys(contents(s.engines[2]!, true)).length).toBeGreaterThan(700);
      // Refused: the source's calls on a moved slot name the shard that holds it.
      const refused = s.engines[1]!.run({ mode: "single", commands: [["GET", "pre:1"]], permission: "admin" });
      const slot = hashSlot("pre:1");
      expect(refused).toMatchObject({ outcomes: [slot <= HI ? { error: `MOVED ${slot} shard 2` } : { result: expect.anything() }] });
    });

  it("keeps every write the client saw acknowledged, against a single engine given the same writes", async () => {
    const s = shards();
    const single = new Engine(new MemoryStorage(), { clock: s.clock, random: seeded(9) });
    // A call refused (its slot moved or is moving: nothing of it ran) waits and goes again after
    // the next step, where the map then sends it; the single engine takes it when it is acknowledged.
    let waiting: string[][][] = [];
    const send = (commands: string[][]) => {
      const out = s.client(commands);
      const refused = out.some((o) => typeof o === "object" && o !== null && "error" in (o as object) && /^(MOVED|TRYAGAIN hash slot)/.test((o as { error: string }).error));
      if (refused) waiting.push(commands);
      else single.run({ mode: "pipeline", commands, permission: "admin" });
    };
    for (let i = 0; i < 800; i++) send([["SET", `k:${i}`, String(i)]]);
    let refusals = 0;
    await runMove(s, newMove(1, 2, LO, HI), (i) => {
      const again = waiting;
      refusals += again.length;
      waiting = [];
      for (const commands of again) send(commands);
      s.clock.advance(3);
      send([["SET", `k:${(i * 13) % 800}`, `w${i}`]]);
      send([["APPEND", `k:${(i * 7) % 800}`, "+"]]);
      send([["DEL", `k:${(i * 29) % 800}`]]);
      send([["SET", `t:${i}`, "x", "PX", String(5 + (i % 20))]]);
      send([["RPUSH", "{q}list", String(i)]]);
    });
    for (const commands of waiting) send(commands);
    expect(refusals).toBeGreaterThan(0);
    expect(contents(s.engines[2]!, true)).toEqual(contents(single, true));
    expect(contents(s.engines[1]!, false)).toEqual(contents(single, false));
  });

  it("begins again when a FLUSHALL runs during the move", async () => {
    const s = shards();
    for (let i = 0; i < 500; i++) s.client([["SET", `k:${i}`, String(i)]]);
    let flushed = false;
    const move = await runMove(s, newMove(1, 2, LO, HI), (_i, m) => {
      if (!flushed && m.phase === "catchup") {
        flushed = true;
        // FLUSHALL fans out to every shard (worker/cluster-commands.ts).
        for (const e of Object.values(s.engines)) e.run({ mode: "single", commands: [["FLUSHALL"]], permission: "admin" });
        s.client([["SET", "after", "1"]]);
      }
    });
    expect(move.restarts).toBe(1);
    expect(contents(s.engines[1]!, true)).toEqual({});
    const target = contents(s.engines[2]!, true);
    expect(Object.keys(target)).toEqual(hashSlot("after") <= HI ? ["after"] : []);
  });
});

describe("a move's guards and its flip", () => {
  it("takes the moved slots out of a guarded range, keeping the parts outside", () => {
    expect(minus([[0, 100, 2] as const], 50, 60)).toEqual([[0, 49, 2], [61, 100, 2]]);
    expect(minus([[0, 100] as const, [200, 300] as const], 0, 250)).toEqual([[251, 300]]);
    expect(minus([[10, 20, 3] as const], 0, 5)).toEqual([[10, 20, 3]]);
  });

  it("moving part of a moved range back leaves the rest of it refused", async () => {
    const s = shards();
    for (let i = 0; i < 300; i++) s.client([["SET", `k:${i}`, String(i)]]);
    await runMove(s, newMove(1, 2, 0, 8191), () => undefined);
    await runMove(s, newMove(2, 1, 100, 200), () => undefined);
    const refusal = (key: string) => s.engines[1]!.run({ mode: "single", commands: [["GET", key]], permission: "admin" });
    const outside = Array.from({ length: 300 }, (_, i) => `k:${i}`).find((k) => hashSlot(k) < 100 || (hashSlot(k) > 200 && hashSlot(k) <= 8191))!;
    expect(refusal(outside)).toMatchObject({ outcomes: [{ error: `MOVED ${hashSlot(outside)} shard 2` }] });
    const inside = Array.from({ length: 3000 }, (_, i) => `x:${i}`).find((k) => hashSlot(k) >= 100 && hashSlot(k) <= 200)!;
    expect(refusal(inside)).toMatchObject({ outcomes: [{ result: null }] });
  });

  it("refuses a script's declared key with MOVED, and its undeclared one with an error the worker does not send again", () => {
    const e = new Engine(new MemoryStorage(), { clock: new ManualClock(1_000), random: seeded(1), cluster: true });
    const key = "k:1";
    const slot = hashSlot(key);
    e.adoptConfig({ ...e.config, slots: { frozen: [], moved: [[slot, slot, 2]] } }, e.configVersion + 1);
    const run = (commands: string[][]) => e.run({ mode: "pipeline", commands, permission: "admin" });
    // Declared: refused before it runs, so the worker may send it to the slot's shard.
    expect(run([["EVAL", "redis.call('INCR', 'other'); return redis.call('INCR', KEYS[1])", "1", key]])).toMatchObject({ outcomes: [{ error: `MOVED ${slot} shard 2` }] });
    expect(run([["GET", "other"]])).toMatchObject({ outcomes: [{ result: null }] });
    // Undeclared: the script has run (and written) before it; sent again, it would write twice.
    const out = run([["EVAL", `redis.call('INCR', 'other'); return redis.call('INCR', '${key}')`, "0"]]) as { outcomes: { error: string }[] };
    expect(out.outcomes[0]!.error).toMatch(/^ERR Script attempted to access a key of a hash slot that is moving to another shard/);
    expect(isGuardRefusal(out.outcomes[0]!.error)).toBe(false);
  });

  it("a failure after the map gave the range to the target never starts the move again", async () => {
    const s = shards();
    for (let i = 0; i < 400; i++) s.client([["SET", `k:${i}`, String(i)]]);
    let move = newMove(1, 2, LO, HI);
    let failed = false;
    const setGuard = s.ops.setGuard;
    // The source's primary fails as the flip sets its MOVED guard, once; its log is then unreadable from the move's position.
    s.ops.setGuard = async (shard, guard) => {
      if (shard === 1 && guard.moved.length > 0 && !failed) {
        failed = true;
        s.ops.writes = async () => ({ all: true, replid: "x", offset: 0 });
        throw new Error("the primary is gone");
      }
      return setGuard(shard, guard);
    };
    for (let i = 0; i < 2000; i++) {
      const stored = JSON.stringify(move);
      try {
        if ((await step(move, s.ops, s.host())) === "done") break;
      } catch {
        move = JSON.parse(stored) as Move; // the move as stored before the failed step
      }
      // Writes the new map sends to the target meanwhile.
      if (s.map().shardOf(0) === 2) s.client([["SET", "after-flip", "kept"]]);
    }
    expect(failed).toBe(true);
    expect(move.restarts).toBe(0);
    expect(s.map().shardOf(hashSlot("after-flip"))).toBe(2);
    expect(s.client([["GET", "after-flip"]])).toEqual([expect.anything()]);
    expect(contents(s.engines[2]!, true)["after-flip"]).toEqual(hashSlot("after-flip") <= HI ? ["string", -1, expect.anything()] : undefined);
    expect(Object.keys(contents(s.engines[2]!, true)).length).toBeGreaterThan(Array.from({ length: 400 }, (_, i) => `k:${i}`).filter((k) => hashSlot(k) <= HI).length - 1);
  });
});
