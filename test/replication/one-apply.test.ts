/**
 * A master makes every change by applying its effects, as its replicas apply them (Change.apply):
 * after any commands, what the master stores is what a replica built from the stream, row for
 * row (each key's record and each element, offsets aside), and OBJECT ENCODING answers alike.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { eachKey } from "../../durable-objects/engine/storage";
import { digest } from "../../durable-objects/engine/replication/sync";
import { SqliteStorage } from "../../durable-objects/sqlite/sqlite-storage";
import { catchUp, enginePair, fullSync, masterView, runner } from "../support/engine-pair";
import { inNode } from "../support/helpers";

const keys = ["a", "b", "{t}c", "d\u00ff"];
const text = (reply: unknown): string => new TextDecoder().decode(reply as Uint8Array);
const word = fc.constantFrom("x", "y", "", "\u00ff", "10", "-0", "3.5");
const key = fc.constantFrom(...keys);
const small = fc.integer({ min: -3, max: 6 }).map(String);

/** One command of any type, on a few keys shared by every type (so WRONGTYPE and overwrites happen). */
const command: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(fc.constantFrom("SET", "APPEND", "GETSET", "SETNX"), key, word).map((c) => [...c]),
  fc.tuple(key, small, word).map(([k, o, v]) => ["SETRANGE", k, String(Math.abs(Number(o))), v]),
  fc.tuple(fc.constantFrom("INCR", "DECR", "DEL", "PERSIST", "GETDEL"), key).map((c) => [...c]),
  fc.tuple(key, small).map(([k, n]) => ["INCRBYFLOAT", k, `${n}.5`]),
  fc.tuple(key, fc.integer({ min: 1, max: 100_000 })).map(([k, ms]) => ["PEXPIRE", k, String(ms)]),
  fc.tuple(key, key).map(([a, b]) => ["RENAME", a, b]),
  fc.tuple(key, key).map(([a, b]) => ["COPY", a, b, "REPLACE"]),
  fc.tuple(key, fc.array(fc.tuple(word, word), { minLength: 1, maxLength: 3 })).map(([k, p]) => ["HSET", k, ...p.flat()]),
  fc.tuple(key, word, small).map(([k, f, n]) => ["HINCRBY", k, f, n]),
  fc.tuple(key, fc.array(word, { minLength: 1, maxLength: 3 })).map(([k, f]) => ["HDEL", k, ...f]),
  fc.tuple(key, fc.constantFrom("NX", "XX", "GT", "LT"), fc.array(word, { minLength: 1, maxLength: 3 })).map(([k, c, f]) => ["HPEXPIRE", k, "50000", c, "FIELDS", String(f.length), ...f]),
  fc.tuple(key, fc.array(word, { minLength: 1, maxLength: 2 })).map(([k, f]) => ["HPERSIST", k, "FIELDS", String(f.length), ...f]),
  fc.tuple(fc.constantFrom("SADD", "SREM"), key, fc.array(word, { minLength: 1, maxLength: 4 })).map(([c, k, m]) => [c, k, ...m]),
  fc.tuple(key, key).map(([a, b]) => ["SMOVE", a, b, "x"]),
  fc.tuple(key, fc.constantFrom<string[]>([], ["INCR"], ["NX"], ["GT"]), fc.array(fc.tuple(small, word), { minLength: 1, maxLength: 3 })).map(([k, o, p]) => ["ZADD", k, ...o, ...(o.includes("INCR") ? p.slice(0, 1) : p).flat()]),
  fc.tuple(key, fc.array(word, { minLength: 1, maxLength: 3 })).map(([k, m]) => ["ZREM", k, ...m]),
  fc.tuple(key, small, small).map(([k, a, b]) => ["ZREMRANGEBYRANK", k, a, b]),
  fc.tuple(fc.constantFrom("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"), key, key, key).map(([c, d, x, y]) => (c === "ZDIFFSTORE" ? [c, d, "2", x, y] : [c, d, "2", x, y, "WEIGHTS", "-1", "2"])),
  fc.tuple(fc.constantFrom("SUNIONSTORE", "SINTERSTORE", "SDIFFSTORE"), key, key, key).map((c) => [...c]),
  fc.tuple(fc.constantFrom("LPUSH", "RPUSH"), key, fc.array(word, { minLength: 1, maxLength: 4 })).map(([c, k, v]) => [c, k, ...v]),
  fc.tuple(fc.constantFrom("LPOP", "RPOP"), key, fc.integer({ min: 1, max: 3 })).map(([c, k, n]) => [c, k, String(n)]),
  fc.tuple(key, small, small).map(([k, a, b]) => ["LTRIM", k, a, b]),
  fc.tuple(key, small, word).map(([k, n, v]) => ["LREM", k, n, v]),
  fc.tuple(key, fc.constantFrom("BEFORE", "AFTER"), word, word).map(([k, w, p, v]) => ["LINSERT", k, w, p, v]),
  fc.tuple(key, small, word).map(([k, i, v]) => ["LSET", k, i, v]),
  fc.tuple(key, key).map(([a, b]) => ["LMOVE", a, b, "LEFT", "RIGHT"]),
  fc.tuple(key, word, word).map(([k, f, v]) => ["XADD", k, "MAXLEN", "3", "*", f || "f", v]),
  fc.tuple(key).map(([k]) => ["XGROUP", "CREATE", k, "g", "0", "MKSTREAM"]),
  fc.tuple(key).map(([k]) => ["XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", k, ">"]),
  fc.tuple(key, small).map(([k, n]) => ["XTRIM", k, "MAXLEN", String(Math.abs(Number(n)))]),
  fc.tuple(key, word, word).map(([k, e, v]) => ["PFADD", k, e, v]),
  fc.tuple(key, small).map(([k, n]) => ["SETBIT", k, String(Math.abs(Number(n)) * 9), "1"]),
);

