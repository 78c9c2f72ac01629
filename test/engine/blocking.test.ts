// Blocking commands (issue 28): on the engine, each takes at once what its non-blocking twin
// would, answers nil where Redis does not wait (a MULTI, a script) and BlockOn where the node may
// hold it; its timeout is read as Redis 7.0 reads one. On the primary, blocked clients are served
// in the order they came, one element each, when a write reaches their keys; at their timeout
// (the node's clock) they answer nil; every replica holds what is left.
import { describe, expect, it } from "vitest";
import { MAX_BLOCK_MS, parseBlockTimeout } from "../../durable-objects/engine/blocking";
import { toBytes } from "../../durable-objects/engine/bytes";
import { BlockOn, keysOf } from "../../durable-objects/engine/command";
import { Engine } from "../../durable-objects/engine/engine";
import type { ManualClock } from "../../durable-objects/engine/clock";
import { newEngine } from "../support/fixtures";
import { TOKENS, blockedNow, call, inNode, nodeApi, onOneClock, redis, stubOf, untilBlocked } from "../support/helpers";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const b = (s: string) => toBytes(s);

describe("blocking commands on the engine", () => {
  it("take at once what their twins would; nil in a MULTI or a batch that may not wait; BlockOn where it may; scripts as Redis 7's", () => {
    const engine = newEngine();
    const one = (argv: string[], blocking = true) => {
      const r = engine.run({ mode: "single", commands: [argv], permission: "admin", blocking });
      if (!("outcomes" in r)) throw new Error(r.error);
      return r.outcomes[0]!;
    };
    engine.run({ mode: "pipeline", commands: [["RPUSH", "l", "a", "b"], ["ZADD", "z", "1", "m", "2", "n"], ["RPUSH", "src", "s"]], permission: "admin" });
    expect(one(["BLPOP", "none", "l", "0"])).toEqual({ result: [b("l"), b("a")] });
    expect(one(["BRPOP", "l", "0"])).toEqual({ result: [b("l"), b("b")] });
    expect(one(["BZPOPMIN", "z", "1"])).toEqual({ result: [b("z"), b("m"), b("1")] });
    expect(one(["BZPOPMAX", "z", "1"])).toEqual({ result: [b("z"), b("n"), b("2")] });
    expect(one(["BLMOVE", "src", "dst", "LEFT", "RIGHT", "1"])).toEqual({ result: b("s") });
    expect(one(["BRPOPLPUSH", "dst", "src", "1"])).toEqual({ result: b("s") });
    expect(one(["BLMPOP", "1", "2", "none", "src", "RIGHT", "COUNT", "5"])).toEqual({ result: [b("src"), [b("s")]] });
    engine.run({ mode: "single", commands: [["ZADD", "z", "3", "o"]], permission: "admin" });
    expect(one(["BZMPOP", "1", "1", "z", "MIN"])).toEqual({ result: [b("z"), [[b("o"), b("3")]]] });
    // Nothing to take.
    const blocked = one(["BLPOP", "l", "q", "2.5"]);
    expect("result" in blocked && blocked.result).toEqual(new BlockOn(["l", "q"], 2500));
    expect(one(["BLPOP", "l", "0"], false)).toEqual({ result: null });
    expect(one(["BZMPOP", "0", "1", "z", "MAX"], false)).toEqual({ result: null });
    const multi = engine.run({ mode: "multi", commands: [["BLPOP", "l", "0"], ["BLMOVE", "l", "x", "LEFT", "LEFT", "0"]], permission: "admin", blocking: true });
    expect(multi).toMatchObject({ outcomes: [{ result: null }, { result: null }] });
    // Redis 7 lets no script call the older blocking commands; BLMPOP and BZMPOP answer nil there.
    expect(one(["EVAL", "return redis.pcall('blpop', 'l', 0)", "0"])).toEqual({ error: "ERR This Redis command is not allowed from script" });
    expect(one(["EVAL", "return redis.pcall('blmpop', 0, 1, 'l', 'LEFT')", "0"])).toEqual({ result: null });
    // WRONGTYPE as the twin answers it.
    engine.run({ mode: "single", commands: [["SET", "s", "v"]], permission: "admin" });
    expect(one(["BLPOP", "s", "1"])).toEqual({ error: "WRONGTYPE Operation against a key holding the wrong kind of value" });
  });

  it("read their timeout as Redis 7.0 does: seconds as a long double, milliseconds rounded up", () => {
    expect([["0", 0], ["1", 1000], ["0.0001", 1], ["2.5", 2500], ["-0", 0], ["-1e-9", 0], ["0x10", 16000], [".5", 500], ["1e2", 100_000]].map(([s]) => [s, parseBlockTimeout(String(s))])).toEqual(
      [["0", 0], ["1", 1000], ["0.0001", 1], ["2.5", 2500], ["-0", 0], ["-1e-9", 0], ["0x10", 16000], [".5", 500], ["1e2", 100_000]],
    );
    for (const s of ["-1", "-inf", "inf", "1e400", "9223372036854775807"]) expect(() => parseBlockTimeout(s), s).toThrow("ERR timeout is negative");
    for (const s of ["abc", "1 ", " 1", "nan", ""]) expect(() => parseBlockTimeout(s), s).toThrow("ERR timeout is not a float or out of range");
    // BLMPOP and BZMPOP name their keys after numkeys, options not among them.
    expect(keysOf(Engine.lookup("bzmpop")!, ["BZMPOP", "1", "2", "a", "b", "MIN", "COUNT", "3"])).toEqual(["a", "b"]);
    expect(keysOf(Engine.lookup("blmpop")!, ["BLMPOP", "1", "1", "a", "LEFT"])).toEqual(["a"]);
    // BLMPOP and BZMPOP read their keys and options first, as Redis does.
    const engine = newEngine();
    const first = (argv: string[]) => engine.run({ mode: "single", commands: [argv], permission: "admin", blocking: true });
    expect(first(["BZMPOP", "inf", "1", "k", "MIN", "COUNT", "0"])).toMatchObject({ outcomes: [{ error: "ERR count should be greater than 0" }] });
    expect(first(["BLMPOP", "abc", "0", "k", "LEFT"])).toMatchObject({ outcomes: [{ error: "ERR numkeys should be greater than 0" }] });
    expect(first(["BLMPOP", "abc", "1", "k", "LEFT"])).toMatchObject({ outcomes: [{ error: "ERR timeout is not a float or out of range" }] });
  });
});

