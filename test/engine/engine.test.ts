// The conformance cases against the engine alone, on in-memory storage with a manual clock.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { ReplicationLog } from "../../durable-objects/engine/replication/log";
import { splitFrames } from "../../durable-objects/engine/replication/resp";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { toJsonOutcome } from "../../worker/reply";
import { cases } from "../conformance/cases";
import { expectStep } from "../conformance/match";
import { fixedRandom, newEngine, run } from "../support/fixtures";
import { fromText } from "../../durable-objects/engine/bytes";


describe("conformance: engine alone", () => {
  for (const c of cases) {
    it(c.name, () => {
      const engine = newEngine();
      for (const step of c.steps) {
        const result = engine.run({ mode: "single", commands: [step.cmd.map(String).map(fromText)], permission: "admin" });
        if (!("outcomes" in result)) throw new Error(result.error);
        expectStep(step, toJsonOutcome(result.outcomes[0]!, false) as { result?: unknown; error?: string });
      }
    });
  }
});

describe("engine", () => {
  it("answers WRONGTYPE for a key of another type", () => {
    const storage = new MemoryStorage();
    storage.keys.put("h", { type: "hash", value: new Uint8Array(), expiresAt: null });
    const engine = new Engine(storage, { clock: new ManualClock(), random: fixedRandom });
    const run = (...argv: string[]) => engine.run({ mode: "single", commands: [argv], permission: "admin" });
    for (const argv of [["GET", "h"], ["INCR", "h"], ["APPEND", "h", "x"], ["SET", "h", "v", "GET"], ["STRLEN", "h"]])
      expect(run(...argv)).toMatchObject({
        outcomes: [{ error: "WRONGTYPE Operation against a key holding the wrong kind of value" }],
      });
    expect(run("MGET", "h")).toMatchObject({ outcomes: [{ result: [null] }] });
    expect(run("TYPE", "h")).toMatchObject({ outcomes: [{ result: "hash" }] });
    expect(storage.keys.get("h")?.type).toBe("hash");
  });

  it("counts keyspace hits and misses for reads only, as Redis does (a SET of a new key is no miss)", () => {
    const engine = newEngine();
    run(engine, "SET", "k", "1");
    run(engine, "INCR", "n");
    run(engine, "INCRBYFLOAT", "f", "1.5");
    expect(engine.stats).toMatchObject({ keyspaceHits: 0, keyspaceMisses: 0 });
    run(engine, "GET", "k");
    run(engine, "GET", "nothere");
    run(engine, "SET", "k", "2", "GET");
    expect(engine.stats).toMatchObject({ keyspaceHits: 2, keyspaceMisses: 1 });
  });

  it("logs effects, not commands: INCR as SET, EXPIRE as PEXPIREAT, lazy expiry as DEL", () => {
    const clock = new ManualClock(1_000_000);
    const storage = new MemoryStorage();
    const engine = new Engine(storage, { clock, random: fixedRandom });
    const run = (...argv: string[]) => engine.run({ mode: "single", commands: [argv], permission: "admin" });
    run("INCR", "n");
    run("EXPIRE", "n", "10");
    run("SET", "t", "v", "PX", "5");
    clock.advance(6);
    run("GET", "t");
    const frames = storage.log.read(0, Infinity).map((e) => new TextDecoder().decode(e.frame));
    expect(frames).toEqual([
      "*3\r\n$3\r\nSET\r\n$1\r\nn\r\n$1\r\n1\r\n",
      "*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nn\r\n$7\r\n1010000\r\n",
      "*5\r\n$3\r\nSET\r\n$1\r\nt\r\n$1\r\nv\r\n$4\r\nPXAT\r\n$7\r\n1000005\r\n",
      "*2\r\n$3\r\nDEL\r\n$1\r\nt\r\n",
    ]);
    expect(engine.log.offset).toBe(frames.join("").length);
    expect(engine.stats.expiredKeys).toBe(1);
  });

  it("frames a commit with several effects as MULTI ... EXEC", () => {
    const storage = new MemoryStorage();
    const engine = new Engine(storage, { clock: new ManualClock(), random: fixedRandom });
    engine.run({ mode: "single", commands: [["MSET", "a", "1", "b", "2"]], permission: "admin" });
    const rows = storage.log.read(0, Infinity);
    expect(rows).toHaveLength(1); // one commit, one run of frames
    const names = splitFrames(rows[0]!.frame).map((frame) => new TextDecoder().decode(frame).split("\r\n")[2]);
    expect(names).toEqual(["MULTI", "SET", "SET", "EXEC"]);
  });

  it("stores a pipeline's log entries as one run, read back frame by frame from any frame", () => {
    const storage = new MemoryStorage();
    const engine = new Engine(storage, { clock: new ManualClock(), random: fixedRandom });
    const commands = Array.from({ length: 100 }, (_, i) => ["SET", `k${i}`, "v"]);
    engine.run({ mode: "pipeline", commands, permission: "admin" });
    expect(storage.log.read(0, Infinity)).toHaveLength(1);
    const all = engine.log.entriesAfter(0, Infinity);
    expect(all).toHaveLength(100);
    // A replica at the end of the 40th entry (inside the stored run) continues with the 41st.
    const from = all[40]!.offset;
    const rest = new ReplicationLog(storage, fixedRandom).entriesAfter(from, Infinity);
    expect(rest.map((e) => e.offset)).toEqual(all.slice(40).map((e) => e.offset));
    expect(new TextDecoder().decode(rest[0]!.frame)).toContain("k40");
  });

  it("runs a MULTI atomically and rejects it whole on a queue-time error", () => {
    const engine = newEngine();
    const multi = (commands: string[][]) => engine.run({ mode: "multi", commands, permission: "admin" });
    const aborted = { error: "EXECABORT Transaction discarded because of previous errors." };
    expect(multi([["SET", "a", "1"], ["NOPE"]])).toMatchObject(aborted);
    expect(multi([["SET", "a", "1"], ["GET"]])).toMatchObject(aborted);
    expect(engine.keyspace.keyCount).toBe(0);
    expect(engine.log.offset).toBe(0);
    // Only what Redis refuses to queue aborts: a command's own errors (syntax, a value out of
    // range, one only running can find) are its replies, and the rest runs (issue 31's cases).
    expect(multi([["SADD", "x", "2", "1"], ["RPUSH", "s1", "b"], ["ZMPOP", "1", "z2", "MAX", "COUNT", "0"], ["ZCOUNT", "y", "(0", "1"]])).toMatchObject({
      outcomes: [{ result: 2 }, { result: 1 }, { error: "ERR count should be greater than 0" }, { result: 0 }],
    });
    expect(multi([["SET", "b", "2", "NX", "XX"], ["INCRBY", "k", "1.5"], ["HINCRBY", "h", "a", ""], ["SET", "c", "3"]])).toMatchObject({
      outcomes: [
        { error: "ERR syntax error" },
        { error: "ERR value is not an integer or out of range" },
        { error: "ERR value is not an integer or out of range" },
        { result: "OK" },
      ],
    });
    engine.run({ mode: "single", commands: [["FLUSHALL"]], permission: "admin" });
    // A run-time error fails that call alone, as in Redis's EXEC.
    const done = multi([["SET", "s", "x"], ["INCR", "s"], ["SET", "t", "y"]]);
    expect(done).toMatchObject({ outcomes: [{ result: "OK" }, { error: expect.stringMatching(/^ERR value/) }, { result: "OK" }] });
    expect(engine.keyspace.keyCount).toBe(2);
  });

  it("checks permissions from the command table", () => {
    const engine = newEngine();
    const as = (permission: "readonly" | "readwrite" | "admin", ...argv: string[]) =>
      engine.run({ mode: "single", commands: [argv], permission });
    expect(as("readonly", "SET", "a", "1")).toMatchObject({
      outcomes: [{ error: "NOPERM this user has no permissions to run the 'set' command" }],
    });
    expect(as("readonly", "KEYS", "*")).toMatchObject({
      outcomes: [{ error: "NOPERM this user has no permissions to run the 'keys' command" }],
    });
    expect(as("readonly", "SCAN", "0")).toMatchObject({ outcomes: [{ error: expect.stringMatching(/^NOPERM/) }] });
    expect(as("readonly", "GET", "a")).toMatchObject({ outcomes: [{ result: null }] });
    expect(as("readwrite", "SET", "a", "1")).toMatchObject({ outcomes: [{ result: "OK" }] });
    expect(engine.keyspace.keyCount).toBe(1);
  });

  it("answers READONLY for writes on a replica, and never expires keys there", () => {
    const clock = new ManualClock(1_000);
    const storage = new MemoryStorage();
    const master = new Engine(storage, { clock, random: fixedRandom });
    master.run({ mode: "single", commands: [["SET", "k", "v", "PX", "10"]], permission: "admin" });
    const replica = new Engine(storage, { clock, random: fixedRandom, role: "slave" });
    expect(replica.run({ mode: "single", commands: [["SET", "a", "1"]], permission: "admin" })).toMatchObject({
      outcomes: [{ error: "READONLY You can't write against a read only replica." }],
    });
    clock.advance(20);
    expect(replica.run({ mode: "single", commands: [["GET", "k"]], permission: "admin" })).toMatchObject({
      outcomes: [{ result: null }],
    });
    expect(replica.sweep()).toBe(0);
    expect(storage.keys.get("k")).not.toBeNull();
  });

  it("rejects keys and values over the limits, changing nothing", () => {
    const engine = new Engine(new MemoryStorage(), {
      clock: new ManualClock(),
      random: fixedRandom,
      maxKeyBytes: 8,
      maxValueBytes: 4,
    });
    const run = (...argv: string[]) => engine.run({ mode: "single", commands: [argv], permission: "admin" });
    expect(run("SET", "123456789", "v")).toMatchObject({
      outcomes: [{ error: "ERR max key size exceeded. Limit: 8 bytes, Actual: 9 bytes" }],
    });
    expect(run("MSET", "a", "1", "b", "12345")).toMatchObject({
      outcomes: [{ error: "ERR max single record size exceeded. Limit: 4 bytes, Actual: 5 bytes" }],
    });
    expect(run("SET", "a", "1234")).toMatchObject({ outcomes: [{ result: "OK" }] });
    expect(run("APPEND", "a", "5")).toMatchObject({ outcomes: [{ error: expect.stringMatching(/^ERR max single record/) }] });
    expect(run("SETRANGE", "a", "1000", "x")).toMatchObject({ outcomes: [{ error: expect.stringMatching(/^ERR max single record/) }] });
    // Past Redis's own 512 MiB string limit, Redis's error comes first.
    expect(run("SETRANGE", "a", "1000000000", "x")).toMatchObject({
      outcomes: [{ error: "ERR string exceeds maximum allowed size (proto-max-bulk-len)" }],
    });
    expect(run("MGET", "a", "b")).toMatchObject({ outcomes: [{ result: [new TextEncoder().encode("1234"), null] }] });
  });

  it("sweeps expired keys in deadline order and counts them", () => {
    const clock = new ManualClock(0);
    const engine = newEngine(clock);
    for (let i = 0; i < 5; i++)
      engine.run({ mode: "single", commands: [["SET", `k${i}`, "v", "PX", String(100 + i)]], permission: "admin" });
    engine.run({ mode: "single", commands: [["SET", "forever", "v"]], permission: "admin" });
    expect(engine.takeDeadline()).toBe(100);
    expect(engine.sweep()).toBe(0);
    clock.set(102);
    expect(engine.sweep()).toBe(3);
    expect(engine.nextDeadline()).toBe(103);
    clock.set(1_000);
    expect(engine.sweep(1)).toBe(1);
    expect(engine.sweep()).toBe(1);
    expect(engine.stats.expiredKeys).toBe(5);
    expect(engine.keyspace.keyCount).toBe(1);
    expect(engine.info(["stats"])).toContain("expired_keys:5\r\n");
  });

  it("keeps the replid and offset across a restart on the same storage", () => {
    const storage = new MemoryStorage();
    const first = new Engine(storage, { clock: new ManualClock(), random: { next: () => 0, hex: (n) => "1f".repeat(n) } });
    first.run({ mode: "single", commands: [["SET", "a", "1"]], permission: "admin" });
    const second = new Engine(storage, { clock: new ManualClock(), random: { next: () => 0, hex: (n) => "2e".repeat(n) } });
    expect(second.log.replid).toBe("1f".repeat(20));
    expect(second.log.offset).toBe(first.log.offset);
    expect(second.keyspace.keyCount).toBe(1);
  });
});
