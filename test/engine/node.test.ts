// The node Durable Object in workerd: expiry (lazy, and the active sweep on its one alarm, with an
// injected clock), durability across eviction and abort, and a keyspace larger than the hot cache.
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ManualClock, systemClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { SqliteStorage } from "../../durable-objects/sqlite/sqlite-storage";
import { fixedRandom } from "../support/fixtures";
import { call, drainAlarms, inNode, redis } from "../support/helpers";
import { str } from "../../durable-objects/sqlite/sql";

const primary = () => env.NODE.get(env.NODE.idFromName("enam"));



/** Gives the primary node a manual clock starting now; returns it. */
async function manualClock(): Promise<ManualClock> {
  const clock = new ManualClock(Date.now());
  await inNode(primary(), (node) => {
    node.clock = clock;
  });
  return clock;
}

/** Rows in the node's keyspace table, expired or not (the keys its storage deferred stored first). */
const storedKeys = () =>
  inNode(primary(), (node, state) => {
    node.core.engine.storage.storeDeferred();
    return state.storage.sql.exec<{ key: ArrayBuffer }>("SELECT key FROM keyspace ORDER BY key").toArray().map((r) => str(r.key));
  });

const info = async (section: string) => String(await redis("INFO", section));

beforeEach(async () => {
  await redis("FLUSHALL");
});

afterEach(async () => {
  const clock = await manualClock();
  await drainAlarms("enam", clock);
  await inNode(primary(), (node) => {
    node.clock = systemClock;
  });
});

describe("expiry", () => {
  it("never returns a key after its deadline (lazy expiry on access)", async () => {
    const clock = await manualClock();
    await redis("SET", "a", "v", "PX", 1000);
    clock.advance(999);
    expect(await redis("GET", "a")).toBe("v");
    expect(await redis("PTTL", "a")).toBe(1);
    clock.advance(1);
    expect(await redis("GET", "a")).toBeNull();
    expect(await redis("EXISTS", "a")).toBe(0);
    expect(await redis("TTL", "a")).toBe(-2);
    expect(await storedKeys()).toEqual([]);
    expect(await info("stats")).toMatch(/expired_keys:1\r\n/);
  });

  it("removes keys never read again with the active sweep, on the node's alarm", async () => {
    const clock = await manualClock();
    const before = Number((await info("stats")).match(/expired_keys:(\d+)/)![1]);
    await redis("SET", "soon", "v", "PX", 1000);
    await redis("SET", "later", "v", "PX", 5000);
    await redis("SET", "never", "v");
    // The alarm is armed for the earliest deadline.
    const alarm = await inNode(primary(), (node) => node.alarmAt());
    expect(alarm).not.toBeNull();
    expect(alarm! - clock.now()).toBeLessThanOrEqual(1000);

    clock.advance(1500);
    expect(await runDurableObjectAlarm(primary())).toBe(true);
    expect(await storedKeys()).toEqual(["later", "never"]);
    // Re-armed for the next deadline.
    const next = await inNode(primary(), (_n, state) => state.storage.getAlarm());
    expect(next).not.toBeNull();

    clock.advance(5000);
    expect(await runDurableObjectAlarm(primary())).toBe(true);
    expect(await storedKeys()).toEqual(["never"]);
    expect(await info("stats")).toMatch(new RegExp(`expired_keys:${before + 2}\\r\\n`));
    expect(await redis("DBSIZE")).toBe(1);
  });

  it("sweeps a large batch of due keys over several alarm runs", async () => {
    const clock = await manualClock();
    const commands = Array.from({ length: 2500 }, (_, i) => ["SET", `k${i}`, "v", "PX", 100 + i]);
    for (let i = 0; i < commands.length; i += 500)
      expect((await call(commands.slice(i, i + 500), { path: "/pipeline" })).status).toBe(200);
    clock.advance(10_000);
    let runs = 0;
    while ((await storedKeys()).length > 0 && runs < 50) if (await runDurableObjectAlarm(primary())) runs++;
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(await storedKeys()).toEqual([]);
    expect(await redis("DBSIZE")).toBe(0);
  });
});

