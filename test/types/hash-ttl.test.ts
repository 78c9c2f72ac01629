// Hash-field expiry (HEXPIRE and its kin, Redis 7.4; HGETDEL, HGETEX, HSETEX, Redis 8): deadlines
// on one engine with a manual clock, and through a replica (the master's sweep and reads delete,
// replicated as HDEL; a replica hides what is past its deadline meanwhile). The replies that do not
// depend on time are compared with redis-server 7.4's in test/conformance/hash-ttl.ts.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { digest } from "../../durable-objects/engine/replication/sync";
import { catchUp, enginePair, fullSync, runner } from "../support/engine-pair";

const T0 = 1_000_000;

function solo() {
  const clock = new ManualClock(T0);
  const engine = new Engine(new MemoryStorage(), { clock, random: { next: () => 0.5, hex: (n) => "ab".repeat(n) } });
  return { clock, engine, run: runner(engine) };
}

const enc = (...s: string[]) => s.map((x) => new TextEncoder().encode(x));
const info = (engine: Engine, field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(engine.info(["stats"]))![1]);

describe("hash-field deadlines on one engine", () => {
  it("HEXPIRE, HTTL, HPERSIST and the field gone for every read at its deadline", () => {
    const { clock, engine, run } = solo();
    run("HSET", "h", "a", "1", "b", "2", "c", "3");
    expect(run("HEXPIRE", "h", 10, "FIELDS", 2, "a", "nope")).toEqual([1, -2]);
    expect(run("HPEXPIRE", "h", 5000, "NX", "FIELDS", 2, "a", "b")).toEqual([0, 1]);
    expect(run("HTTL", "h", "FIELDS", 3, "a", "b", "c")).toEqual([10, 5, -1]);
    expect(run("HPEXPIRETIME", "h", "FIELDS", 1, "b")).toEqual([T0 + 5000]);
    expect(run("OBJECT", "ENCODING", "h")).toEqual(new TextEncoder().encode("listpackex"));
    clock.advance(5000);
    // b is due: every read leaves it out; HLEN counts it until it is deleted, as Redis's does.
    expect(run("HGETALL", "h")).toEqual(enc("a", "1", "c", "3"));
    expect(run("HKEYS", "h")).toEqual(enc("a", "c"));
    expect(run("HLEN", "h")).toBe(3);
    expect(run("HEXISTS", "h", "b")).toBe(0); // a read on the master deletes it
    expect(run("HLEN", "h")).toBe(2);
    expect(info(engine, "expired_subkeys")).toBe(1);
    expect(run("HPERSIST", "h", "FIELDS", 3, "a", "c", "b")).toEqual([1, -1, -2]);
    expect(run("HTTL", "h", "FIELDS", 1, "a")).toEqual([-1]);
    clock.advance(60_000);
    expect(run("HGET", "h", "a")).toEqual(enc("1")[0]);
  });

  it("the sweep deletes fields at their deadline and the hash with its last one", () => {
    const { clock, engine, run } = solo();
    run("HSET", "h", "a", "1", "b", "2");
    run("HSET", "keep", "x", "1", "y", "2");
    run("HPEXPIRE", "h", 100, "FIELDS", 2, "a", "b");
    run("HPEXPIRE", "keep", 200, "FIELDS", 1, "x");
    expect(engine.nextDeadline()).toBe(T0 + 100);
    clock.advance(100);
    expect(engine.sweep(10)).toBe(2);
    expect(run("EXISTS", "h")).toBe(0);
    expect(engine.nextDeadline()).toBe(T0 + 200);
    clock.advance(100);
    expect(engine.sweep(10)).toBe(1);
    expect(run("HGETALL", "keep")).toEqual(enc("y", "2"));
    expect(engine.nextDeadline()).toBe(null);
    expect(info(engine, "expired_subkeys")).toBe(3);
    expect(run("OBJECT", "ENCODING", "keep")).toEqual(new TextEncoder().encode("listpackex")); // as Redis, it stays ready for deadlines
  });

  it("a stale bound (a field's deadline removed) makes the sweep exact, deleting nothing", () => {
    const { clock, engine, run } = solo();
    run("HSET", "h", "a", "1", "b", "2");
    run("HPEXPIRE", "h", 100, "FIELDS", 1, "a");
    run("HPEXPIRE", "h", 500, "FIELDS", 1, "b");
    run("HPERSIST", "h", "FIELDS", 1, "a");
    clock.advance(100);
    expect(engine.sweep(10)).toBe(0);
    expect(engine.nextDeadline()).toBe(T0 + 500);
    expect(run("HLEN", "h")).toBe(2);
  });

  it("HINCRBY and HSETEX KEEPTTL keep a deadline, HSET drops it; a field past it is new to HINCRBY", () => {
    const { clock, run } = solo();
    run("HSET", "h", "n", "5", "m", "1");
    run("HPEXPIRE", "h", 1000, "FIELDS", 2, "n", "m");
    expect(run("HINCRBY", "h", "n", 2)).toBe(7);
    expect(run("HPEXPIRETIME", "h", "FIELDS", 1, "n")).toEqual([T0 + 1000]);
    expect(run("HSETEX", "h", "KEEPTTL", "FIELDS", 1, "n", "9")).toBe(1);
    expect(run("HPEXPIRETIME", "h", "FIELDS", 1, "n")).toEqual([T0 + 1000]);
    run("HSET", "h", "m", "2");
    expect(run("HPEXPIRETIME", "h", "FIELDS", 1, "m")).toEqual([-1]);
    clock.advance(1000);
    expect(run("HINCRBY", "h", "n", 1)).toBe(1);
    expect(run("HTTL", "h", "FIELDS", 1, "n")).toEqual([-1]);
  });

  it("HGETEX, HSETEX and HGETDEL set, clear and delete", () => {
    const { clock, run } = solo();
    expect(run("HSETEX", "h", "FNX", "PX", 300, "FIELDS", 2, "a", "1", "b", "2")).toBe(1);
    expect(run("HSETEX", "h", "FNX", "FIELDS", 1, "a", "x")).toBe(0);
    expect(run("HSETEX", "h", "FXX", "FIELDS", 2, "a", "x", "c", "y")).toBe(0);
    expect(run("HPTTL", "h", "FIELDS", 2, "a", "b")).toEqual([300, 300]);
    expect(run("HGETEX", "h", "PERSIST", "FIELDS", 2, "a", "zz")).toEqual([enc("1")[0], null]);
    expect(run("HPTTL", "h", "FIELDS", 1, "a")).toEqual([-1]);
    expect(run("HGETEX", "h", "EX", 0, "FIELDS", 1, "a")).toEqual([enc("1")[0]]);
    expect(run("HEXISTS", "h", "a")).toBe(0);
    clock.advance(300);
    expect(run("HGETDEL", "h", "FIELDS", 2, "b", "b")).toEqual([null, null]);
    expect(run("EXISTS", "h")).toBe(0);
    expect(run("HSETEX", "h", "FXX", "FIELDS", 1, "a", "1")).toBe(0);
    expect(run("EXISTS", "h")).toBe(0);
  });
});

