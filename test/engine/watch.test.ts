// WATCH without a session (issue 34): a MULTI carries the watched keys and the replication
// position they were watched from, and runs only if the log since names none of them. Expected
// behaviour is Redis's: any write to a watched key (the client's own, an expiry's DEL, a FLUSHALL,
// a RENAME onto it) between WATCH and EXEC makes EXEC answer nil and run nothing.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine, type Watch } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { fixedRandom, run } from "../support/fixtures";

const text = (s: string) => new TextEncoder().encode(s);

function setup() {
  const clock = new ManualClock(1_000);
  const engine = new Engine(new MemoryStorage(), { clock, random: fixedRandom });
  const watchNow = (...keys: string[]): Watch => ({ replid: engine.log.replid, offset: engine.log.offset, keys });
  const exec = (watch: Watch, ...commands: string[][]) => engine.run({ mode: "multi", commands, permission: "admin", watch });
  return { clock, engine, watchNow, exec };
}

describe("WATCH", () => {
  it("runs the transaction when no watched key was written since, and nothing when one was", () => {
    const { engine, watchNow, exec } = setup();
    run(engine, "SET", "k", "0");
    const untouched = watchNow("k");
    run(engine, "SET", "other", "1");
    expect(exec(untouched, ["INCR", "k"])).toMatchObject({ outcomes: [{ result: 1 }] });
    const touched = watchNow("k", "j");
    run(engine, "SET", "k", "theirs");
    expect(exec(touched, ["SET", "k", "mine"])).toMatchObject({ outcomes: [], aborted: true });
    expect(run(engine, "GET", "k")).toEqual({ result: text("theirs") });
    // An empty transaction answers as its watch says too.
    expect(exec(touched)).toMatchObject({ outcomes: [], aborted: true });
  });

  it("counts every kind of write: a FLUSHALL, a RENAME onto the key, an expiry's DEL, an element written", () => {
    const { clock, engine, watchNow, exec } = setup();
    const cases: [string, () => void][] = [
      ["FLUSHALL", () => run(engine, "FLUSHALL")],
      ["RENAME onto it", () => (run(engine, "SET", "src", "v"), run(engine, "RENAME", "src", "w"))],
      ["HSET", () => run(engine, "HSET", "w", "f", "v")],
      ["DEL", () => (run(engine, "SET", "w", "v"), run(engine, "DEL", "w"))],
    ];
    for (const [name, write] of cases) {
      const watch = watchNow("w");
      write();
      expect(exec(watch, ["SET", "w", "x"]), name).toMatchObject({ aborted: true });
      run(engine, "DEL", "w");
    }
    run(engine, "SET", "w", "v", "PX", "10");
    const watch = watchNow("w");
    clock.advance(20);
    expect(run(engine, "GET", "w")).toEqual({ result: null }); // the master deletes it, logged as DEL
    expect(exec(watch, ["SET", "w", "x"])).toMatchObject({ aborted: true });
  });

  it("refuses what it cannot check: another history, a position past the log or inside an entry", () => {
    const { engine, exec } = setup();
    run(engine, "SET", "k", "v");
    expect(exec({ replid: "f".repeat(40), offset: 0, keys: ["k"] }, ["GET", "k"])).toMatchObject({ aborted: true });
    expect(exec({ replid: engine.log.replid, offset: engine.log.offset + 100, keys: ["k"] }, ["GET", "k"])).toMatchObject({ aborted: true });
    // A client's position that is not an entry's boundary is refused, not an error of the node.
    expect(exec({ replid: engine.log.replid, offset: engine.log.offset - 3, keys: ["k"] }, ["GET", "k"])).toMatchObject({ aborted: true });
  });

  it("a key that expires between WATCH and EXEC counts as written, one already expired at WATCH does not (Redis 7.0)", () => {
    const { clock, engine, watchNow, exec } = setup();
    run(engine, "SET", "e", "v", "PX", "10");
    expect(run(engine, "WATCH", "e")).toEqual({ result: "OK" });
    const watch = watchNow("e");
    clock.advance(20);
    // Nothing read it since: no DEL in the log, and still the transaction is refused.
    expect(exec(watch, ["SET", "e", "x"])).toMatchObject({ aborted: true });
    run(engine, "SET", "gone", "v", "PX", "10");
    clock.advance(20);
    expect(run(engine, "WATCH", "gone")).toEqual({ result: "OK" }); // deletes it, before the position it answers
    expect(exec(watchNow("gone"), ["SET", "gone", "x"])).toMatchObject({ outcomes: [{ result: "OK" }] });
  });

  it("WATCH and UNWATCH as commands: OK alone, Redis's error inside a MULTI (which goes on), refused in scripts", () => {
    const { engine } = setup();
    expect(run(engine, "WATCH", "a", "b")).toEqual({ result: "OK" });
    expect(run(engine, "WATCH")).toEqual({ error: "ERR wrong number of arguments for 'watch' command" });
    expect(run(engine, "UNWATCH")).toEqual({ result: "OK" });
    expect(Engine.isRead(["WATCH", "a"])).toBe(false); // it runs at the primary, whose position its token gives
    expect(engine.run({ mode: "multi", commands: [["WATCH", "a"], ["SET", "a", "1"], ["UNWATCH"]], permission: "admin" })).toMatchObject({
      outcomes: [{ error: "ERR WATCH inside MULTI is not allowed" }, { result: "OK" }, { result: "OK" }],
    });
    expect(run(engine, "EVAL", "return redis.pcall('watch', 'a').err", "0")).toEqual({ result: text("ERR This Redis command is not allowed from script") });
  });
});
