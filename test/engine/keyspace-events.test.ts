// Keyspace notifications (notify-keyspace-events) as the master makes them: each command's events
// in Redis's order and classes, a lookup's or the sweep's `expired`, eviction's `evicted`, none
// for classes not asked for, none at all by default. The same commands against redis-server are
// compared in test/interop/keyspace-events.test.ts.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import type { Engine } from "../../durable-objects/engine/engine";
import { newEngine, run } from "../support/fixtures";

/** The events of `argv`, as `event key` (from the keyevent channel). */
function eventsOf(engine: Engine, ...argv: string[]): string[] {
  run(engine, ...argv);
  return engine.notifications.take().filter((m) => m.channel.startsWith("__keyevent@0__:")).map((m) => `${m.channel.slice(15)} ${m.message}`);
}

describe("keyspace notifications", () => {
  it("are off by default", () => {
    const engine = newEngine();
    run(engine, "SET", "k", "v");
    expect(engine.notifications.take()).toEqual([]);
  });

  it("publish each event on the keyspace and the keyevent channels, as K and E ask", () => {
    const engine = newEngine();
    run(engine, "CONFIG", "SET", "notify-keyspace-events", "KA");
    run(engine, "SET", "k", "v");
    expect(engine.notifications.take()).toEqual([{ channel: "__keyspace@0__:k", message: "set" }]);
    run(engine, "CONFIG", "SET", "notify-keyspace-events", "KEA");
    run(engine, "SET", "k", "v");
    expect(engine.notifications.take()).toEqual([
      { channel: "__keyspace@0__:k", message: "set" },
      { channel: "__keyevent@0__:set", message: "k" },
    ]);
    // A class not asked for: nothing; the generic class alone: DEL's only.
    run(engine, "CONFIG", "SET", "notify-keyspace-events", "Eg");
    expect(eventsOf(engine, "SET", "k", "v")).toEqual([]);
    expect(eventsOf(engine, "DEL", "k")).toEqual(["del k"]);
  });

  it("name each command's events as Redis does, a collection's emptying after its command's", () => {
    const engine = newEngine();
    run(engine, "CONFIG", "SET", "notify-keyspace-events", "EA");
    expect(eventsOf(engine, "SET", "s", "1", "EX", "100")).toEqual(["set s", "expire s"]);
    expect(eventsOf(engine, "INCRBY", "s", "2")).toEqual(["incrby s"]);
    expect(eventsOf(engine, "DECR", "s")).toEqual(["incrby s"]);
    expect(eventsOf(engine, "PERSIST", "s")).toEqual(["persist s"]);
    expect(eventsOf(engine, "RPUSH", "l", "a")).toEqual(["rpush l"]);
    expect(eventsOf(engine, "LMOVE", "l", "m", "LEFT", "RIGHT")).toEqual(["rpush m", "lpop l", "del l"]);
    expect(eventsOf(engine, "SADD", "x", "a")).toEqual(["sadd x"]);
    expect(eventsOf(engine, "SADD", "x", "a")).toEqual([]);
    expect(eventsOf(engine, "SMOVE", "x", "y", "a")).toEqual(["srem x", "del x", "sadd y"]);
    expect(eventsOf(engine, "HSET", "h", "f", "v")).toEqual(["hset h"]);
    expect(eventsOf(engine, "HDEL", "h", "f")).toEqual(["hdel h", "del h"]);
    expect(eventsOf(engine, "ZADD", "z", "INCR", "1", "a")).toEqual(["zincr z"]);
    expect(eventsOf(engine, "RENAME", "z", "z2")).toEqual(["rename_from z", "rename_to z2"]);
    expect(eventsOf(engine, "SINTERSTORE", "dst", "nothing")).toEqual([]);
    expect(eventsOf(engine, "SUNIONSTORE", "dst", "y")).toEqual(["sunionstore dst"]);
    expect(eventsOf(engine, "SINTERSTORE", "dst", "nothing")).toEqual(["del dst"]);
    expect(eventsOf(engine, "EXPIRE", "z2", "-1")).toEqual(["del z2"]);
    expect(eventsOf(engine, "MSET", "a", "1", "b", "2")).toEqual(["set a", "set b"]);
    expect(eventsOf(engine, "DEL", "a", "b", "missing")).toEqual(["del a", "del b"]);
  });

  it("name a script's commands' events, in order", () => {
    const engine = newEngine();
    run(engine, "CONFIG", "SET", "notify-keyspace-events", "EA");
    expect(eventsOf(engine, "EVAL", "redis.call('set', KEYS[1], 'v'); redis.call('lpush', KEYS[2], 'x'); return 1", "2", "a", "b")).toEqual(["set a", "lpush b"]);
  });

  it("say `expired` when a lookup or the sweep finds a key past its deadline", () => {
    const clock = new ManualClock();
    const engine = newEngine(clock);
    run(engine, "CONFIG", "SET", "notify-keyspace-events", "Ex");
    run(engine, "SET", "a", "1", "PX", "10");
    run(engine, "SET", "b", "1", "PX", "10");
    clock.advance(20);
    expect(eventsOf(engine, "GET", "a")).toEqual(["expired a"]);
    engine.sweep();
    expect(engine.notifications.take()).toEqual([{ channel: "__keyevent@0__:expired", message: "b" }]);
  });

  it("say `evicted` for a key maxmemory's policy removes, before the write that needed the room", () => {
    const engine = newEngine();
    run(engine, "CONFIG", "SET", "notify-keyspace-events", "Eeg$");
    for (let i = 0; i < 5; i++) run(engine, "SET", `k${i}`, "x".repeat(100));
    engine.notifications.take();
    // Room for fewer keys: the next write evicts (allkeys-lru samples keys: which ones is its choice).
    run(engine, "CONFIG", "SET", "maxmemory", "400", "maxmemory-policy", "allkeys-lru");
    const events = eventsOf(engine, "SET", "k5", "x".repeat(100));
    expect(events.at(-1)).toBe("set k5");
    expect(events.length).toBeGreaterThan(1);
    expect(events.slice(0, -1).every((e) => e.startsWith("evicted "))).toBe(true);
  });

  it("name hash field deadlines' events as Redis 7.4 does: hexpire, hpersist, hexpired, hdel", () => {
    const clock = new ManualClock();
    const engine = newEngine(clock);
    run(engine, "CONFIG", "SET", "notify-keyspace-events", "EA");
    run(engine, "HSET", "h", "a", "1", "b", "2", "c", "3");
    engine.notifications.take();
    expect(eventsOf(engine, "HEXPIRE", "h", "100", "FIELDS", "1", "a")).toEqual(["hexpire h"]);
    expect(eventsOf(engine, "HPERSIST", "h", "FIELDS", "1", "a")).toEqual(["hpersist h"]);
    expect(eventsOf(engine, "HPERSIST", "h", "FIELDS", "1", "a")).toEqual([]);
    run(engine, "HPEXPIRE", "h", "10", "FIELDS", "1", "b");
    engine.notifications.take();
    clock.advance(20);
    expect(eventsOf(engine, "HGET", "h", "b")).toEqual(["hexpired h"]);
    expect(eventsOf(engine, "HEXPIREAT", "h", "1", "FIELDS", "1", "a")).toEqual(["hdel h"]);
    expect(eventsOf(engine, "HEXPIREAT", "h", "1", "FIELDS", "1", "c")).toEqual(["hdel h", "del h"]);
  });

  it("make no event of a command's own on a key it found past its deadline; follow Redis's special cases (review)", () => {
    const clock = new ManualClock();
    const engine = newEngine(clock);
    run(engine, "CONFIG", "SET", "notify-keyspace-events", "EA");
    run(engine, "SET", "k", "v", "PX", "10");
    run(engine, "RPUSH", "l", "a");
    run(engine, "PEXPIRE", "l", "10");
    engine.notifications.take();
    clock.advance(20);
    expect(eventsOf(engine, "SET", "k", "w", "XX")).toEqual(["expired k"]);
    expect(eventsOf(engine, "LPOP", "l")).toEqual(["expired l"]);
    expect(eventsOf(engine, "ZADD", "z", "1", "incr")).toEqual(["zadd z"]);
    run(engine, "SADD", "s1", "a");
    run(engine, "SADD", "s2", "a");
    engine.notifications.take();
    expect(eventsOf(engine, "SMOVE", "s1", "s2", "a")).toEqual(["srem s1", "del s1"]);
    run(engine, "RPUSH", "t", "a", "b");
    engine.notifications.take();
    expect(eventsOf(engine, "LTRIM", "t", "0", "-1")).toEqual(["ltrim t"]);
    expect(eventsOf(engine, "GETEX", "z2", "PERSIST")).toEqual([]);
    run(engine, "SET", "g", "v");
    engine.notifications.take();
    expect(eventsOf(engine, "GETEX", "g", "PERSIST")).toEqual([]);
    expect(eventsOf(engine, "MSET", "a", "1", "a", "2")).toEqual(["set a", "set a"]);
  });
});
