// DUMP and RESTORE between Flaredis (through `flaredis proxy`, ioredis with Buffers) and a
// redis-server of our own: every type, small and large (each of redis-server's encodings), with
// all 256 byte values, a stream with a consumer group and pending entries; a payload from either
// side restores on the other to the same contents.
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertInstalled, tool } from "./need-tool";
import { type BesideRedis, startBesideRedis } from "./beside-redis";

const redisServer = tool("redis-server", "redis-server");

let beside: BesideRedis;
let flaredis: Redis;
let redis: Redis;

beforeAll(async () => {
  if (redisServer.skip) return;
  assertInstalled(redisServer);
  beside = await startBesideRedis();
  ({ flaredis, redis } = beside);
}, 60_000);
afterAll(async () => beside?.stop());

const ALL = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The same values on a side: each type small (redis-server's packed encodings) and large. */
async function fill(c: Redis): Promise<string[]> {
  await c.set("str", ALL);
  await c.set("int", "123456");
  await c.set("long", "abc".repeat(1000));
  await c.rpush("list", "a", "-1", "4095", "2000000000", ALL);
  await c.rpush("biglist", ...range(300).map((i) => `element-${i}`));
  await c.sadd("intset", "1", "-70000", "9000000000000000000");
  await c.sadd("set", "apple", ALL, "");
  await c.sadd("bigset", ...range(300).map((i) => `m${i}`));
  await c.zadd("zset", "1", "a", "-2.5", "b", "inf", "c", "0.1", ALL);
  await c.zadd("bigzset", ...range(300).flatMap((i) => [String(i / 7), `z${i}`]));
  await c.hset("hash", "f", "v", "n", "42", "bin", ALL);
  await c.hset("bighash", ...range(300).flatMap((i) => [`field-${i}`, `value-${i}`]));
  for (let i = 1; i <= 250; i++) await c.xadd("stream", `${i}-${i % 3}`, "n", String(i), ...(i % 9 === 0 ? [ALL, "bytes"] : []));
  await c.xdel("stream", "5-2");
  await c.xgroup("CREATE", "stream", "readers", "0");
  await c.xreadgroup("GROUP", "readers", "alice", "COUNT", "4", "STREAMS", "stream", ">");
  await c.xreadgroup("GROUP", "readers", "bob", "COUNT", "2", "STREAMS", "stream", ">");
  await c.xack("stream", "readers", "1-1");
  return ["str", "int", "long", "list", "biglist", "intset", "set", "bigset", "zset", "bigzset", "hash", "bighash", "stream"];
}

/** What a key holds, as bytes, in an order that does not depend on the side. */
async function contents(c: Redis, key: string): Promise<unknown> {
  const type = await c.type(key);
  const hex = (b: Buffer) => b.toString("hex");
  switch (type) {
    case "string":
      return [type, hex((await c.getBuffer(key))!)];
    case "list":
      return [type, (await c.lrangeBuffer(key, 0, -1)).map(hex)];
    case "set":
      return [type, (await c.smembersBuffer(key)).map(hex).sort()];
    case "zset": {
      const flat = await c.zrangeBuffer(key, "0", "-1", "WITHSCORES");
      return [type, range(flat.length / 2).map((i) => [hex(flat[2 * i]!), Number(flat[2 * i + 1]!.toString())])];
    }
    case "hash": {
      const flat = await c.hgetallBuffer(key);
      return [type, Object.entries(flat).map(([f, v]) => [Buffer.from(f, "latin1").toString("hex"), hex(v)]).sort()];
    }
    case "stream": {
      const entries = (await c.xrangeBuffer(key, "-", "+")).map(([id, pairs]) => [id.toString(), pairs.map(hex)]);
      const groups = (await c.xinfo("GROUPS", key)) as unknown[][];
      const pending = await c.xpending(key, "readers", "-", "+", 100);
      return [type, entries, groups.map((g) => g.filter((_, i) => i % 2 === 1 && g[i - 1] !== "lag")), (pending as unknown[][]).map((p) => [p[0], p[1], p[3]])];
    }
    default:
      return [type];
  }
}

describe("DUMP on one side, RESTORE on the other", () => {
  it.skipIf(redisServer.skip)("redis-server's payloads restore in Flaredis, and Flaredis's in redis-server, to the same contents", async () => {
    const keys = await fill(flaredis);
    await fill(redis);
    for (const key of keys) {
      const fromRedis = await redis.dumpBuffer(key);
      expect(await flaredis.restore(`${key}:from-redis`, 0, fromRedis), key).toBe("OK");
      expect(await contents(flaredis, `${key}:from-redis`), key).toEqual(await contents(redis, key));
      const fromFlaredis = await flaredis.dumpBuffer(key);
      expect(await redis.restore(`${key}:from-flaredis`, 0, fromFlaredis), key).toBe("OK");
      expect(await contents(redis, `${key}:from-flaredis`), key).toEqual(await contents(flaredis, key));
    }
  });

  it.skipIf(redisServer.skip)("TTLs and REPLACE as redis-server takes them; a hash with field deadlines needs Redis 7.4", async () => {
    await flaredis.set("ttl", "v");
    const payload = await flaredis.dumpBuffer("ttl");
    expect(await redis.restore("ttl", 60_000, payload, "REPLACE")).toBe("OK");
    expect(await redis.pttl("ttl")).toBeGreaterThan(59_000);
    await expect(redis.restore("ttl", 0, payload)).rejects.toThrow("BUSYKEY Target key name already exists.");
    await expect(flaredis.restore("ttl", 0, payload)).rejects.toThrow("BUSYKEY Target key name already exists.");
    await flaredis.hset("fields", "a", "1", "b", "2");
    await flaredis.call("HPEXPIRE", "fields", "60000", "FIELDS", "1", "a");
    const versioned = await flaredis.dumpBuffer("fields");
    expect(versioned[versioned.length - 10]).toBe(12);
    const info = await redis.info("server");
    if (/redis_version:7\.[0-2]\./.test(info)) await expect(redis.restore("fields", 0, versioned)).rejects.toThrow("DUMP payload version or checksum are wrong");
  });
});
