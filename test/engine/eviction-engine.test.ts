// Eviction on the engine alone (issue 15): maxmemory with each policy on a small bound and a
// seeded random source, the OOM text and what it refuses, CONFIG and INFO memory, and evictions
// through replication (a replica applies the master's DELs and never evicts itself; its
// used_memory equals the master's after streaming and after a full sync).
import { describe, expect, it } from "vitest";
import { ManualClock, type Random } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { START, type SnapshotCursor } from "../../durable-objects/engine/replication/protocol";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { applyEntries, beginFullSync, digest, endFullSync, loadChunk, psync, snapshotChunk } from "../../durable-objects/engine/replication/sync";
import { REPORT_CHARS, REPORT_KEYS } from "../../durable-objects/engine/eviction";
import { sizesExact } from "../support/dataset";
import { catchUp, enginePair, fullSync } from "../support/engine-pair";

/** mulberry32: a seeded source, so each run samples the same keys. */
function seeded(seed: number): Random {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, hex: (n) => Array.from({ length: n }, () => Math.floor(next() * 256).toString(16).padStart(2, "0")).join("") };
}

function engine(role: "master" | "slave" = "master", seed = 1) {
  return new Engine(new MemoryStorage(), { clock: new ManualClock(1_000_000), random: seeded(seed), role });
}

function run(e: Engine, ...argv: (string | number)[]): unknown {
  const r = e.run({ mode: "single", commands: [argv.map(String)], permission: "admin" });
  if (!("outcomes" in r)) throw new Error(r.error);
  const o = r.outcomes[0]!;
  if ("error" in o) return { error: o.error };
  return text(o.result);
}

/** A reply with bulk strings decoded. */
const text = (r: unknown): unknown => (r instanceof Uint8Array ? new TextDecoder().decode(r) : Array.isArray(r) ? r.map(text) : r);

const info = (e: Engine, field: string) => e.info(["memory", "stats"]).match(new RegExp(`^${field}:(.*)$`, "m"))?.[1];
const OOM = "OOM command not allowed when used memory > 'maxmemory'.";
/** A 100-byte value: each key `kNNN` then takes 56 + 4 + 100 bytes of the estimate. */
const VALUE = "x".repeat(100);
const ENTRY = 160;

/** An engine bounded at `keys` entries of ENTRY bytes with `policy`. */
function bounded(policy: string, keys: number, seed = 1) {
  const e = engine("master", seed);
  expect(run(e, "CONFIG", "SET", "maxmemory", keys * ENTRY, "maxmemory-policy", policy)).toBe("OK");
  return e;
}

const key = (i: number) => `k${String(i).padStart(3, "0")}`;
const alive = (e: Engine, keys: string[]) => keys.filter((k) => run(e, "EXISTS", k) === 1);