describe("hash-field deadlines through a replica", () => {
  it("HPEXPIREAT, HPERSIST and the sweep's HDELs arrive; the replica hides due fields meanwhile", () => {
    const p = enginePair();
    const m = runner(p.master);
    const r = runner(p.replica);
    fullSync(p, 1024).finish();
    m("HSET", "h", "a", "1", "b", "2", "c", "3");
    m("HPEXPIRE", "h", 100, "FIELDS", 2, "a", "b");
    m("HINCRBY", "h", "a", 1);
    m("HPERSIST", "h", "FIELDS", 1, "b");
    catchUp(p.master, p.replica, 1 << 20);
    expect(r("HPEXPIRETIME", "h", "FIELDS", 3, "a", "b", "c")).toEqual([T0 + 100, -1, -1]);
    expect(digest(p.replica)).toBe(digest(p.master));
    p.clock.advance(100);
    // Before the master's sweep: the replica leaves the field out, deleting nothing.
    expect(r("HGET", "h", "a")).toBe(null);
    expect(r("HRANDFIELD", "h", -5)).toEqual(enc("c", "c", "c", "c", "c"));
    expect(r("HRANDFIELD", "h")).toEqual(enc("c")[0]);
    expect(r("HLEN", "h")).toBe(3);
    expect(p.master.sweep(10)).toBe(1);
    catchUp(p.master, p.replica, 1 << 20);
    expect(r("HLEN", "h")).toBe(2);
    expect(digest(p.replica)).toBe(digest(p.master));
  });

  it("a full sync carries the deadlines", () => {
    const p = enginePair();
    const m = runner(p.master);
    m("HSET", "h", ...Array.from({ length: 300 }, (_, i) => [`f${i}`, `${i}`]).flat());
    for (let i = 0; i < 300; i += 3) m("HPEXPIRE", "h", 1000 + i, "FIELDS", 1, `f${i}`);
    fullSync(p, 2048).finish();
    expect(digest(p.replica)).toBe(digest(p.master));
    expect(runner(p.replica)("HPEXPIRETIME", "h", "FIELDS", 2, "f3", "f4")).toEqual([T0 + 1003, -1]);
  });

  it("a deadline set while a full sync is under way reaches the replica's header with its field", () => {
    const p = enginePair();
    const m = runner(p.master);
    m("HSET", "h", ...Array.from({ length: 300 }, (_, i) => [`f${String(i).padStart(3, "0")}`, "v"]).flat());
    const sync = fullSync(p, 1024);
    sync.chunk();
    m("HPEXPIRE", "h", 100, "FIELDS", 1, "f299");
    m("SET", "other", "x"); // the next chunk is read after the HPEXPIREAT
    sync.finish();
    catchUp(p.master, p.replica, 1 << 20);
    const r = runner(p.replica);
    expect(r("OBJECT", "ENCODING", "h")).toEqual(new TextEncoder().encode("hashtable"));
    expect(p.replica.storage.keys.get("h")!.fieldsExpireAt).toBe(T0 + 100);
    p.clock.advance(200);
    expect(r("HGET", "h", "f299")).toBe(null);
    expect(r("HRANDFIELD", "h", -300)).not.toContainEqual(enc("f299")[0]);
  });

  it("a replica reads the whole hash for HRANDFIELD only while a field is past its deadline there", () => {
    const p = enginePair();
    fullSync(p, 1024).finish();
    const m = runner(p.master);
    m("HSET", "h", ...Array.from({ length: 200 }, (_, i) => [`f${i}`, "v"]).flat());
    m("HPEXPIRE", "h", 100, "FIELDS", 1, "f7");
    catchUp(p.master, p.replica, 1 << 20);
    p.clock.advance(100);
    expect(p.master.sweep(10)).toBe(1);
    catchUp(p.master, p.replica, 1 << 20);
    const elements = p.replica.storage.elements;
    const page = elements.page.bind(elements);
    let rows = 0;
    elements.page = (eid, after, limit) => {
      const out = page(eid, after, limit);
      rows += out.length;
      return out;
    };
    expect((runner(p.replica)("HRANDFIELD", "h", 3) as unknown[]).length).toBe(3);
    expect(rows).toBe(0);
  });
});

