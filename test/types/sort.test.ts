// SORT and SORT_RO beyond the conformance cases (test/conformance/sort.ts, redis-server's replies):
// the bound on what one SORT sorts, BY nosort with LIMIT reading only its range, and SORT … STORE
// through a replica.
import { describe, expect, it } from "vitest";
import { MAX_SORT } from "../../durable-objects/engine/generic/sort";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { RedisError } from "../../durable-objects/engine/errors";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { newEngine } from "../support/fixtures";
import { digest } from "../../durable-objects/engine/replication/sync";
import { catchUp, enginePair, fullSync, runner, soloEngine } from "../support/engine-pair";

const enc = (...s: string[]) => s.map((x) => new TextEncoder().encode(x));

describe("SORT", () => {
  it(`sorts at most ${MAX_SORT} elements; BY nosort with LIMIT is served on a longer list (its range read by rank)`, () => {
    const run = soloEngine();
    for (let i = 0; i <= MAX_SORT; i += 50_000) run("RPUSH", "l", ...Array.from({ length: Math.min(50_000, MAX_SORT + 1 - i) }, (_, j) => String(i + j)));
    expect(run("LLEN", "l")).toBe(MAX_SORT + 1);
    expect(() => run("SORT", "l")).toThrow(`ERR SORT of more than ${MAX_SORT} elements is not served by Flaredis`);
    expect(() => run("SORT", "l", "BY", "nosort")).toThrow(/^ERR SORT of more than/);
    expect(run("SORT", "l", "BY", "nosort", "LIMIT", 5, 3)).toEqual(enc("5", "6", "7"));
    expect(run("SORT", "l", "BY", "nosort", "DESC", "LIMIT", 0, 2)).toEqual(enc(String(MAX_SORT), String(MAX_SORT - 1)));
    expect(run("SORT_RO", "l", "BY", "nosort", "LIMIT", 99_999, 10, "GET", "#")).toEqual(enc("99999", "100000"));
  });

  it("SORT … STORE reaches a replica as the list it wrote; SORT_RO answers there as on the master", () => {
    const p = enginePair();
    fullSync(p, 1024).finish();
    const m = runner(p.master);
    m("RPUSH", "ids", "3", "1", "2");
    m("MSET", "w_1", "30", "w_2", "20", "w_3", "10");
    m("HSET", "u:1", "name", "ann");
    expect(m("SORT", "ids", "BY", "w_*", "GET", "#", "GET", "u:*->name", "STORE", "out")).toBe(6);
    catchUp(p.master, p.replica, 1 << 20);
    const r = runner(p.replica);
    expect(r("LRANGE", "out", 0, -1)).toEqual(enc("3", "", "2", "", "1", "ann"));
    expect(r("SORT_RO", "ids", "BY", "w_*", "DESC", "GET", "u:*->name")).toEqual([enc("ann")[0], null, null]);
    expect(digest(p.replica)).toBe(digest(p.master));
    expect(() => r("SORT", "ids")).toThrow(/^READONLY/);
  });

  describe("edges, as redis-server 7.0.15 answers them", () => {
    it("a subnormal value is out of range for strtod, and refused; a NUL ends what C reads", () => {
      const run = soloEngine();
      run("RPUSH", "l", "1e-310", "2");
      expect(() => run("SORT", "l")).toThrow("ERR One or more scores can't be converted into double");
      run("RPUSH", "n", "5\0abc", "2");
      expect(run("SORT", "n")).toEqual(enc("2", "5\0abc"));
      run("RPUSH", "a", "a\0z", "a", "a\0b");
      expect(run("SORT", "a", "ALPHA")).toEqual(enc("a\0z", "a", "a\0b"));
      expect(run("SORT", "a", "ALPHA", "STORE", "d")).toBe(3);
      expect(run("LRANGE", "d", 0, -1)).toEqual(enc("a", "a\0b", "a\0z"));
    });

    it("STORE's destination and the key are held to the key size limit; a STORE counts no extra miss", () => {
      const engine = newEngine();
      const run = (...argv: string[]) => {
        const o = engine.run({ mode: "single", commands: [argv], permission: "admin" }) as { outcomes: { result?: unknown; error?: string }[] };
        if (o.outcomes[0]!.error) throw new Error(o.outcomes[0]!.error);
        return o.outcomes[0]!.result;
      };
      run("RPUSH", "l", "1", "2");
      expect(() => run("SORT", "l", "STORE", "k".repeat(40_000))).toThrow(/^ERR max key size exceeded/);
      expect(() => run("SORT_RO", "k".repeat(40_000))).toThrow(/^ERR max key size exceeded/);
      run("GEOADD", "g", "13.361389", "38.115556", "Palermo");
      expect(() => run("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "k".repeat(40_000))).toThrow(/^ERR max key size exceeded/);
      const stats = () => engine.info(["stats"]).match(/keyspace_hits:(\d+)\r\nkeyspace_misses:(\d+)/)!.slice(1).map(Number);
      const before = stats();
      run("SORT", "l", "STORE", "d2");
      expect(stats()).toEqual([before[0]! + 1, before[1]!]);
    });

    it("the reply is bounded: elements times GET patterns, and bytes", () => {
      const run = soloEngine();
      run("RPUSH", "l", ...Array.from({ length: 1000 }, () => "a"));
      expect(() => run("SORT", "l", "ALPHA", ...Array.from({ length: 1001 }, () => ["GET", "#"]).flat())).toThrow(/^ERR SORT reply of 1001000 elements exceeds 1000000/);
      run("SET", "v_a", "x".repeat(1 << 20));
      // The values a GET pattern reads count against one request's 32 MiB of string reads first.
      expect(() => run("SORT", "l", "BY", "nosort", "GET", "v_*")).toThrow(/^ERR this request reads more than 33554432 bytes of string values/);
      expect((run("SORT", "l", "BY", "nosort", "LIMIT", 0, 10, "GET", "v_*") as unknown[]).length).toBe(10);
    });

    it("a replica loading a full sync refuses SORT_RO, as it refuses other reads of data", () => {
      const loading = new RedisError("LOADING Redis is loading the dataset in memory");
      const engine = new Engine(new MemoryStorage(), {
        clock: new ManualClock(1),
        random: { next: () => 0.5, hex: (n) => "cd".repeat(n) },
        role: "slave",
        replication: { goodReplicas: () => 0, replicaRefusal: () => loading, writeRefusal: () => null, info: () => ({ slaves: [], master: [], failoverState: "no-failover" }), fullSyncInProgress: () => false },
      });
      expect(engine.run({ mode: "single", commands: [["SORT_RO", "l", "GET", "k_*"]], permission: "admin" })).toMatchObject({ outcomes: [{ error: loading.message }] });
    });
  });
});
