// Streams: replies are pinned against redis-server in test/conformance/streams.ts and
// by the differential fuzzer's `streams` family. Here: what only Flaredis has to get right. A
// stream, its groups, consumers and pending entries replicate as rows, so a replica (and a
// replica promoted after a failover) holds the same groups at the same positions; reads cost the
// rows they answer, not the stream; XREAD BLOCK waits on the primary and reads `$` as the last ID
// when it blocked.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { type Batch, Engine } from "../../durable-objects/engine/engine";
import { flagsOf } from "../../durable-objects/engine/command";
import { digest } from "../../durable-objects/engine/replication/sync";
import { SqliteStorage } from "../../durable-objects/sqlite/sqlite-storage";
import type { ManualClock as Clock } from "../../durable-objects/engine/clock";
import { toBytes } from "../../durable-objects/engine/bytes";
import { catchUp, enginePair, fullSync, runner, soloEngine, writesAroundFullSync } from "../support/engine-pair";
import { seeded } from "../support/cluster";
import { TOKENS, blockedNow, call, inNode, onOneClock, redis, stubOf, untilBlocked } from "../support/helpers";

const b = (s: string) => toBytes(s);
const key = fc.constantFrom("s", "t", "u");
const group = fc.constantFrom("g1", "g2");
const consumer = fc.constantFrom("alice", "bob", "carol");
const id = fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 3 })).map(([ms, seq]) => `${ms}-${seq}`);
const write = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(key, fc.string({ maxLength: 3 })).map(([k, v]) => ["XADD", k, "*", "f", v]) },
  { weight: 2, arbitrary: fc.tuple(key, id).map(([k, i]) => ["XADD", k, i, "f", "x"]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.integer({ min: 0, max: 5 })).map(([k, n]) => ["XADD", k, "MAXLEN", String(n), "*", "a", "b"]) },
  { weight: 2, arbitrary: fc.tuple(key, id, id).map(([k, a, b]) => ["XDEL", k, a, b]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.integer({ min: 0, max: 8 })).map(([k, n]) => ["XTRIM", k, "MAXLEN", String(n)]) },
  { weight: 2, arbitrary: fc.tuple(key, group, fc.constantFrom("0", "$")).map(([k, g, at]) => ["XGROUP", "CREATE", k, g, at, "MKSTREAM"]) },
  { weight: 1, arbitrary: fc.tuple(key, group).map(([k, g]) => ["XGROUP", "DESTROY", k, g]) },
  { weight: 1, arbitrary: fc.tuple(key, group, id).map(([k, g, i]) => ["XGROUP", "SETID", k, g, i]) },
  { weight: 1, arbitrary: fc.tuple(key, group, consumer).map(([k, g, c]) => ["XGROUP", "DELCONSUMER", k, g, c]) },
  { weight: 4, arbitrary: fc.tuple(key, group, consumer, fc.integer({ min: 1, max: 4 })).map(([k, g, c, n]) => ["XREADGROUP", "GROUP", g, c, "COUNT", String(n), "STREAMS", k, ">"]) },
  { weight: 1, arbitrary: fc.tuple(key, group, consumer).map(([k, g, c]) => ["XREADGROUP", "GROUP", g, c, "STREAMS", k, "0"]) },
  { weight: 2, arbitrary: fc.tuple(key, group, id, id).map(([k, g, a, b]) => ["XACK", k, g, a, b]) },
  { weight: 1, arbitrary: fc.tuple(key, group, consumer, id).map(([k, g, c, i]) => ["XCLAIM", k, g, c, "0", i, "FORCE"]) },
  { weight: 1, arbitrary: fc.tuple(key, group, consumer).map(([k, g, c]) => ["XAUTOCLAIM", k, g, c, "0", "0", "COUNT", "2"]) },
  { weight: 1, arbitrary: key.map((k) => ["DEL", k]) },
  { weight: 1, arbitrary: fc.tuple(key, key).map(([a, b]) => ["RENAME", a, b]) },
  { weight: 1, arbitrary: fc.tuple(key, key).map(([a, b]) => ["COPY", a, b, "REPLACE"]) },
  { weight: 1, arbitrary: fc.constant(["TICK"]) },
);
const batch = fc.oneof({ weight: 5, arbitrary: write.map((argv) => [argv]) }, { weight: 1, arbitrary: fc.tuple(write, write).map(([a, b]) => [a, b]) });
type Op = { kind: "write"; commands: readonly (readonly string[])[] } | { kind: "chunk" };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: batch.map((commands) => ({ kind: "write" as const, commands })) },
  { weight: 2, arbitrary: fc.constant({ kind: "chunk" as const }) },
);