describe("far-future deadlines", () => {
  it("accepts Redis's bounds, keeps serving across restarts, and still expires nearer keys", async () => {
    const clock = await manualClock();
    await redis("SET", "forever", "v", "EXAT", "9999999999");
    await redis("SET", "px", "v", "PX", "9007199254740991");
    await redis("SET", "pexpireat", "v");
    expect(await redis("PEXPIREAT", "pexpireat", "9007199254740991")).toBe(1);
    await redis("SET", "expire", "v");
    expect(await redis("EXPIRE", "expire", "9007199254740")).toBe(1);
    expect(await redis("TTL", "expire")).toBe(9007199254740);
    expect(await redis("PEXPIRETIME", "pexpireat")).toBe(9007199254740991);
    // Past a long long: Redis's error, nothing changed.
    for (const argv of [["EXPIRE", "expire", "9223372036854776"], ["PEXPIRE", "expire", "9223372036854775807"], ["SET", "x", "v", "EX", "9223372036854776"]]) {
      const r = await call(argv);
      expect(r.json.error, argv.join(" ")).toMatch(/^ERR invalid expire time in '(expire|pexpire|set)' command$/);
    }
    expect(await redis("TTL", "expire")).toBe(9007199254740);
    expect(await redis("EXISTS", "x")).toBe(0);
    // The alarm is capped within the runtime's range; the node keeps serving, also after a restart.
    const alarm = await inNode(primary(), (node) => node.alarmAt());
    expect(alarm === null || alarm < clock.now() + 2 * 24 * 3600 * 1000).toBe(true);
    expect(await runDurableObjectAlarm(primary())).toBe(true);
    // A restart with no alarm pending: start-up arms it for the stored deadlines.
    await inNode(primary(), (_n, state) => state.storage.deleteAlarm());
    await evictDurableObject(primary());
    const clock2 = await manualClock();
    expect(await redis("PING")).toBe("PONG");
    expect(await redis("GET", "forever")).toBe("v");
    await redis("SET", "soon", "v", "PX", 1000);
    clock2.advance(1500);
    expect(await runDurableObjectAlarm(primary())).toBe(true);
    expect(await storedKeys()).toEqual(["expire", "forever", "pexpireat", "px"]);
    // With the far-future keys gone, an early alarm finds no deadline: only the idle pings remain.
    await redis("FLUSHALL");
    for (let i = 0; i < 3; i++) {
      clock2.advance(25 * 3600 * 1000);
      await runDurableObjectAlarm(primary());
    }
    const timers = await inNode(primary(), (node) => node.core.timers.names());
    expect(timers).toEqual(["heartbeat"]);
    void clock;
  });
});

describe("durability", () => {
  it("keeps acknowledged writes, replid and offset across eviction", async () => {
    await redis("SET", "k", "v");
    await redis("INCRBY", "n", 5);
    const before = await info("replication");
    await evictDurableObject(primary());
    expect(await redis("GET", "k")).toBe("v");
    expect(await redis("GET", "n")).toBe("5");
    const after = await info("replication");
    const field = (text: string, name: string) => text.match(new RegExp(`${name}:(\\S+)`))![1];
    expect(field(after, "master_replid")).toBe(field(before, "master_replid"));
    expect(field(after, "master_repl_offset")).toBe(field(before, "master_repl_offset"));
  });

  it("keeps acknowledged writes when the object is aborted (as on a crash)", async () => {
    await call(
      Array.from({ length: 100 }, (_, i) => ["SET", `k${i}`, `v${i}`]),
      { path: "/pipeline" },
    );
    await call([["SET", "m", "1"], ["INCR", "m"]], { path: "/multi-exec" });
    await abortAllDurableObjects();
    expect(await redis("DBSIZE")).toBe(101);
    expect(await redis("GET", "k99")).toBe("v99");
    expect(await redis("GET", "m")).toBe("2");
  });

  it("keeps the expiry alarm across eviction", async () => {
    await redis("SET", "t", "v", "PX", 60_000);
    await evictDurableObject(primary());
    const clock = await manualClock();
    clock.advance(61_000);
    expect(await runDurableObjectAlarm(primary())).toBe(true);
    expect(await storedKeys()).toEqual([]);
  });
});

describe("a keyspace larger than the hot cache", () => {
  it("serves every key from SQLite when the cache holds only a few", async () => {
    const scratch = env.NODE.get(env.NODE.idFromName("scratch-cache"));
    await inNode(scratch, (_node, state) => {
      const engine = new Engine(new SqliteStorage(state.storage), {
        clock: new ManualClock(),
        random: fixedRandom,
        cacheBytes: 4096,
      });
      const run = (...argv: string[]) => engine.run({ mode: "single", commands: [argv], permission: "admin" });
      const value = "x".repeat(1000);
      for (let i = 0; i < 500; i++) run("SET", `key:${i}`, `${i}:${value}`);
      expect(engine.keyspace.cacheBytes).toBeLessThanOrEqual(4096);
      for (let i = 0; i < 500; i += 7) {
        const r = run("GET", `key:${i}`);
        expect("outcomes" in r && new TextDecoder().decode((r.outcomes[0] as { result: Uint8Array }).result)).toBe(`${i}:${value}`);
      }
      expect(run("DBSIZE")).toMatchObject({ outcomes: [{ result: 500 }] });
      expect(run("APPEND", "key:3", "!")).toMatchObject({ outcomes: [{ result: 1003 }] });
    });
  });
});

describe("a script's log lines", () => {
  it("print the script's bytes as UTF-8 text", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      expect(await redis("EVAL", "redis.log(redis.LOG_WARNING, 'café', ARGV[1]) return 1", "0", "😀")).toBe(1);
      expect(warn.mock.calls.map((c) => String(c[0]))).toContainEqual(expect.stringMatching(/script: café 😀$/));
    } finally {
      warn.mockRestore();
    }
  });
});
