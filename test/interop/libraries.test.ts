// The libraries people run on Redis, unchanged, through `flaredis proxy` (issue 34): redlock's
// locks and rate-limiter-flexible's limits, both Lua scripts run with EVALSHA and EVAL over an
// ioredis connection, WATCH with ioredis and node-redis, and node-redis's connection handshake,
// pipelines, transactions and SCAN iterator, its pub/sub and a consumer group read with BLOCK, against the real worker. The same scenarios run against a redis-server of
// our own first, so a scenario that Redis itself does not pass cannot pass here by accident.
import { connect } from "node:net";
import Redis from "ioredis";
import { WatchError, createClient } from "redis";
import { RateLimiterRedis, type RateLimiterRes } from "rate-limiter-flexible";
import Redlock, { ExecutionError } from "redlock";
import { describe, expect, it } from "vitest";
import { waitFor } from "../e2e/start";
import { sideBySide } from "./side-by-side";

const t = sideBySide(["dev-token"]);


/** Each scenario against Flaredis through the proxy, and against redis-server when it is installed. */
const targets = () => [
  { name: "flaredis", port: t.proxy.port },
  ...(t.reference ? [{ name: "redis-server", port: t.reference.port }] : []),
];

async function withClient<T>(port: number, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0, lazyConnect: true });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

describe("redlock", () => {
  it("refuses a second lock on a held resource, extends a lock's deadline, grants a lock after unlock", async () => {
    for (const { name, port } of targets())
      await withClient(port, async (client) => {
        const redlock = new Redlock([client], { retryCount: 0 });
        const resource = `locks:${name}:order-42`;
        const lock = await redlock.acquire([resource], 5_000);
        await expect(redlock.acquire([resource], 5_000), name).rejects.toBeInstanceOf(ExecutionError);
        const extended = await lock.extend(20_000);
        expect(extended.expiration, name).toBeGreaterThan(lock.expiration);
        expect(await client.pttl(resource), name).toBeGreaterThan(5_000);
        await extended.release();
        expect(await client.exists(resource), name).toBe(0);
        const again = await redlock.acquire([resource], 5_000);
        await again.release();
        // A lock whose value is not the holder's is not released by it.
        const held = await redlock.acquire([resource], 5_000);
        await client.set(resource, "someone else", "PX", 5_000);
        await expect(held.release(), name).rejects.toBeInstanceOf(ExecutionError);
        expect(await client.get(resource), name).toBe("someone else");
      });
  });
});

describe("rate-limiter-flexible", () => {
  it("5 points per 2 s allow exactly 5 of 7 calls, then allow again once the window has ended", async () => {
    for (const { name, port } of targets())
      await withClient(port, async (client) => {
        const limiter = new RateLimiterRedis({ storeClient: client, points: 5, duration: 2, keyPrefix: `rlf:${name}` });
        const outcomes: (string | number)[] = [];
        for (let i = 0; i < 7; i++) {
          try {
            const res = await limiter.consume("user-1");
            outcomes.push(res.remainingPoints);
          } catch (e) {
            const res = e as RateLimiterRes;
            expect(res.msBeforeNext, name).toBeGreaterThan(0);
            expect(res.msBeforeNext, name).toBeLessThanOrEqual(2_000);
            outcomes.push("blocked");
          }
        }
        expect(outcomes, name).toEqual([4, 3, 2, 1, 0, "blocked", "blocked"]);
        // The window ends as the key's TTL runs out (a deadline in the past: no waiting for it).
        await client.pexpireat(`rlf:${name}:user-1`, Date.now() - 1_000);
        expect(await client.exists(`rlf:${name}:user-1`), name).toBe(0);
        expect((await limiter.consume("user-1")).remainingPoints, name).toBe(4);
        expect((await limiter.get("user-1"))?.consumedPoints, name).toBe(1);
      });
  });
});