/** What a client sees of every stream: entries, groups, consumers (times included), pending entries. */
function view(engine: Engine): unknown[] {
  const run = (argv: string[]) => engine.run({ mode: "single", commands: [argv], permission: "admin" });
  return ["s", "t", "u"].flatMap((k) => [
    run(["XINFO", "STREAM", k, "FULL", "COUNT", "0"]),
    run(["XLEN", k]),
    ...["g1", "g2"].flatMap((g) => [run(["XPENDING", k, g]), run(["XINFO", "CONSUMERS", k, g])]),
  ]);
}

describe("streams through replication", () => {
  it("a full sync in chunks while streams, groups and PELs change ends equal to the master, replies too (property)", () => {
    fc.assert(
      fc.property(fc.array(batch, { maxLength: 25 }), fc.array(op, { maxLength: 50 }), fc.array(batch, { maxLength: 20 }), fc.integer({ min: 1, max: 300 }), (before, during, after, chunkBytes) => {
        const p = enginePair();
        const { master, replica, syncing, clock } = p;
        const run = (commands: readonly (readonly string[])[]) => {
          const real = commands.filter((c) => c[0] !== "TICK").map((c) => [...c]);
          if (real.length < commands.length) clock.advance(7);
          if (real.length > 0) master.run({ mode: real.length > 1 ? "multi" : "single", commands: real, permission: "admin" });
        };
        writesAroundFullSync(p, run, { before, during, after, chunkBytes, pullBytes: 300 }, (o: { commands: readonly (readonly string[])[] }) => o.commands);
        expect(digest(replica)).toBe(digest(master));
        expect(view(replica)).toEqual(view(master));
      }),
      { numRuns: 300 },
    );
  });

  it("a replica promoted mid-way continues a group where it was: every entry acknowledged exactly once", () => {
    const p = enginePair();
    const m = runner(p.master);
    fullSync(p, 10_000).finish();
    p.syncing.now = false;
    m("XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM");
    for (let i = 1; i <= 300; i++) m("XADD", "jobs", `${i}-1`, "n", String(i));
    const acked = new Map<string, number>();
    const work = (run: ReturnType<typeof runner>, rounds: number) => {
      for (let r = 0; r < rounds; r++)
        for (const c of ["c1", "c2", "c3"]) {
          const reply = run("XREADGROUP", "GROUP", "workers", c, "COUNT", "7", "STREAMS", "jobs", ">") as [unknown, [Uint8Array, unknown][]][] | null;
          // c3 crashes before it acknowledges its first reads.
          if (reply === null || (c === "c3" && r < 3)) continue;
          const ids = reply[0]![1].map(([id]) => new TextDecoder().decode(id));
          if (ids.length === 0) continue;
          expect(run("XACK", "jobs", "workers", ...ids)).toBe(ids.length);
          for (const id of ids) acked.set(id, (acked.get(id) ?? 0) + 1);
        }
    };
    work(m, 5);
    catchUp(p.master, p.replica, 2000);
    // The primary is gone: the replica takes over, with the group's position and PEL.
    const promoted = runner(new Engine(p.replica.storage, { clock: p.clock, random: seeded(3) }));
    expect(promoted("XINFO", "GROUPS", "jobs")).toEqual(m("XINFO", "GROUPS", "jobs"));
    work(promoted, 20);
    p.clock.advance(60_000);
    for (let cursor = "0-0"; ; ) {
      const [next, claimed] = promoted("XAUTOCLAIM", "jobs", "workers", "c1", "30000", cursor, "COUNT", "10") as [Uint8Array, [Uint8Array, unknown][]];
      const ids = claimed.map(([id]) => new TextDecoder().decode(id));
      if (ids.length > 0) expect(promoted("XACK", "jobs", "workers", ...ids)).toBe(ids.length);
      for (const id of ids) acked.set(id, (acked.get(id) ?? 0) + 1);
      cursor = new TextDecoder().decode(next);
      if (cursor === "0-0") break;
    }
    expect(acked.size).toBe(300);
    expect([...acked.values()].every((n) => n === 1)).toBe(true);
    expect(promoted("XPENDING", "jobs", "workers")).toEqual([0, null, null, null]);
  });
});

