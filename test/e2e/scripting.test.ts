// Lua scripting end to end (issue 25): the official @upstash/redis client and @upstash/ratelimit,
// unchanged, against the real worker and its four nodes over loopback HTTP; the limiters across
// a failover (POST /admin/failover), a writing script's replication, and a script that never ends.
import { createHash } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestsWhenCaughtUp, startFlaredis } from "./start";

let server: Awaited<ReturnType<typeof startFlaredis>>;
let redis: Redis;

async function send(path: string, body: unknown, token = "dev-admin-token") {
  const r = await fetch(`${server.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as any };
}

beforeAll(async () => {
  server = await startFlaredis();
  redis = new Redis({ url: server.url, token: "dev-token", retry: false });
});
afterAll(async () => {
  await server?.dispose();
});

describe("scripts through @upstash/redis", () => {
  it("EVAL, EVALSHA with NOSCRIPT and the client's fallback to EVAL, SCRIPT LOAD, EXISTS and FLUSH", async () => {
    await redis.flushall();
    expect(await redis.eval("return {KEYS[1], ARGV[1], redis.call('incrby', KEYS[1], ARGV[1])}", ["n"], ["5"])).toEqual(["n", 5, 5]);
    const script = redis.createScript<number>("return redis.call('incr', KEYS[1])");
    await expect(redis.evalsha("ffffffffffffffffffffffffffffffffffffffff", [], [])).rejects.toThrow("NOSCRIPT No matching script. Please use EVAL.");
    expect(await script.exec(["n"], [])).toBe(6); // EVALSHA: NOSCRIPT, then EVAL
    expect(await script.evalsha(["n"], [])).toBe(7); // cached by the EVAL
    const sha = await redis.scriptLoad("return ARGV[1] .. ARGV[2]");
    expect(sha).toBe(createHash("sha1").update("return ARGV[1] .. ARGV[2]").digest("hex"));
    expect(await redis.evalsha(sha, [], ["a", "b"])).toBe("ab");
    expect(await redis.scriptExists(sha, "ffffffffffffffffffffffffffffffffffffffff")).toEqual([1, 0]);
    expect(await redis.scriptFlush()).toBe("OK");
    expect(await redis.scriptExists(sha)).toEqual([0]);
    await expect(redis.eval("return redis.call('nosuch')", [], [])).rejects.toThrow(/ERR Unknown Redis command called from script script: [0-9a-f]{40}, on @user_script:1\.$/);
  });

  it("EVAL_RO reads at a replica (with the client's read-your-writes) and refuses writes", async () => {
    await redis.set("ro", "v");
    expect(await redis.evalRo("return redis.call('get', KEYS[1])", ["ro"], [])).toBe("v");
    await expect(redis.evalRo("return redis.call('set', KEYS[1], 'x')", ["ro"], [])).rejects.toThrow(/ERR Write commands are not allowed from read-only scripts\./);
    // An EVAL whose script declares no-writes is a read too: a client in Paris gets the weur replica.
    const paris = { authorization: "Bearer dev-token", "MF-CF-Blob": JSON.stringify({ latitude: "48.86", longitude: "2.35" }) };
    const r = await fetch(`${server.url}/`, { method: "POST", headers: paris, body: JSON.stringify(["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "ro"]) });
    expect(await r.json()).toEqual({ result: "v" });
    expect(r.headers.get("flaredis-served-by")).toBe("replica:weur");
    const reader = new Redis({ url: server.url, token: "dev-readonly-token", retry: false });
    expect(await reader.evalRo("return redis.call('get', KEYS[1])", ["ro"], [])).toBe("v");
    await expect(reader.eval("return 1", [], [])).rejects.toThrow("NOPERM");
  });

  it("a writing script replicates as one transaction: every node ends with the primary's digest", async () => {
    const script = "for i = 1, 200 do redis.call('hset', KEYS[1], 'f' .. i, i) redis.call('zadd', KEYS[2], i, 'm' .. i) end redis.call('pexpire', KEYS[1], 600000) return redis.call('hlen', KEYS[1])";
    expect(await redis.eval(script, ["sh", "sz"], [])).toBe(200);
    expect(new Set((await digestsWhenCaughtUp(server.url)).values()).size).toBe(1);
  });

  it("a script that never ends is stopped with a clear error, keeps nothing it wrote, and the node goes on serving", async () => {
    expect((await send("/", ["CONFIG", "SET", "busy-reply-threshold", "200"])).json).toEqual({ result: "OK" });
    await expect(redis.eval("redis.call('set', KEYS[1], 'x') while true do end", ["never"], [])).rejects.toThrow(
      /BUSY Script stopped after running past busy-reply-threshold \(200 ms of work\); nothing it wrote was kept/,
    );
    expect(await redis.exists("never")).toBe(0);
    expect(await redis.ping()).toBe("PONG");
    expect((await send("/", ["CONFIG", "SET", "busy-reply-threshold", "5000"])).json).toEqual({ result: "OK" });
  });
});

describe("@upstash/ratelimit, unchanged", () => {
  const DAY = 24 * 3600 * 1000;
  // A day's window: no test run crosses a window's end (the fixed windows are aligned to the epoch).
  const limiters = {
    fixedWindow: () => Ratelimit.fixedWindow(5, "1 d"),
    slidingWindow: () => Ratelimit.slidingWindow(5, "1 d"),
    tokenBucket: () => Ratelimit.tokenBucket(5, "1 d", 5),
    cachedFixedWindow: () => Ratelimit.cachedFixedWindow(5, "1 d"),
  };
  const limiterOf = (name: keyof typeof limiters) =>
    new Ratelimit({ redis, limiter: limiters[name](), prefix: `rl:${name}`, analytics: false, ephemeralCache: name === "cachedFixedWindow" ? new Map() : false });

  it("each limiter allows exactly its limit per window and blocks the rest, also right after a failover", async () => {
    await redis.flushall();
    const windowEnd = (Math.floor(Date.now() / DAY) + 1) * DAY;
    const before = Object.keys(limiters).map((name) => limiterOf(name as keyof typeof limiters));
    for (const [i, rl] of before.entries()) {
      const name = Object.keys(limiters)[i]!;
      for (const remaining of [4, 3, 2]) {
        const r = await rl.limit("user");
        await r.pending;
        expect({ name, success: r.success, remaining: r.remaining, limit: r.limit }).toEqual({ name, success: true, remaining, limit: 5 });
        if (name !== "tokenBucket") expect(r.reset).toBe(windowEnd);
      }
    }
    const failover = await send("/admin/failover", { to: "weur" });
    expect(failover).toMatchObject({ status: 200, json: { primary: "weur" } });
    // New limiters (an empty local cache): the counts come from the new primary, whose script cache is empty (NOSCRIPT, then EVAL).
    const after = Object.keys(limiters).map((name) => limiterOf(name as keyof typeof limiters));
    for (const [i, rl] of after.entries()) {
      const name = Object.keys(limiters)[i]!;
      const seen: [boolean, number][] = [];
      for (let n = 0; n < 5; n++) {
        const r = await rl.limit("user");
        await r.pending;
        seen.push([r.success, Math.max(r.remaining, 0)]);
        if (!r.success && name !== "tokenBucket") expect(r.reset).toBe(windowEnd);
        if (!r.success && name === "tokenBucket") expect(r.reset).toBeGreaterThan(Date.now());
      }
      expect({ name, seen }).toEqual({ name, seen: [[true, 1], [true, 0], [false, 0], [false, 0], [false, 0]] });
    }
  }, 60_000);
});

describe("Redis functions through @upstash/redis", () => {
  const code = [
    "#!lua name=counters",
    "redis.register_function('bump', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)",
    "redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads a counter'}",
  ].join("\n");

  it("loads a library, calls it, lists it; FCALL_RO reads at the nearest replica", async () => {
    await redis.functions.flush();
    expect(await redis.functions.load({ code })).toBe("counters");
    await expect(redis.functions.load({ code })).rejects.toThrow("ERR Library 'counters' already exists");
    expect(await redis.functions.call("bump", ["c"], ["5"])).toBe(5);
    expect(await redis.functions.callRo("peek", ["c"])).toBe(5); // the client parses "5" as JSON
    expect(await redis.functions.list({ withCode: true })).toEqual([
      {
        libraryName: "counters",
        engine: "LUA",
        functions: [
          { name: "bump", description: undefined, flags: [] },
          { name: "peek", description: "reads a counter", flags: ["no-writes"] },
        ],
        libraryCode: code,
      },
    ]);
    expect(await redis.functions.stats()).toMatchObject({ engines: { LUA: { librariesCount: 1, functionsCount: 2 } } });
    const paris = { authorization: "Bearer dev-token", "MF-CF-Blob": JSON.stringify({ latitude: "48.86", longitude: "2.35" }) };
    await digestsWhenCaughtUp(server.url);
    const r = await fetch(`${server.url}/`, { method: "POST", headers: paris, body: JSON.stringify(["FCALL_RO", "peek", "1", "c"]) });
    expect(await r.json()).toEqual({ result: "5" });
    expect(r.headers.get("flaredis-served-by")).toMatch(/^replica:/);
    await expect(redis.functions.callRo("bump", ["c"], ["1"])).rejects.toThrow("ERR Can not execute a script with write flag using *_ro command.");
  });

  it("a library loaded before a failover is called after it, and every node holds it", async () => {
    await redis.functions.flush();
    await redis.functions.load({ code });
    expect(await redis.functions.call("bump", ["after"], ["2"])).toBe(2);
    const topology = (await (await fetch(`${server.url}/admin/topology`, { headers: { authorization: "Bearer dev-admin-token" } })).json()) as { primary: string };
    const to = topology.primary === "apac" ? "wnam" : "apac";
    expect(await send("/admin/failover", { to })).toMatchObject({ status: 200, json: { primary: to } });
    expect(await redis.functions.call("bump", ["after"], ["3"])).toBe(5);
    expect((await redis.functions.list()).map((l) => l.libraryName)).toEqual(["counters"]);
    expect(new Set((await digestsWhenCaughtUp(server.url)).values()).size).toBe(1);
  }, 60_000);
});