describe("counts and argument checks as Redis's", () => {
  it("a deadline already past counts its field in expired_subkeys, as Redis 7.4 does", () => {
    const { engine, run } = solo();
    run("HSET", "h", "a", "1", "b", "2");
    expect(run("HPEXPIRE", "h", 0, "FIELDS", 1, "a")).toEqual([2]);
    expect(info(engine, "expired_subkeys")).toBe(1);
  });

  it("HGETEX with a past deadline deletes each field as it reads it: a repeat reads nothing", () => {
    const { run } = solo();
    run("HSET", "h", "a", "1", "b", "2");
    expect(run("HGETEX", "h", "PXAT", 1, "FIELDS", 2, "a", "a")).toEqual([enc("1")[0], null]);
    expect(run("HGETALL", "h")).toEqual(enc("b", "2"));
  });

  it("HGETEX: no field count after its option is an arity error (redis-server 8.0.6's answers)", () => {
    const { run } = solo();
    expect(() => run("HGETEX", "k1", "PXAT", "4102534413357", "NX")).toThrow("ERR wrong number of arguments for 'hgetex' command");
    expect(() => run("HGETEX", "k1", "PX", "72792535", "FIELDS")).toThrow("ERR wrong number of arguments for 'hgetex' command");
    expect(() => run("HGETEX", "k1", "PERSIST", "FIELDS", "x")).toThrow("ERR Number of fields must be a positive integer");
    expect(() => run("HGETEX", "k1", "NX", "FIELDS", "1")).toThrow("ERR Mandatory argument FIELDS is missing or not at the right position");
  });

  it("HSETEX: fewer than three arguments after FIELDS is an arity error; the deadline is checked before the key's type", () => {
    const { run } = solo();
    run("SET", "s", "x");
    expect(() => run("HSETEX", "k", "EX", 10, "FIELDS", 0, "f")).toThrow("ERR wrong number of arguments for 'hsetex' command");
    expect(() => run("HSETEX", "s", "PX", "70368744177000", "FIELDS", 1, "f", "v")).toThrow("ERR invalid expire time in 'hsetex' command");
    expect(() => run("HSETEX", "nokey", "FXX", "PX", "70368744177000", "FIELDS", 1, "f", "v")).toThrow("ERR invalid expire time in 'hsetex' command");
  });
});