describe("Redis 8.2's reference policies: XDELEX, XACKDEL, and KEEPREF | DELREF | ACKED on XADD and XTRIM", () => {
  // As redis/redis's tests/unit/type/stream-cgroups.tcl and stream.tcl (8.2, commit fa040a72c) expect
  // them; no redis-server 8.2 runs here to compare with.
  it("name keys and groups in errors as Redis's %s does: up to a NUL, newlines as spaces", () => {
    const run = soloEngine();
    expect(() => run("XCLAIM", "k\u00003", "g", "c", "0", "1-1")).toThrow("NOGROUP No such key 'k' or consumer group 'g'");
    expect(() => run("XREADGROUP", "GROUP", "g\nh", "c", "STREAMS", "k", ">")).toThrow("NOGROUP No such key 'k' or consumer group 'g h' in XREADGROUP with GROUP option");
    run("XADD", "s", "1-1", "f", "v");
    expect(() => run("XINFO", "CONSUMERS", "s", "g\u0000x")).toThrow("NOGROUP No such consumer group 'g' for key name 's'");
  });

  it("XREAD and XREADGROUP name their keys after STREAMS, a group called \"streams\" notwithstanding", () => {
    const keys = (argv: string[]) => [...Engine.lookup(argv[0]!)!.otherKeys!(argv)];
    expect(keys(["XREADGROUP", "GROUP", "streams", "c", "STREAMS", "s", ">"])).toEqual(["s"]);
    expect(keys(["XREAD", "COUNT", "streams", "STREAMS", "a", "b", "0", "0"])).toEqual(["a", "b"]);
    expect(flagsOf(Engine.lookup("xreadgroup")!, ["XREADGROUP", "GROUP", "block", "c", "STREAMS", "s", ">"])).toEqual(["write"]);
  });

  it("ACKED keeps what a group still needs (not delivered yet, or pending), DELREF empties the PELs, and the errors", () => {
    const run = soloEngine();
    for (const id of ["1-0", "2-0", "3-0", "4-0", "5-0"]) run("XADD", "s", id, "f", "v");
    run("XGROUP", "CREATE", "s", "g1", "0");
    run("XGROUP", "CREATE", "s", "g2", "0");
    run("XREADGROUP", "GROUP", "g1", "c", "COUNT", "2", "STREAMS", "s", ">");
    run("XREADGROUP", "GROUP", "g2", "c", "COUNT", "2", "STREAMS", "s", ">");
    expect(run("XACKDEL", "s", "g1", "ACKED", "IDS", "2", "1-0", "2-0")).toEqual([2, 2]);
    expect(run("XLEN", "s")).toBe(5);
    expect(run("XACKDEL", "s", "g2", "ACKED", "IDS", "2", "1-0", "2-0")).toEqual([1, 1]);
    expect(run("XLEN", "s")).toBe(3);
    expect(run("XACKDEL", "s", "g2", "IDS", "1", "1-0")).toEqual([-1]);
    // 3-0 is past g2's last delivered ID: still needed.
    expect(run("XDELEX", "s", "ACKED", "IDS", "1", "3-0")).toEqual([2]);
    expect(run("XDELEX", "s", "IDS", "1", "3-0")).toEqual([1]);
    expect(run("XDELEX", "nope", "IDS", "2", "x", "y")).toEqual([-1, -1]);
    run("XREADGROUP", "GROUP", "g1", "c", "STREAMS", "s", ">");
    expect(run("XDELEX", "s", "DELREF", "IDS", "1", "4-0")).toEqual([1]);
    expect(run("XPENDING", "s", "g1")).toEqual([1, b("5-0"), b("5-0"), [[b("c"), b("1")]]]);
    // XADD trims after appending: the new entry, not delivered to any group yet, is kept too.
    run("XADD", "s", "MAXLEN", "=", "1", "ACKED", "6-0", "f", "v");
    expect(run("XLEN", "s")).toBe(2);
    expect(run("XTRIM", "s", "MAXLEN", "0", "DELREF")).toBe(2);
    expect(run("XPENDING", "s", "g1")).toEqual([0, null, null, null]);
    expect(() => run("XDELEX", "s", "KEEPREF", "DELREF", "IDS", "1", "3-0")).toThrow("ERR syntax error");
    expect(() => run("XDELEX", "s", "IDS", "3", "1-1", "2-2")).toThrow("ERR The `numids` parameter must match the number of arguments");
    expect(() => run("XDELEX", "s", "IDS", "0", "1-1")).toThrow("ERR Number of IDs must be a positive integer");
    expect(() => run("XDELEX", "s", "IDS", "1", "1-1", "2-2")).toThrow("ERR syntax error");
    expect(() => run("XADD", "s", "ACKED", "ACKED", "7-0", "f", "v")).toThrow("ERR Invalid stream ID specified as stream command argument");
    expect(() => run("XTRIM", "s", "MAXLEN", "0", "ACKED", "DELREF")).toThrow("ERR syntax error");
  });
});