describe("the dataset's estimate", () => {
  it("INFO memory prints used_memory as the dataset's estimate, with maxmemory and the policy", () => {
    const e = engine();
    expect(info(e, "used_memory")).toBe("0");
    run(e, "SET", "k001", VALUE);
    run(e, "HSET", "h", "f", "vv", "g", "w");
    // key: 56 + 4 + 100; hash: 56 + 1 + (24 + 1 + 2) + (24 + 1 + 1)
    expect(info(e, "used_memory")).toBe(String(ENTRY + 57 + 27 + 26));
    expect(info(e, "used_memory_dataset")).toBe(info(e, "used_memory"));
    expect(info(e, "used_memory_human")).toBe("270B");
    expect(run(e, "MEMORY", "USAGE", "h")).toBe(57 + 27 + 26);
    expect(info(e, "maxmemory")).toBe("0");
    expect(info(e, "maxmemory_human")).toBe("0B");
    expect(info(e, "maxmemory_policy")).toBe("noeviction");
    run(e, "CONFIG", "SET", "maxmemory", "4mb");
    expect(info(e, "maxmemory")).toBe("4194304");
    expect(info(e, "maxmemory_human")).toBe("4.00M");
    run(e, "HDEL", "h", "f");
    run(e, "DEL", "k001");
    expect(info(e, "used_memory")).toBe(String(57 + 26));
    sizesExact(e);
  });

  it("CONFIG SET and GET maxmemory (with units) and maxmemory-samples (1 to INT_MAX, default 5), refusing what Redis refuses", () => {
    const e = engine();
    expect(run(e, "CONFIG", "GET", "maxmemory*")).toEqual([
      ...["maxmemory", "0", "maxmemory-clients", "0", "maxmemory-eviction-tenacity", "10"],
      ...["maxmemory-policy", "noeviction", "maxmemory-samples", "5"],
    ]);
    expect(run(e, "CONFIG", "SET", "maxmemory", "4mb", "maxmemory-samples", "10")).toBe("OK");
    expect(run(e, "CONFIG", "GET", "maxmemory", "maxmemory-samples")).toEqual(["maxmemory", "4194304", "maxmemory-samples", "10"]);
    expect(run(e, "CONFIG", "SET", "maxmemory", "1gb")).toBe("OK");
    expect(run(e, "CONFIG", "GET", "maxmemory")).toEqual(["maxmemory", "1073741824"]);
    const refused = (name: string, reason: string) => ({ error: `ERR CONFIG SET failed (possibly related to argument '${name}') - argument${reason}` });
    expect(run(e, "CONFIG", "SET", "maxmemory-samples", "0")).toEqual(refused("maxmemory-samples", " must be between 1 and 2147483647 inclusive"));
    expect(run(e, "CONFIG", "SET", "maxmemory-samples", "2147483648")).toEqual(refused("maxmemory-samples", " must be between 1 and 2147483647 inclusive"));
    expect(run(e, "CONFIG", "SET", "maxmemory-samples", "five")).toEqual(refused("maxmemory-samples", " couldn't be parsed into an integer"));
    expect(run(e, "CONFIG", "GET", "maxmemory-samples")).toEqual(["maxmemory-samples", "10"]);
    // Past 64 bits a memory value is refused, not wrapped round; a negative one is not a memory value.
    for (const bad of ["99999999999999999999gb", "18446744073709551616", "-1", "1.5gb", "abc"])
      expect(run(e, "CONFIG", "SET", "maxmemory", bad)).toEqual(refused("maxmemory", " must be a memory value"));
    expect(run(e, "CONFIG", "SET", "maxmemory", "18446744073709551615")).toBe("OK");
    expect(run(e, "CONFIG", "GET", "maxmemory")).toEqual(["maxmemory", "18446744073709551615"]);
    expect(run(e, "CONFIG", "SET", "maxmemory", "1gb")).toBe("OK");
    // repl-backlog-size: 1 to LLONG_MAX, and below 16 KiB it is raised to 16 KiB, as Redis does.
    expect(run(e, "CONFIG", "SET", "repl-backlog-size", "0")).toEqual(refused("repl-backlog-size", " must be between 1 and 9223372036854775807 inclusive"));
    expect(run(e, "CONFIG", "SET", "repl-backlog-size", "1")).toBe("OK");
    expect(run(e, "CONFIG", "GET", "repl-backlog-size")).toEqual(["repl-backlog-size", "16384"]);
    expect(run(e, "CONFIG", "SET", "repl-timeout", "0")).toEqual(refused("repl-timeout", " must be between 1 and 2147483647 inclusive"));
    expect(run(e, "CONFIG", "SET", "min-replicas-to-write", "-1")).toEqual(refused("min-replicas-to-write", " must be between 0 and 2147483647 inclusive"));
    expect(run(e, "CONFIG", "SET", "maxmemory-policy", "lru")).toEqual(
      refused("maxmemory-policy", "(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"),
    );
    expect(run(e, "CONFIG", "SET", "replica-serve-stale-data", "maybe")).toEqual(refused("replica-serve-stale-data", " must be 'yes' or 'no'"));
    // A refused pair changes nothing, the good ones beside it included.
    expect(run(e, "CONFIG", "SET", "maxmemory", "2gb", "repl-timeout", "0")).toMatchObject({ error: expect.any(String) });
    expect(run(e, "CONFIG", "GET", "maxmemory")).toEqual(["maxmemory", "1073741824"]);
  });
});