const send = (argv: string[]) => call(argv, { token: TOKENS.readwrite });

describe("blocking commands on the primary", () => {
  let clock: ManualClock;

  it("serve 10 clients in BLPOP q 5, in the order they came, one element each, as 10 LPUSHes come", async () => {
    clock = await onOneClock([PRIMARY, ...REPLICAS], REPLICAS);
    const waits: ReturnType<typeof send>[] = [];
    for (let i = 0; i < 10; i++) {
      waits.push(send(["BLPOP", "q", "5"]));
      await untilBlocked(i + 1);
    }
    expect(await redis("INFO", "clients")).toContain("blocked_clients:10");
    for (let i = 0; i < 10; i++) expect(await redis("LPUSH", "q", `x${i}`)).toBe(1);
    const answers = await Promise.all(waits);
    expect(answers.map((a) => a.json)).toEqual(Array.from({ length: 10 }, (_, i) => ({ result: ["q", `x${i}`] })));
    expect(await redis("LLEN", "q")).toBe(0);
    // A push of two elements serves two clients, and what they took is gone on every node.
    const two = [send(["BRPOP", "q2", "5"]), send(["BLPOP", "q2", "5"])];
    await untilBlocked(2);
    expect(await redis("RPUSH", "q2", "a", "b", "c")).toBe(3);
    expect((await Promise.all(two)).map((a) => a.json)).toEqual([{ result: ["q2", "c"] }, { result: ["q2", "a"] }]);
    const acks = await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
    const primary = await nodeApi(PRIMARY).digest();
    for (const [i, r] of REPLICAS.entries()) {
      expect(acks[i]!.offset).toBe(primary.offset);
      expect((await nodeApi(r).digest()).digest, r).toBe(primary.digest);
    }
    expect(await redis("LRANGE", "q2", "0", "-1")).toEqual(["b"]);
  });

  it("answer nil at their timeout on the node's clock, and at MAX_BLOCK_MS for a timeout of 0", async () => {
    const timed = send(["BLPOP", "t1", "1.5"]);
    const endless = send(["BZPOPMIN", "t2", "0"]);
    await untilBlocked(2);
    // The clock moves inside the primary: its sleepers are its own I/O.
    const advance = (ms: number) => inNode(stubOf(PRIMARY), () => clock.advance(ms));
    await advance(1499);
    expect(await blockedNow()).toBe(2);
    await advance(1);
    expect((await timed).json).toEqual({ result: null });
    await advance(MAX_BLOCK_MS - 1500);
    expect((await endless).json).toEqual({ result: null });
    expect(await blockedNow()).toBe(0);
  });

  it("run, for a push of one element, the waiters up to the first that finds the key empty, not all", async () => {
    const waits = Array.from({ length: 10 }, () => send(["BLPOP", "one", "5"]));
    await untilBlocked(10);
    const misses = async () => Number(/keyspace_misses:(\d+)/.exec(await redis("INFO", "stats"))![1]);
    const before = await misses();
    expect(await redis("RPUSH", "one", "x")).toBe(1);
    await untilBlocked(9);
    // One waiter served, one that finds the list gone: a miss or two, where each of the other nine missed.
    expect((await misses()) - before).toBeLessThanOrEqual(2);
    expect(await redis("RPUSH", "one", ...Array.from({ length: 9 }, (_, i) => `y${i}`))).toBe(9);
    expect((await Promise.all(waits)).map((w) => w.json)).toEqual([{ result: ["one", "x"] }, ...Array.from({ length: 9 }, (_, i) => ({ result: ["one", `y${i}`] }))]);
  });

  it("wait together in a pipeline, and answer at the log's position after what they took", async () => {
    const both = call([["BLPOP", "pa", "5"], ["BLPOP", "pb", "5"]], { path: "/pipeline", token: TOKENS.readwrite });
    await untilBlocked(2); // the second waits from the start, not once the first is answered
    expect(await redis("RPUSH", "pb", "x")).toBe(1);
    await untilBlocked(1);
    expect(await redis("RPUSH", "pa", "y")).toBe(1);
    expect((await both).json).toEqual([{ result: ["pa", "y"] }, { result: ["pb", "x"] }]);
    const blocked = nodeApi(PRIMARY).execute({ mode: "single", commands: [["BLMOVE", "po", "pd", "LEFT", "LEFT", "5"]], permission: "admin" });
    await untilBlocked(1);
    expect(await redis("RPUSH", "po", "z")).toBe(1);
    const reply = await blocked;
    expect(reply.result).toMatchObject({ outcomes: [{ result: b("z") }], offset: (await nodeApi(PRIMARY).digest()).offset });
  });

  it("wake a client blocked on BLMOVE's destination, and one in BZPOPMIN on a ZADD; a write of another key wakes none", async () => {
    const onDestination = send(["BLPOP", "dst", "5"]);
    await untilBlocked(1);
    const mover = send(["BLMOVE", "src", "dst", "LEFT", "RIGHT", "5"]);
    await untilBlocked(2);
    expect(await redis("SET", "unrelated", "1")).toBe("OK");
    expect(await blockedNow()).toBe(2);
    expect(await redis("RPUSH", "src", "v")).toBe(1);
    expect((await mover).json).toEqual({ result: "v" });
    expect((await onDestination).json).toEqual({ result: ["dst", "v"] });
    const z = send(["BZPOPMAX", "zz", "5"]);
    await untilBlocked(1);
    expect(await redis("ZADD", "zz", "1", "a", "2", "b")).toBe(2);
    expect((await z).json).toEqual({ result: ["zz", "b", "2"] });
    expect(await redis("ZRANGE", "zz", "0", "-1")).toEqual(["a"]);
  });
});