describe("streams on SQLite read the rows they answer", () => {
  it("XRANGE, XREVRANGE, XREAD, XPENDING and XINFO of a 20,000-entry stream with 5,000 pending read a bounded number of rows", async () => {
    await runInDurableObject(env.NODE.get(env.NODE.idFromName("stream-rows")), (_node, state) => {
      for (const t of ["keyspace", "elements", "backlog", "meta", "dropped", "ranks", "ranked"]) state.storage.sql.exec(`DROP TABLE IF EXISTS ${t}`);
      const storage = new SqliteStorage(state.storage);
      const engine = new Engine(storage, { clock: new ManualClock(5_000_000), random: seeded(5), node: "sqlite" });
      const admin = (commands: string[][]): Batch => ({ mode: "pipeline", commands, permission: "admin" });
      for (let i = 0; i < 20_000; i += 1000) engine.run(admin(Array.from({ length: 1000 }, (_, j) => ["XADD", "s", `${i + j + 1}-0`, "n", String(i + j)])));
      engine.run(admin([["XGROUP", "CREATE", "s", "g", "0"]]));
      for (let i = 0; i < 5; i++) engine.run(admin([["XREADGROUP", "GROUP", "g", `c${i}`, "COUNT", "1000", "STREAMS", "s", ">"]]));
      const cost = (argv: string[]) => {
        const before = storage.usage();
        const result = engine.run(admin([argv])) as { outcomes: { result?: unknown; error?: string }[] };
        const after = storage.usage();
        expect(result.outcomes[0]!.error, argv.join(" ")).toBeUndefined();
        return { read: after.rows_read - before.rows_read, written: after.rows_written - before.rows_written, result: result.outcomes[0]!.result };
      };
      expect(cost(["XRANGE", "s", "10000", "+", "COUNT", "10"]).read).toBeLessThanOrEqual(40);
      expect(cost(["XREVRANGE", "s", "+", "-", "COUNT", "10"]).read).toBeLessThanOrEqual(40);
      expect(cost(["XREAD", "COUNT", "5", "STREAMS", "s", "15000"]).read).toBeLessThanOrEqual(40);
      expect(cost(["XLEN", "s"]).read).toBeLessThanOrEqual(5);
      expect(cost(["XPENDING", "s", "g"]).read).toBeLessThanOrEqual(40);
      expect(cost(["XPENDING", "s", "g", "-", "+", "10", "c3"]).read).toBeLessThanOrEqual(60);
      expect(cost(["XINFO", "STREAM", "s"]).read).toBeLessThanOrEqual(40);
      expect(cost(["XINFO", "GROUPS", "s"]).read).toBeLessThanOrEqual(40);
      // Writes: an XADD writes as many rows as an HSET of a new field (its row, the header, the log);
      // an ack its PEL rows and the counts.
      cost(["HSET", "h", "a", "1"]);
      expect(cost(["XADD", "s", "*", "n", "x"]).written).toBe(cost(["HSET", "h", "b", "2"]).written);
      expect(cost(["XACK", "s", "g", "1-0"]).written).toBeLessThanOrEqual(8);
      // ACKED with a group that has read nothing of a second stream: nothing goes, and the trim
      // stops at the group's position instead of walking the stream.
      for (let i = 0; i < 5_000; i += 1000) engine.run(admin(Array.from({ length: 1000 }, (_, j) => ["XADD", "t", `${i + j + 1}-0`, "n", "x"])));
      engine.run(admin([["XGROUP", "CREATE", "t", "late", "0"]]));
      const acked = cost(["XADD", "t", "MAXLEN", "10", "ACKED", "*", "n", "y"]);
      expect(acked.read).toBeLessThanOrEqual(40);
      expect(cost(["XLEN", "t"]).result).toBe(5_001);
      const read10 = cost(["XREADGROUP", "GROUP", "g", "c9", "COUNT", "10", "STREAMS", "s", ">"]);
      // Ten deliveries: each a row in the group's PEL and one in the consumer's (each row with its
      // index entry), then the consumer, the group, the header and the log.
      expect(read10.written).toBeLessThanOrEqual(50);
      expect(read10.read).toBeLessThanOrEqual(80);
    });
  });
});

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const send = (argv: string[]) => call(argv, { token: TOKENS.readwrite });