describe("maxmemory policies", () => {
  it("noeviction refuses writes that may grow the dataset with Redis's OOM text; reads and deletions go on", () => {
    const e = bounded("noeviction", 10);
    for (let i = 0; i < 10; i++) expect(run(e, "SET", key(i), VALUE)).toBe("OK");
    expect(run(e, "SET", key(10), VALUE)).toBe("OK"); // at the bound, not over it: allowed (Redis checks >)
    for (const argv of [["SET", "x", "1"], ["APPEND", key(0), "y"], ["INCR", "n"], ["HSET", "h", "f", "v"], ["LPUSH", "l", "a"], ["SADD", "s", "m"], ["ZADD", "z", "1", "m"]])
      expect(run(e, ...argv), argv[0]).toEqual({ error: OOM });
    // Redis refuses to queue the write (OOM), then EXEC aborts the transaction.
    const multi = e.run({ mode: "multi", commands: [["GET", key(0)], ["SET", "x", "1"]], permission: "admin" });
    expect(multi).toMatchObject({ error: "EXECABORT Transaction discarded because of previous errors." });
    expect(run(e, "GET", key(1))).toBe(VALUE);
    expect(run(e, "EXPIRE", key(1), 100)).toBe(1);
    expect(run(e, "DEL", key(0), key(1))).toBe(2);
    expect(run(e, "SET", "x", "1")).toBe("OK");
    expect(info(e, "evicted_keys")).toBe("0");
  });

  it("allkeys-lru keeps the keys read recently and evicts the others, within the bound", () => {
    const e = bounded("allkeys-lru", 40);
    const hot = Array.from({ length: 10 }, (_, i) => key(i));
    for (let i = 0; i < 400; i++) {
      expect(run(e, "SET", key(i), VALUE)).toBe("OK");
      if (i % 4 === 0) for (const k of hot) run(e, "GET", k);
      expect(e.keyspace.usedBytes).toBeLessThanOrEqual(40 * ENTRY + ENTRY);
    }
    expect(alive(e, hot)).toEqual(hot);
    expect(Number(info(e, "evicted_keys"))).toBeGreaterThan(300);
    // Without the reads the same writes evict the first keys written.
    const cold = bounded("allkeys-lru", 40);
    for (let i = 0; i < 400; i++) run(cold, "SET", key(i), VALUE);
    expect(alive(cold, hot).length).toBeLessThan(3);
    sizesExact(e);
  });

  it("allkeys-lfu keeps the keys read often, even long ago, over keys read once since", () => {
    const lfu = bounded("allkeys-lfu", 40);
    const lru = bounded("allkeys-lru", 40);
    const hot = Array.from({ length: 10 }, (_, i) => key(i));
    for (const e of [lfu, lru]) {
      for (const k of hot) run(e, "SET", k, VALUE);
      for (let n = 0; n < 50; n++) for (const k of hot) run(e, "GET", k);
      for (let i = 10; i < 300; i++) {
        run(e, "SET", key(i), VALUE);
        run(e, "GET", key(i));
      }
    }
    expect(alive(lfu, hot)).toEqual(hot);
    expect(alive(lru, hot)).toEqual([]);
    expect(Number(info(lfu, "evicted_keys"))).toBeGreaterThan(200);
  });

  it("allkeys-random evicts keys of any age and stays within the bound", () => {
    const e = bounded("allkeys-random", 40);
    for (let i = 0; i < 200; i++) {
      run(e, "SET", key(i), VALUE);
      expect(e.keyspace.usedBytes).toBeLessThanOrEqual(41 * ENTRY);
    }
    const all = Array.from({ length: 200 }, (_, i) => key(i));
    const kept = alive(e, all);
    expect(kept.length).toBeGreaterThanOrEqual(38);
    // Some old keys survive (LRU would have evicted them all), and some new ones went.
    expect(kept.some((k) => k < key(100))).toBe(true);
    expect(kept.length).toBeLessThanOrEqual(41);
    expect(Number(info(e, "evicted_keys"))).toBe(200 - kept.length);
  });

  for (const policy of ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
    it(`${policy} evicts only keys with a deadline, then refuses with OOM`, () => {
      const e = bounded(policy, 40);
      const persistent = Array.from({ length: 20 }, (_, i) => key(i));
      for (const k of persistent) run(e, "SET", k, VALUE);
      for (let i = 20; i < 100; i++) {
        expect(run(e, "SET", key(i), VALUE, "EX", 1000 + i)).toBe("OK");
        expect(e.keyspace.usedBytes).toBeLessThanOrEqual(41 * ENTRY);
      }
      expect(alive(e, persistent)).toEqual(persistent);
      expect(Number(info(e, "evicted_keys"))).toBeGreaterThan(50);
      if (policy === "volatile-ttl") {
        // The soonest deadlines went first (as sampled): few of the first half survive, the last does.
        expect(run(e, "EXISTS", key(99))).toBe(1);
        expect(alive(e, Array.from({ length: 40 }, (_, i) => key(20 + i))).length).toBeLessThanOrEqual(3);
      }
      // Persistent keys alone over the bound: nothing evictable.
      for (let i = 100; i < 125; i++) run(e, "SET", key(i), VALUE);
      expect(run(e, "SET", "more", VALUE)).toEqual({ error: OOM });
      expect(alive(e, persistent)).toEqual(persistent);
    });

  it("a collection evicted frees its whole size; lists, hashes, sets and sorted sets are evicted as keys", () => {
    const e = bounded("allkeys-lru", 40);
    run(e, "HSET", "h", ...Array.from({ length: 20 }, (_, i) => [`f${i}`, VALUE]).flat());
    run(e, "RPUSH", "l", ...Array.from({ length: 10 }, () => VALUE));
    const before = e.keyspace.usedBytes;
    expect(before).toBeGreaterThan(20 * ENTRY);
    for (let i = 0; i < 100; i++) run(e, "SET", key(i), VALUE);
    expect(run(e, "EXISTS", "h", "l")).toBe(0);
    expect(e.keyspace.usedBytes).toBeLessThanOrEqual(41 * ENTRY);
    sizesExact(e);
  });
});

describe("eviction through replication", () => {
  function catchUp(master: Engine, replica: Engine) {
    for (let rounds = 0; replica.log.offset < master.log.offset; rounds++) {
      if (rounds > 10_000) throw new Error("no progress");
      const reply = psync(master, replica.log.replid, replica.log.offset, 2000);
      if (reply.kind !== "continue") throw new Error("unexpected FULLRESYNC");
      expect(applyEntries(replica, reply.entries)).toBe(true);
    }
  }

  /** A full sync of `replica` in chunks of `chunkBytes`, running `between` after each chunk. */
  function fullSync(master: Engine, replica: Engine, chunkBytes: number, between: (i: number) => void = () => {}) {
    const s = psync(master, replica.log.replid, 0, 1000);
    if (s.kind !== "fullresync") throw new Error();
    beginFullSync(replica, s.replid, s.offset);
    let i = 0;
    for (let cursor: SnapshotCursor | null = START; cursor !== null; i++) {
      const chunk = snapshotChunk(master, cursor, chunkBytes);
      loadChunk(replica, chunk);
      cursor = chunk.next;
      between(i);
    }
    endFullSync(replica);
    catchUp(master, replica);
  }

  it("evictions reach a replica as DELs: same digest and used_memory, streaming and after a full sync; the replica never evicts", () => {
    const master = bounded("allkeys-lru", 30);
    const replica = engine("slave", 2);
    const late = engine("slave", 3);
    fullSync(master, replica, 1000);
    for (let i = 0; i < 60; i++) {
      run(master, "SET", key(i), VALUE);
      run(master, "HSET", `h${i % 7}`, `f${i}`, VALUE);
      if (i % 3 === 0) run(master, "GET", key(0));
      if (i % 10 === 0) catchUp(master, replica);
    }
    catchUp(master, replica);
    const frames = master.storage.log.read(0, Infinity).map((f) => new TextDecoder().decode(f.frame));
    // One DEL per eviction (a write that evicts two keys logs both in its frame).
    expect(frames.reduce((n, f) => n + (f.match(/\r\nDEL\r\n/g)?.length ?? 0), 0)).toBe(Number(info(master, "evicted_keys")));
    expect(Number(info(master, "evicted_keys"))).toBeGreaterThan(20);
    expect(digest(replica)).toBe(digest(master));
    expect(replica.keyspace.usedBytes).toBe(master.keyspace.usedBytes);
    expect(info(replica, "evicted_keys")).toBe("0");
    // The replica holds the master's settings and bound but writes nothing of its own.
    replica.adoptConfig(master.config, master.configVersion);
    run(master, "SET", "one-more", VALUE);
    catchUp(master, replica);
    expect(digest(replica)).toBe(digest(master));
    expect(info(replica, "evicted_keys")).toBe("0");

    // A full sync in small chunks, while the master keeps evicting.
    const evictedBefore = Number(info(master, "evicted_keys"));
    fullSync(master, late, 500, (i) => {
      run(master, "SET", `during${i}`, VALUE);
      run(master, "HSET", `h${i % 7}`, `g${i}`, VALUE);
    });
    expect(Number(info(master, "evicted_keys"))).toBeGreaterThan(evictedBefore);
    expect(digest(late)).toBe(digest(master));
    expect(late.keyspace.usedBytes).toBe(master.keyspace.usedBytes);
    sizesExact(master);
    sizesExact(late);
    sizesExact(replica);
  });
});

describe("reads served by a replica count for the master's eviction", () => {
  const reads = (e: Engine, commands: string[][]) => e.run({ mode: "pipeline", commands, permission: "admin" });

  it("a replica reports the keys it read, with counts, emptied by each report; the master folds them into LRU and LFU", () => {
    const p = enginePair();
    fullSync(p, 1000).finish();
    for (const k of ["a", "b", "c"]) run(p.master, "SET", k, "v");
    catchUp(p.master, p.replica, 1000);
    // Applying the master's stream is no read; a master reports nothing.
    expect(p.replica.accessReport()).toEqual([]);
    reads(p.master, [["GET", "a"]]);
    expect(p.master.accessReport()).toEqual([]);
    reads(p.replica, [["GET", "a"], ["GET", "a"], ["MGET", "a", "b"], ["GET", "nope"]]);
    const report = p.replica.accessReport();
    expect(new Map(report)).toEqual(new Map([["a", 3], ["b", 1]])); // a missing key is no access
    expect(p.replica.accessReport()).toEqual([]);
    // LRU: c was used after b on the master; once b's reads at the replica are folded in, b is the more recent.
    reads(p.master, [["GET", "c"]]);
    expect(p.master.access.idle("b")).toBeGreaterThan(p.master.access.idle("c"));
    p.master.foldAccessReport(report);
    expect(p.master.access.idle("b")).toBeLessThan(p.master.access.idle("c"));
    // LFU: reported reads move the counter as reads at the master would.
    run(p.master, "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
    const before = p.master.access.frequency("a", p.clock.now());
    p.master.foldAccessReport([["a", 1000]]);
    expect(p.master.access.frequency("a", p.clock.now())).toBeGreaterThan(before);
  });

  it("a report holds at most REPORT_KEYS keys; the rest wait for the next interval", () => {
    const p = enginePair();
    fullSync(p, 1000).finish();
    const n = REPORT_KEYS + 10;
    const keys = Array.from({ length: n }, (_, i) => `k${i}`);
    p.master.run({ mode: "single", commands: [["MSET", ...keys.flatMap((k) => [k, "v"])]], permission: "admin" });
    catchUp(p.master, p.replica, 1 << 20);
    reads(p.replica, [["MGET", ...keys]]);
    expect(p.replica.accessReport()).toHaveLength(REPORT_KEYS);
    expect(p.replica.accessReport()).toEqual([]);
  });
});

describe("OBJECT IDLETIME and FREQ", () => {
  const lru = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
  const lfu = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

  it("answer from eviction's tracking, with Redis's errors for the policy that does not track them; the lookup is no access", () => {
    const p = enginePair();
    run(p.master, "SET", "k", "v");
    p.clock.advance(65_000);
    expect(run(p.master, "OBJECT", "IDLETIME", "k")).toBe(65);
    expect(run(p.master, "OBJECT", "IDLETIME", "k")).toBe(65); // OBJECT itself is no access
    expect(run(p.master, "OBJECT", "FREQ", "k")).toEqual({ error: lru });
    expect(run(p.master, "OBJECT", "IDLETIME", "nope")).toBe(null);
    run(p.master, "GET", "k");
    expect(run(p.master, "OBJECT", "IDLETIME", "k")).toBe(0);
    run(p.master, "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
    expect(run(p.master, "OBJECT", "IDLETIME", "k")).toEqual({ error: lfu });
    // Redis's LFU_INIT_VAL (5) when the key was made, decayed by one for the minute since.
    expect(run(p.master, "OBJECT", "FREQ", "k")).toBe(4);
    // A key never used since the node started is idle since then.
    const q = enginePair();
    q.clock.advance(10_000);
    q.master.run({ mode: "single", commands: [["SET", "fresh", "v"]], permission: "admin" });
    q.master.access.forget("fresh");
    expect(run(q.master, "OBJECT", "IDLETIME", "fresh")).toBe(10);
  });

  it("count the reads a replica served once its report reaches the master", () => {
    const p = enginePair();
    fullSync(p, 1000).finish();
    run(p.master, "SET", "k", "v");
    catchUp(p.master, p.replica, 1000);
    p.clock.advance(30_000);
    run(p.replica, "GET", "k");
    expect(run(p.master, "OBJECT", "IDLETIME", "k")).toBe(30);
    p.master.foldAccessReport(p.replica.accessReport());
    expect(run(p.master, "OBJECT", "IDLETIME", "k")).toBe(0);
  });
});

describe("a replica's access report", () => {
  const reads = (e: Engine, commands: string[][]) => e.run({ mode: "pipeline", commands, permission: "admin" });

  it("is bounded by the keys' length too, so long keys never make a large ACK", () => {
    const p = enginePair();
    fullSync(p, 1000).finish();
    const long = (i: number) => `${String(i).padStart(6, "0")}${"x".repeat(10_000)}`;
    const keys = Array.from({ length: 10 }, (_, i) => long(i));
    for (const k of keys) run(p.master, "SET", k, "v");
    catchUp(p.master, p.replica, 1 << 20);
    reads(p.replica, [["MGET", ...keys]]);
    const report = p.replica.accessReport();
    expect(report.reduce((n, [k]) => n + k.length, 0)).toBeLessThanOrEqual(REPORT_CHARS);
    expect(report).toHaveLength(6);
  });
});