/** Every stored key's record and elements, offsets aside, in storage order. */
function rows(engine: Engine): unknown[] {
  const out: unknown[] = [];
  for (const { key, entry } of eachKey(engine.storage.keys, 256, true)) {
    const { mod: _, ...record } = entry;
    const elements: unknown[] = [];
    if (entry.eid !== undefined) {
      delete (record as { eid?: number }).eid;
      // The bound of a hash's field deadlines is the master's own (kept exact by its sweep).
      delete (record as { fieldsExpireAt?: number }).fieldsExpireAt;
      for (let after: string | null = null; ; ) {
        const page = engine.storage.elements.page(entry.eid, after, 256);
        for (const { mod: __, ...el } of page) elements.push(el);
        if (page.length < 256) break;
        after = page[page.length - 1]!.field;
      }
    }
    // A hash readied for field deadlines by a command that set none is the master's alone, as in
    // Redis (see Hash.readyForDeadlines): OBJECT ENCODING says listpackex there, listpack on replicas.
    const encoding = text(runner(engine)("OBJECT", "ENCODING", key));
    out.push({ key, record, elements, encoding: encoding === "listpackex" ? "listpack" : encoding });
  }
  return out;
}

describe("one apply on master and replica", () => {
  for (const syncing of [false, true])
    it(`a master stores what its effects build on a replica, row for row${syncing ? " (a full sync in progress: RENAME, COPY and *STORE written whole)" : ""}`, () => {
      fc.assert(
        fc.property(fc.array(fc.oneof({ weight: 5, arbitrary: command.map((c) => [c]) }, { weight: 1, arbitrary: fc.array(command, { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 80, size: "max" }), (program) => {
          const p = enginePair();
          fullSync(p, 4096).finish();
          p.syncing.now = syncing;
          for (const step of program)
            if (step.length === 1) p.master.run({ mode: "single", commands: step, permission: "admin" });
            else p.master.run({ mode: "multi", commands: step, permission: "admin" });
          catchUp(p.master, p.replica, 512);
          expect(rows(p.replica)).toEqual(rows(p.master));
        }),
        { numRuns: 150 },
      );
    });
});

describe("the master's own writes, applied as effects", () => {
  const R = (engine: Engine) => runner(engine);

  it("a direct copy by SQLite in a MULTI whose failed calls had applied effects is stamped within the commit's offset", async () => {
    const scratch = env.NODE.get(env.NODE.idFromName("zz-one-apply-direct"));
    await inNode(scratch, (_node, state) => {
      const clock = new ManualClock(1_000_000);
      const master = new Engine(new SqliteStorage(state.storage), { clock, random: { next: () => 0.5, hex: (n) => "ab".repeat(n) }, replication: masterView({ now: false }) });
      const replica = new Engine(new MemoryStorage(), { clock, random: { next: () => 0.5, hex: (n) => "cd".repeat(n) }, role: "slave" });
      const r = R(master);
      r("FLUSHALL");
      r("SADD", "s", "a", "b");
      r("SET", "x", "1", "PX", "1");
      clock.advance(10);
      // Each RENAME deletes the expired x (an effect applied), then fails: its call is rolled back.
      master.run({ mode: "multi", commands: [...Array.from({ length: 100 }, () => ["RENAME", "x", "y"]), ["COPY", "s", "d"]], permission: "admin" });
      expect(r("SREM", "d", "a")).toBe(1);
      expect(r("SISMEMBER", "d", "a")).toBe(0);
      expect(r("SCARD", "d")).toBe(1);
      const p = { master, replica, clock, syncing: { now: false } };
      fullSync(p, 1 << 20).finish();
      catchUp(master, replica, 1 << 20);
      expect(digest(replica)).toBe(digest(master));
    });
  });

  it("a list respaced whole keeps its deadline, on the master and on its replicas", () => {
    const p = enginePair();
    fullSync(p, 4096).finish();
    const r = R(p.master);
    r("RPUSH", "L", "a", "b");
    // Each insert halves the room before b (65,536 apart): after 16 there is none left.
    for (let i = 0; i < 16; i++) r("LINSERT", "L", "BEFORE", "b", `x${i}`);
    r("LTRIM", "L", "-2", "-1");
    r("EXPIRE", "L", "1000");
    expect(r("LINSERT", "L", "BEFORE", "b", "y")).toBe(3);
    expect(r("TTL", "L")).toBe(1000);
    expect(r("LRANGE", "L", "0", "-1")).toEqual(["x15", "y", "b"].map((v) => new TextEncoder().encode(v)));
    catchUp(p.master, p.replica, 4096);
    expect(R(p.replica)("TTL", "L")).toBe(1000);
    expect(digest(p.replica)).toBe(digest(p.master));
  });

  it("HEXPIRE that sets no deadline logs nothing, as Redis propagates nothing (WATCH and keyspace events see no write)", () => {
    const p = enginePair();
    const r = R(p.master);
    r("HSET", "h", "f", "v");
    const before = p.master.log.offset;
    expect(r("HEXPIRE", "h", "100", "XX", "FIELDS", "2", "f", "nosuch")).toEqual([0, -2]);
    expect(p.master.log.offset).toBe(before);
    expect(text(r("OBJECT", "ENCODING", "h"))).toBe("listpackex");
  });

  it("RENAME of a hash readied for deadlines keeps listpackex while a full sync runs (the hash written whole)", () => {
    const p = enginePair();
    fullSync(p, 4096).finish();
    const r = R(p.master);
    r("HSET", "h", "f", "v");
    r("HEXPIRE", "h", "100", "FIELDS", "1", "f");
    r("HPERSIST", "h", "FIELDS", "1", "f");
    p.syncing.now = true;
    r("RENAME", "h", "h2");
    expect(text(r("OBJECT", "ENCODING", "h2"))).toBe("listpackex");
    catchUp(p.master, p.replica, 4096);
    expect(text(R(p.replica)("OBJECT", "ENCODING", "h2"))).toBe("listpackex");
  });

  it("copies of stored elements are not held to a value limit lowered since they were written (COPY, XDEL)", () => {
    const storage = new MemoryStorage();
    const clock = new ManualClock(1_000_000);
    const random = { next: () => 0.5, hex: (n: number) => "ab".repeat(n) };
    const big = "v".repeat(200_000);
    const before = R(new Engine(storage, { clock, random, maxValueBytes: 500_000 }));
    before("HSET", "h", "f", big);
    const id = before("XADD", "s", "*", "f", big);
    before("XADD", "s", "*", "g", "small");
    const after = R(new Engine(storage, { clock, random, maxValueBytes: 100_000 }));
    expect(() => after("HSET", "h", "g", big)).toThrow(/max single record size/);
    expect(after("COPY", "h", "h2")).toBe(1);
    expect(after("HSTRLEN", "h2", "f")).toBe(200_000);
    expect(after("XDEL", "s", text(id))).toBe(1);
    expect(after("XLEN", "s")).toBe(1);
  });

  it("RANDOMKEY finds the live key when every draw meets a key this MULTI deleted", () => {
    const p = enginePair(); // its random draws are all 0.5: the same key every time
    const r = R(p.master);
    for (const k of ["a", "b", "c", "d"]) r("SET", k, "1");
    const drawn = text(r("RANDOMKEY"));
    const out = p.master.run({ mode: "multi", commands: [["DEL", drawn], ["RANDOMKEY"]], permission: "admin" }) as { outcomes: { result: unknown }[] };
    const key = text(out.outcomes[1]!.result);
    expect(["a", "b", "c", "d"].filter((k) => k !== drawn)).toContain(key);
  });
});