describe("XREAD BLOCK and XREADGROUP BLOCK on the primary", () => {
  let clock: Clock;

  it("wake on an XADD to their stream with what was added after `$` as it was when they blocked; nil at the timeout", async () => {
    clock = await onOneClock([PRIMARY, ...REPLICAS], REPLICAS);
    expect(await redis("XADD", "ev", "1-1", "a", "1")).toBe("1-1");
    const reader = send(["XREAD", "BLOCK", "5000", "STREAMS", "ev", "$"]);
    await redis("XGROUP", "CREATE", "ev", "g", "$");
    const member = send(["XREADGROUP", "GROUP", "g", "w", "BLOCK", "5000", "STREAMS", "ev", ">"]);
    await untilBlocked(2);
    expect(await redis("XADD", "other", "1-1", "x", "y")).toBe("1-1");
    expect(await blockedNow()).toBe(2);
    expect(await redis("XADD", "ev", "2-1", "b", "2")).toBe("2-1");
    expect((await reader).json).toEqual({ result: [["ev", [["2-1", ["b", "2"]]]]] });
    expect((await member).json).toEqual({ result: [["ev", [["2-1", ["b", "2"]]]]] });
    expect(await redis("XPENDING", "ev", "g", "-", "+", "10")).toEqual([["2-1", "w", expect.any(Number), 1]]);
    const late = send(["XREAD", "BLOCK", "100", "STREAMS", "ev", "$"]);
    await untilBlocked(1);
    await inNode(stubOf(PRIMARY), () => clock.advance(150));
    expect((await late).json).toEqual({ result: null });
    // Without BLOCK, nothing new is nil at once; XREAD is served by a replica then.
    expect(await redis("XREAD", "STREAMS", "ev", "$")).toBeNull();
  });

  it("serve every stream reader an entry is for: a second group's, and readers past different IDs, after one that found nothing", async () => {
    await redis("XGROUP", "CREATE", "multi", "g1", "$", "MKSTREAM");
    await redis("XGROUP", "CREATE", "multi", "g2", "$");
    const a = send(["XREADGROUP", "GROUP", "g1", "a", "BLOCK", "5000", "STREAMS", "multi", ">"]);
    await untilBlocked(1);
    const b = send(["XREADGROUP", "GROUP", "g1", "b", "BLOCK", "5000", "STREAMS", "multi", ">"]);
    await untilBlocked(2);
    const c = send(["XREADGROUP", "GROUP", "g2", "c", "BLOCK", "5000", "STREAMS", "multi", ">"]);
    await untilBlocked(3);
    const far = send(["XREAD", "BLOCK", "5000", "STREAMS", "multi", "99999-0"]);
    await untilBlocked(4);
    const near = send(["XREAD", "BLOCK", "5000", "STREAMS", "multi", "$"]);
    await untilBlocked(5);
    expect(await redis("XADD", "multi", "5-1", "f", "v")).toBe("5-1");
    const entry = { result: [["multi", [["5-1", ["f", "v"]]]]] };
    expect((await a).json).toEqual(entry);
    expect((await c).json).toEqual(entry);
    expect((await near).json).toEqual(entry);
    // b (g1's entry went to a) and far (nothing past 99999-0) still wait.
    expect(await blockedNow()).toBe(2);
    // A reader whose group goes is answered at once with Redis's error, not at its timeout.
    expect(await redis("XGROUP", "DESTROY", "multi", "g1")).toBe(1);
    expect((await b).json).toEqual({ error: "NOGROUP No such key 'multi' or consumer group 'g1' in XREADGROUP with GROUP option" });
    await inNode(stubOf(PRIMARY), () => clock.advance(5_000));
    expect((await far).json).toEqual({ result: null });
  });
});