describe("WATCH through the proxy (ioredis)", () => {
  it("an EXEC after a watched key was changed by another client (or by this one) answers nil and changes nothing", async () => {
    for (const { name, port } of targets())
      await withClient(port, (a) =>
        withClient(port, async (b) => {
          const key = `watch:${name}`;
          await a.set(key, "0");
          await a.watch(key);
          await b.set(key, "theirs");
          expect(await a.multi().set(key, "mine").exec(), name).toBeNull();
          expect(await a.get(key), name).toBe("theirs");
          // Untouched: it runs (and EXEC forgot the watch: the next transaction runs too).
          await a.watch(key);
          expect(await a.multi().set(key, "mine").exec(), name).toEqual([[null, "OK"]]);
          await b.set(key, "again");
          expect(await a.multi().get(key).exec(), name).toEqual([[null, "again"]]);
          // The client's own write between WATCH and EXEC counts too; UNWATCH and DISCARD forget.
          await a.watch(key);
          await a.set(key, "own");
          expect(await a.multi().set(key, "x").exec(), name).toBeNull();
          await a.watch(key);
          await b.set(key, "b");
          await a.unwatch();
          expect(await a.multi().set(key, "after unwatch").exec(), name).toEqual([[null, "OK"]]);
          await a.watch(key);
          await b.set(key, "b2");
          // (ioredis sends a pipelined MULTI only at exec: these go one by one.)
          await a.multi({ pipeline: false });
          expect(await a.set(key, "discarded"), name).toBe("QUEUED");
          expect(await a.discard(), name).toBe("OK");
          expect(await a.multi().get(key).exec(), name).toEqual([[null, "b2"]]);
        }),
      );
  });

  it("over HTTP: POST /multi-exec beginning with WATCH and the WATCH's sync token in Flaredis-Watch-Position", async () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${t.server.url}${path}`, { method: "POST", headers: { authorization: "Bearer dev-token", ...headers }, body: JSON.stringify(body) });
    const watched = await post("/", ["WATCH", "http:w"]);
    expect(await watched.json()).toEqual({ result: "OK" });
    const position = watched.headers.get("upstash-sync-token")!;
    const tx = [["WATCH", "http:w"], ["SET", "http:w", "mine"]];
    const runs = await post("/multi-exec", tx, { "Flaredis-Watch-Position": position });
    expect(await runs.json()).toEqual([{ result: "OK" }]);
    await post("/", ["SET", "http:w", "theirs"]);
    const aborted = await post("/multi-exec", tx, { "Flaredis-Watch-Position": position });
    expect(await aborted.json()).toBeNull();
    expect(await (await post("/", ["GET", "http:w"])).json()).toEqual({ result: "theirs" });
    const missing = await post("/multi-exec", tx);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: expect.stringContaining("Flaredis-Watch-Position") });
  });
});

describe("node-redis", () => {
  it("connects (CLIENT SETINFO), pipelines, runs MULTI/EXEC, refuses a transaction whose watched key changed, iterates SCAN", async () => {
    for (const { name, port } of targets()) {
      // RESP2 here (RESP3, node-redis 6's default, is the test after the next describe's first).
      const a = createClient({ RESP: 2, socket: { host: "127.0.0.1", port, reconnectStrategy: false } });
      const b = createClient({ RESP: 2, socket: { host: "127.0.0.1", port, reconnectStrategy: false } });
      await a.connect();
      await b.connect();
      try {
        const prefix = `nr:${name}:`;
        expect(await a.ping(), name).toBe("PONG");
        const [set, incr, got] = await a.multi().set(`${prefix}n`, "1").incrBy(`${prefix}n`, 41).get(`${prefix}n`).execAsPipeline();
        expect([set, incr, got], name).toEqual(["OK", 42, "42"]);
        expect(await a.multi().hSet(`${prefix}h`, { f: "v", g: "w" }).hGetAll(`${prefix}h`).exec(), name).toEqual([2, { f: "v", g: "w" }]);
        await a.watch(`${prefix}w`);
        await b.set(`${prefix}w`, "theirs");
        await expect(a.multi().set(`${prefix}w`, "mine").exec(), name).rejects.toBeInstanceOf(WatchError);
        expect(await a.get(`${prefix}w`), name).toBe("theirs");
        await a.mSet(Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`${prefix}s:${i}`, String(i)])));
        const seen = new Set<string>();
        for await (const keys of a.scanIterator({ MATCH: `${prefix}s:*`, COUNT: 40 })) for (const k of keys) seen.add(k);
        expect(seen.size, name).toBe(250);
      } finally {
        a.destroy();
        b.destroy();
      }
    }
  });
});

/** Each command's raw reply on a fresh connection that said HELLO 3 (read up to the PING sent after it). */
async function resp3Replies(port: number, commands: readonly string[][]): Promise<string[]> {
  const socket = connect(port, "127.0.0.1");
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let buffer = "";
  socket.on("data", (d: Buffer) => (buffer += d.toString("latin1")));
  const send = async (argv: readonly string[]): Promise<string> => {
    buffer = "";
    const frame = (a: readonly string[]) => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join("")}`;
    socket.write(frame(argv) + frame(["PING"]));
    for (let i = 0; !buffer.endsWith("+PONG\r\n"); i++) {
      if (i > 500) throw new Error(`no reply to ${argv.join(" ")}: ${JSON.stringify(buffer)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return buffer.slice(0, -"+PONG\r\n".length);
  };
  try {
    await send(["HELLO", "3"]);
    const out: string[] = [];
    for (const argv of commands) out.push(await send(argv));
    return out;
  } finally {
    socket.destroy();
  }
}

describe("RESP3 through the proxy (HELLO 3)", () => {
  it("types each reply as redis-server 7.0 does: maps, sets, doubles, score pairs, nil, verbatim", async () => {
    const p = "r3:";
    const commands: string[][] = [
      ["SET", `${p}s`, "v"], ["GET", `${p}nil`], ["MGET", `${p}s`, `${p}nil`], ["TYPE", `${p}s`],
      ["HSET", `${p}h`, "f", "v", "g", "w"], ["HGETALL", `${p}h`], ["HGETALL", `${p}none`], ["HSET", `${p}h1`, "only", "1"], ["HRANDFIELD", `${p}h1`, "1", "WITHVALUES"],
      ["SADD", `${p}set`, "m"], ["SMEMBERS", `${p}set`], ["SINTER", `${p}set`], ["SUNION", `${p}set`], ["SDIFF", `${p}set`], ["SMISMEMBER", `${p}set`, "m", "x"],
      ["ZADD", `${p}z`, "1.5", "a", "2", "b", "-inf", "c"], ["ZSCORE", `${p}z`, "a"], ["ZSCORE", `${p}z`, "nope"], ["ZMSCORE", `${p}z`, "a", "nope"],
      ["ZRANGE", `${p}z`, "0", "-1", "WITHSCORES"], ["ZRANGE", `${p}z`, "0", "-1"], ["ZREVRANGE", `${p}z`, "0", "0", "WITHSCORES"],
      ["ZRANGEBYSCORE", `${p}z`, "-inf", "+inf", "WITHSCORES"], ["ZUNION", "1", `${p}z`, "WITHSCORES"], ["ZINCRBY", `${p}z`, "0.25", "a"],
      ["ZADD", `${p}z`, "INCR", "1", "b"], ["ZADD", `${p}z`, "NX", "INCR", "1", "b"], ["ZPOPMIN", `${p}z`], ["ZPOPMAX", `${p}z`, "1"], ["ZPOPMIN", `${p}none`],
      ["ZADD", `${p}z`, "4", "d", "5.5", "e"], ["ZMPOP", "1", `${p}z`, "MIN", "COUNT", "2"], ["ZMPOP", "1", `${p}none`, "MAX"], ["SPOP", `${p}none`, "2"],
      ["SET", `${p}l1`, "ohmytext"], ["SET", `${p}l2`, "mynewtext"], ["LCS", `${p}l1`, `${p}l2`, "IDX", "WITHMATCHLEN"], ["LCS", `${p}l1`, `${p}l2`, "LEN"],
      ["GEOADD", `${p}g`, "13.361389", "38.115556", "Palermo"], ["GEOPOS", `${p}g`, "Palermo", "nowhere"],
      ["GEOSEARCH", `${p}g`, "FROMLONLAT", "13.36", "38.11", "BYRADIUS", "10", "km", "WITHDIST", "WITHCOORD"],
      ["RPUSH", `${p}list`, "a"], ["LPOS", `${p}list`, "x"], ["LRANGE", `${p}list`, "0", "-1"], ["SPOP", `${p}set`, "1"],
      ["FUNCTION", "FLUSH"], ["FUNCTION", "STATS"],
      ["FUNCTION", "LOAD", "#!lua name=r3lib\nredis.register_function{function_name='r3f', callback=function() return 1 end, flags={'no-writes'}}"],
      ["FUNCTION", "LIST"], ["FCALL", "r3f", "0"], ["FUNCTION", "FLUSH"],
      ["INCRBYFLOAT", `${p}f`, "1.5"], ["EXISTS", `${p}s`], ["PING"],
      ["XADD", `${p}x`, "1-1", "f", "v"], ["XADD", `${p}x2`, "2-1", "g", "w"], ["XRANGE", `${p}x`, "-", "+"],
      ["XREAD", "STREAMS", `${p}x`, `${p}x2`, "0", "0"], ["XREAD", "STREAMS", `${p}x`, "$"], ["XGROUP", "CREATE", `${p}x`, "g", "0"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", `${p}x`, ">"], ["XPENDING", `${p}x`, "g"], ["XINFO", "GROUPS", `${p}x`],
      ["XAUTOCLAIM", `${p}x`, "g", "c", "0", "0", "JUSTID"],
    ];
    const [flaredis, redis] = await Promise.all([resp3Replies(t.proxy.port, commands), t.reference ? resp3Replies(t.reference.port, commands) : Promise.resolve(null)]);
    if (redis === null) return;
    const diverged = commands.flatMap((c, i) => (flaredis[i] === redis[i] ? [] : [`${c.join(" ")}\n  redis:    ${JSON.stringify(redis[i])}\n  flaredis: ${JSON.stringify(flaredis[i])}`]));
    expect(diverged.join("\n")).toBe("");
  });

  it("node-redis 6 with its default (RESP3) client", async () => {
    for (const { name, port } of targets()) {
      const client = createClient({ socket: { host: "127.0.0.1", port, reconnectStrategy: false } });
      await client.connect();
      try {
        const p = `nr3:${name}:`;
        await client.hSet(`${p}h`, { f: "v" });
        expect(await client.hGetAll(`${p}h`), name).toEqual({ f: "v" });
        await client.zAdd(`${p}z`, [{ score: 1.5, value: "a" }, { score: 2, value: "b" }]);
        expect(await client.zRangeWithScores(`${p}z`, 0, -1), name).toEqual([{ value: "a", score: 1.5 }, { value: "b", score: 2 }]);
        expect(await client.zScore(`${p}z`, "a"), name).toBe(1.5);
        expect(await client.get(`${p}missing`), name).toBeNull();
        await client.sAdd(`${p}s`, "m");
        expect(await client.sMembers(`${p}s`), name).toEqual(["m"]);
        expect(await client.multi().incr(`${p}n`).get(`${p}n`).exec(), name).toEqual([1, "1"]);
      } finally {
        client.destroy();
      }
    }
  });
});

describe("RESP3 edge cases through the proxy", () => {
  it("a HELLO in a pipeline changes the protocol of the replies after it only; COMMAND DOCS is a map; a key named withscores", async () => {
    const pipelined = async (port: number, text: string) => {
      const socket = connect(port, "127.0.0.1");
      await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      let buffer = "";
      socket.on("data", (d: Buffer) => (buffer += d.toString("latin1")));
      socket.write(text);
      for (let i = 0; !buffer.endsWith("+PONG\r\n"); i++) {
        if (i > 500) throw new Error(`no reply: ${JSON.stringify(buffer)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      socket.destroy();
      // The HELLO replies name the server's version and the connection's id: left out.
      return buffer.replace(/\$7\r\nversion\r\n\$\d+\r\n[0-9.]+\r\n/g, "").replace(/\$2\r\nid\r\n:\d+\r\n/g, "");
    };
    const frame = (...a: string[]) => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join("")}`;
    const text = [
      frame("DEL", "pe:h", "withscores"), frame("HSET", "pe:h", "f", "v"), frame("GET", "pe:nil"), frame("HGETALL", "pe:h"), frame("HELLO", "3"),
      frame("GET", "pe:nil"), frame("HGETALL", "pe:h"), frame("ZADD", "withscores", "1", "m"), frame("ZUNION", "1", "withscores"),
      frame("COMMAND", "DOCS", "nosuchcommand"), frame("HELLO", "2"), frame("HGETALL", "pe:h"), frame("PING"),
    ].join("");
    if (!t.reference) return;
    expect(await pipelined(t.proxy.port, text)).toBe(await pipelined(t.reference.port, text));
  });
});

describe("node-redis: pub/sub and streams", () => {
  it("subscribes and pattern-subscribes on a connection of its own, and reads a stream with a consumer group and BLOCK", async () => {
    for (const { name, port } of targets()) {
      const client = createClient({ socket: { port, host: "127.0.0.1", reconnectStrategy: false } });
      const subscriber = client.duplicate();
      await client.connect();
      await subscriber.connect();
      try {
        const got: string[] = [];
        await subscriber.subscribe(`nr:${name}:news`, (message, channel) => void got.push(`${channel}:${message}`));
        await subscriber.pSubscribe(`nr:${name}:n*`, (message, channel) => void got.push(`p ${channel}:${message}`));
        for (let i = 0; i < 5; i++) expect(await client.publish(`nr:${name}:news`, `m${i}`), name).toBe(2);
        await waitFor(() => got.length >= 10);
        expect(got.filter((g) => !g.startsWith("p ")), name).toEqual(Array.from({ length: 5 }, (_, i) => `nr:${name}:news:m${i}`));
        expect(got.filter((g) => g.startsWith("p ")).length, name).toBe(5);
        await subscriber.unsubscribe();
        await subscriber.pUnsubscribe();
        // A consumer group: XREADGROUP BLOCK woken by an XADD from another connection.
        const stream = `nr:${name}:jobs`;
        await client.xGroupCreate(stream, "workers", "$", { MKSTREAM: true });
        const blocked = subscriber.xReadGroup("workers", "w1", { key: stream, id: ">" }, { BLOCK: 5000 });
        // Blocked (as INFO says, on either server) before the entry comes.
        await waitFor(async () => (await client.info("clients")).includes("blocked_clients:1"));
        expect(await client.info("clients"), name).toContain("blocked_clients:1");
        const id = await client.xAdd(stream, "*", { job: "1" });
        const read = (await blocked) as { name: string; messages: { id: string; message: Record<string, string> }[] }[];
        expect(read, name).toEqual([{ name: stream, messages: [{ id, message: { job: "1" } }] }]);
        expect(await client.xAck(stream, "workers", id), name).toBe(1);
        expect((await client.xPending(stream, "workers")).pending, name).toBe(0);
      } finally {
        await subscriber.quit().catch(() => {});
        await client.quit().catch(() => {});
      }
    }
  });
});
