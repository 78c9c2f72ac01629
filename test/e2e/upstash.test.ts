// The official @upstash/redis client, unchanged, against the real worker over loopback HTTP, with
// base64 responses on (the client's default) and off, and against a deployment of 3 shards
// (FLAREDIS_SHARDS=3): the same tests, whose calls with several keys name keys of one hash slot
// (a hash tag: `{s}a`), as Redis Cluster requires.
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { scanAll, startFlaredis } from "./start";

type Server = Awaited<ReturnType<typeof startFlaredis>>;
const servers: Record<number, Server> = {};
let server: Server;

beforeAll(async () => {
  servers[1] = server = await startFlaredis();
  servers[3] = await startFlaredis(undefined, { FLAREDIS_SHARDS: "3" });
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.dispose()));
});

describe.each([
  ["base64", "base64" as const, 1],
  ["plain JSON", false as const, 1],
  ["base64 on 3 shards", "base64" as const, 3],
])("@upstash/redis with %s responses", (_name, responseEncoding, shards) => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis({ url: servers[shards]!.url, token: "dev-token", responseEncoding, retry: false });
  });
  beforeEach(async () => {
    await redis.flushall();
  });

  it("SET with NX, XX, GET, EX, PX and KEEPTTL; GET", async () => {
    expect(await redis.set("k", "v")).toBe("OK");
    expect(await redis.get("k")).toBe("v");
    expect(await redis.set("k", "w", { nx: true })).toBeNull();
    expect(await redis.set("new", "n", { xx: true })).toBeNull();
    expect(await redis.get("new")).toBeNull();
    expect(await redis.set("k", "w", { xx: true })).toBe("OK");
    expect(await redis.set("k", "x", { get: true })).toBe("w");
    expect(await redis.set("k", "y", { ex: 100 })).toBe("OK");
    expect(await redis.ttl("k")).toBe(100);
    expect(await redis.set("k", "z", { keepTtl: true })).toBe("OK");
    expect(await redis.ttl("k")).toBe(100);
    expect(await redis.set("k", "p", { px: 50_000 })).toBe("OK");
    expect(await redis.pttl("k")).toBeGreaterThan(49_000);
    expect(await redis.get("k")).toBe("p");
  });

  it("hashes: HSET, HGET, HGETALL, HMGET, HINCRBY, HINCRBYFLOAT, HDEL, HSCAN, HRANDFIELD; WRONGTYPE", async () => {
    expect(await redis.hset("h", { a: "1", b: "two", n: 5 })).toBe(3);
    expect(await redis.hget("h", "b")).toBe("two");
    expect(await redis.hget("h", "a")).toBe(1);
    expect(await redis.hgetall("h")).toEqual({ a: 1, b: "two", n: 5 });
    expect(await redis.hmget("h", "a", "nope")).toEqual({ a: 1, nope: null });
    expect(await redis.hsetnx("h", "a", "x")).toBe(0);
    expect(await redis.hlen("h")).toBe(3);
    expect(await redis.hexists("h", "n")).toBe(1);
    expect(await redis.hstrlen("h", "b")).toBe(3);
    expect(await redis.hincrby("h", "n", 10)).toBe(15);
    expect(await redis.hincrbyfloat("h", "f", 1.5)).toBe(1.5);
    expect((await redis.hkeys("h")).sort()).toEqual(["a", "b", "f", "n"]);
    expect((await redis.hvals("h")).length).toBe(4);
    const [cursor, items] = await redis.hscan("h", 0, { count: 100 });
    expect(String(cursor)).toBe("0");
    expect(items.length).toBe(8);
    expect(["a", "b", "f", "n"]).toContain(await redis.hrandfield("h"));
    expect(await redis.hdel("h", "a", "b", "nope")).toBe(2);
    expect(await redis.type("h")).toBe("hash");
    await expect(redis.get("h")).rejects.toThrow(/WRONGTYPE Operation against a key holding the wrong kind of value/);
    expect(await redis.hdel("h", "f", "n")).toBe(2);
    expect(await redis.exists("h")).toBe(0);
  });

  it("hash-field expiry: HEXPIRE, HTTL, HPERSIST, HGETEX, HSETEX, HGETDEL; a deadline already past deletes", async () => {
    await redis.hset("session", { token: "t", user: "u", hits: 1 });
    expect(await redis.hexpire("session", ["token", "nope"], 100)).toEqual([1, -2]);
    expect(await redis.hexpire("session", "token", 50, "GT")).toEqual([0]);
    expect(await redis.httl("session", ["token", "user"])).toEqual([100, -1]);
    expect(await redis.hpexpireat("session", "hits", Date.now() + 60_000)).toEqual([1]);
    expect(await redis.hincrby("session", "hits", 1)).toBe(2);
    expect((await redis.hpttl("session", "hits"))[0]).toBeGreaterThan(50_000);
    expect(await redis.hpersist("session", ["token", "user"])).toEqual([1, -1]);
    expect(await redis.hgetex("session", { ex: 100 }, "user")).toEqual({ user: "u" });
    expect(await redis.httl("session", "user")).toEqual([100]);
    // A deadline already past: the field is set and gone at once (replicated as HSET then HDEL).
    expect(await redis.hsetex("session", { conditional: "FNX", expiration: { pxat: 1 } }, { gone: "soon" })).toBe(1);
    expect(await redis.hget("session", "gone")).toBeNull();
    expect(await redis.hgetdel("session", "token", "nope")).toEqual({ token: "t", nope: null });
    expect(await redis.hgetall("session")).toEqual({ user: "u", hits: 2 });
  });

  it("sets: SADD, SMEMBERS, SISMEMBER, SPOP, SMOVE, SINTER/SUNION/SDIFF and their STORE forms, SSCAN", async () => {
    const [s, t, i] = ["{s}s", "{s}t", "{s}i"];
    expect(await redis.sadd(s, "a", "b", "c")).toBe(3);
    expect(await redis.sadd(t, "b", "c", "d")).toBe(3);
    expect((await redis.smembers(s)).sort()).toEqual(["a", "b", "c"]);
    expect(await redis.sismember(s, "a")).toBe(1);
    expect(await redis.smismember(s, ["a", "z"])).toEqual([1, 0]);
    expect(await redis.scard(s)).toBe(3);
    expect((await redis.sinter(s, t)).sort()).toEqual(["b", "c"]);
    expect((await redis.sunion(s, t)).sort()).toEqual(["a", "b", "c", "d"]);
    expect(await redis.sdiff(s, t)).toEqual(["a"]);
    expect(await redis.sinterstore(i, s, t)).toBe(2);
    expect(await redis.smove(s, t, "a")).toBe(1);
    expect(await redis.srem(t, "a", "zz")).toBe(1);
    const popped = await redis.spop<string>(s);
    expect(["b", "c"]).toContain(popped);
    const [cursor, members] = await redis.sscan(i, 0);
    expect(String(cursor)).toBe("0");
    expect(members.sort()).toEqual(["b", "c"]);
    expect(await redis.type(i)).toBe("set");
  });

  it("lists: LPUSH, RPUSH, LRANGE, LPOP with a count, LINDEX, LINSERT, LREM, LTRIM, LPOS, LMOVE; WRONGTYPE", async () => {
    expect(await redis.rpush("l", "b", "c", "d")).toBe(3);
    expect(await redis.lpush("l", "a", "z")).toBe(5);
    expect(await redis.lrange("l", 0, -1)).toEqual(["z", "a", "b", "c", "d"]);
    expect(await redis.lpop("l")).toBe("z");
    expect(await redis.lpop("l", 2)).toEqual(["a", "b"]);
    expect(await redis.lpop("nothere", 2)).toBeNull();
    expect(await redis.rpush("l", "e", "c", "f")).toBe(5);
    expect(await redis.lindex("l", 0)).toBe("c");
    expect(await redis.lindex("l", -1)).toBe("f");
    expect(await redis.lindex("l", 9)).toBeNull();
    expect(await redis.linsert("l", "before", "d", "c2")).toBe(6);
    expect(await redis.linsert("l", "after", "nope", "x")).toBe(-1);
    expect(await redis.lrange("l", 0, -1)).toEqual(["c", "c2", "d", "e", "c", "f"]);
    expect(await redis.lpos("l", "c")).toBe(0);
    expect(await redis.lpos("l", "c", { rank: -1 })).toBe(4);
    expect(await redis.lpos("l", "c", { count: 0 })).toEqual([0, 4]);
    expect(await redis.lrem("l", -1, "c")).toBe(1);
    expect(await redis.lrange("l", 0, -1)).toEqual(["c", "c2", "d", "e", "f"]);
    expect(await redis.ltrim("l", 1, -2)).toBe("OK");
    expect(await redis.lrange("l", 0, -1)).toEqual(["c2", "d", "e"]);
    expect(await redis.lmove("l", "{l}m", "left", "right")).toBe("c2");
    expect(await redis.lmove("l", "{l}m", "right", "left")).toBe("e");
    expect(await redis.lrange("{l}m", 0, -1)).toEqual(["e", "c2"]);
    expect(await redis.llen("l")).toBe(1);
    expect(await redis.type("{l}m")).toBe("list");
    await expect(redis.hget("{l}m", "f")).rejects.toThrow(/WRONGTYPE Operation against a key holding the wrong kind of value/);
    await expect(redis.lset("nothere", 0, "x")).rejects.toThrow(/ERR no such key/);
    expect(await redis.lpop("l", 5)).toEqual(["d"]);
    expect(await redis.exists("l")).toBe(0);
  });

  it("sorted sets: ZADD, ZRANGE (withScores, byScore, rev, offset/count), ZRANK, ZSCORE, ZINCRBY, ZPOPMIN, ZUNIONSTORE...", async () => {
    expect(await redis.zadd("z", { score: 1, member: "a" }, { score: 2, member: "b" }, { score: 3.5, member: "c" })).toBe(3);
    expect(await redis.zadd("z", { nx: true }, { score: 10, member: "a" }, { score: 4, member: "d" })).toBe(1);
    expect(await redis.zadd("z", { xx: true, ch: true }, { score: 5, member: "d" })).toBe(1);
    expect(await redis.zadd("z", { gt: true }, { score: 0, member: "a" })).toBe(0);
    expect(await redis.zadd("z", { incr: true }, { score: 1, member: "a" })).toBe(2);
    expect(await redis.zcard("z")).toBe(4);
    expect(await redis.zscore("z", "c")).toBe(3.5);
    expect(await redis.zscore("z", "nope")).toBeNull();
    expect(await redis.zmscore("z", ["a", "nope"])).toEqual([2, null]);
    expect(await redis.zincrby("z", 0.25, "c")).toBe(3.75);
    expect(await redis.zrange("z", 0, -1)).toEqual(["a", "b", "c", "d"]);
    expect(await redis.zrange("z", 0, 1, { withScores: true })).toEqual(["a", 2, "b", 2]);
    expect(await redis.zrange("z", 0, 0, { rev: true, withScores: true })).toEqual(["d", 5]);
    expect(await redis.zrange("z", "(2", "+inf", { byScore: true })).toEqual(["c", "d"]);
    expect(await redis.zrange("z", "+inf", "-inf", { byScore: true, rev: true, offset: 1, count: 2 })).toEqual(["c", "b"]);
    expect(await redis.zrange("z", 1, 5, { byScore: true, offset: 0, count: 1, withScores: true })).toEqual(["a", 2]);
    expect(await redis.zrank("z", "c")).toBe(2);
    expect(await redis.zrank("z", "nope")).toBeNull();
    expect(await redis.zrevrank("z", "c")).toBe(1);
    expect(await redis.zcount("z", 2, "(5")).toBe(3);
    expect(await redis.zpopmin("z")).toEqual(["a", 2]);
    expect(await redis.zpopmax("z", 2)).toEqual(["d", 5, "c", 3.75]);
    expect(await redis.zrem("z", "b", "nope")).toBe(1);
    expect(await redis.exists("z")).toBe(0);
    const [x, y, u, i] = ["{z}x", "{z}y", "{z}u", "{z}i"];
    await redis.zadd(x, { score: 1, member: "m" }, { score: 2, member: "n" });
    await redis.zadd(y, { score: 10, member: "n" }, { score: 20, member: "o" });
    expect(await redis.zunionstore(u, 2, [x, y])).toBe(3);
    expect(await redis.zrange(u, 0, -1, { withScores: true })).toEqual(["m", 1, "n", 12, "o", 20]);
    expect(await redis.zunionstore(u, 2, [x, y], { weights: [2, 1], aggregate: "max" })).toBe(3);
    expect(await redis.zrange(u, 0, -1, { withScores: true })).toEqual(["m", 2, "n", 10, "o", 20]);
    expect(await redis.zinterstore(i, 2, [x, y])).toBe(1);
    expect(await redis.zscore(i, "n")).toBe(12);
    expect(await redis.zremrangebyscore(u, "-inf", 5)).toBe(1);
    expect(await redis.zrange(u, 0, -1)).toEqual(["n", "o"]);
    expect(await redis.type(u)).toBe("zset");
    await expect(redis.get(u)).rejects.toThrow(/WRONGTYPE Operation against a key holding the wrong kind of value/);
    await expect(redis.zadd(u, { nx: true, gt: true } as never, { score: 1, member: "p" })).rejects.toThrow(
      /ERR GT, LT, and\/or NX options at the same time are not compatible/,
    );
  });

  it("INCR, INCRBY, INCRBYFLOAT", async () => {
    expect(await redis.incr("n")).toBe(1);
    expect(await redis.incrby("n", 41)).toBe(42);
    expect(await redis.incrbyfloat("f", 10.5)).toBe(10.5);
    expect(await redis.incrbyfloat("f", 0.1)).toBe(10.6);
    await redis.set("s", "text");
    await expect(redis.incr("s")).rejects.toThrow(/ERR value is not an integer or out of range/);
  });

  it("APPEND, STRLEN, GETRANGE, SETRANGE", async () => {
    expect(await redis.append("s", "Hello")).toBe(5);
    expect(await redis.append("s", " World")).toBe(11);
    expect(await redis.strlen("s")).toBe(11);
    expect(await redis.getrange("s", 0, 4)).toBe("Hello");
    expect(await redis.getrange("s", -5, -1)).toBe("World");
    expect(await redis.setrange("s", 6, "Redis")).toBe(11);
    expect(await redis.get("s")).toBe("Hello Redis");
  });

  it("MSET, MGET, EXISTS, TYPE, DEL", async () => {
    const [a, b, c] = ["{m}a", "{m}b", "{m}c"];
    expect(await redis.mset({ [a]: "1x", [b]: "2x" })).toBe("OK");
    expect(await redis.mget(a, b, c)).toEqual(["1x", "2x", null]);
    expect(await redis.exists(a, b, c)).toBe(2);
    expect(await redis.type(a)).toBe("string");
    expect(await redis.type(c)).toBe("none");
    expect(await redis.del(a, c)).toBe(1);
    expect(await redis.exists(a)).toBe(0);
  });

  it("EXPIRE, TTL, PERSIST, RENAME, GETDEL, GETEX", async () => {
    await redis.set("k", "v");
    expect(await redis.ttl("k")).toBe(-1);
    expect(await redis.expire("k", 30)).toBe(1);
    expect(await redis.ttl("k")).toBe(30);
    expect(await redis.persist("k")).toBe(1);
    expect(await redis.ttl("k")).toBe(-1);
    expect(await redis.rename("k", "{k}2")).toBe("OK");
    expect(await redis.get("k")).toBeNull();
    expect(await redis.getex("{k}2", { ex: 60 })).toBe("v");
    expect(await redis.ttl("{k}2")).toBe(60);
    expect(await redis.getdel("{k}2")).toBe("v");
    expect(await redis.exists("{k}2")).toBe(0);
    expect(await redis.ttl("{k}2")).toBe(-2);
  });

  it("KEYS and SCAN", async () => {
    // Three keys of three hash slots (and of three shards, when there are 3): one SET each.
    for (const [key, value] of [["user:1", "a"], ["user:2", "b"], ["post:1", "c"]]) await redis.set(key!, value);
    expect((await redis.keys("user:*")).sort()).toEqual(["user:1", "user:2"]);
    expect((await scanAll(redis, 2)).sort()).toEqual(["post:1", "user:1", "user:2"]);
    const [, matched] = await redis.scan(0, { match: "post:*", count: 100 });
    expect(matched).toEqual(["post:1"]);
  });

  it("pipelines, in order and not atomic", async () => {
    const p = redis.pipeline();
    p.set("a", "x");
    p.incr("n");
    p.get("a");
    p.incrby("n", 9);
    expect(await p.exec()).toEqual(["OK", 1, "x", 10]);
    const failing = redis.pipeline();
    failing.set("b", "y");
    failing.incr("b");
    await expect(failing.exec()).rejects.toThrow(/ERR value is not an integer/);
    expect(await redis.get("b")).toBe("y");
  });

  it("multi-exec transactions", async () => {
    const tx = redis.multi();
    tx.set("{tx}a", "x");
    tx.incr("{tx}n");
    tx.get("{tx}a");
    expect(await tx.exec()).toEqual(["OK", 1, "x"]);
  });

  it("round-trips unicode and keys with / + =", async () => {
    for (const [key, value] of [
      ["a/b+c=d", "x/y+z=="],
      ["ключ 🔑", "значение ✓ 日本語"],
      ["with space", "line\nbreak\ttab"],
    ]) {
      expect(await redis.set(key!, value)).toBe("OK");
      expect(await redis.get(key!)).toBe(value);
    }
    expect((await redis.keys("*")).sort()).toEqual(["a/b+c=d", "with space", "ключ 🔑"].sort());
  });

  it("bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP (8.2's DIFF too), BITFIELD", async () => {
    expect(await redis.setbit("b", 7, 1)).toBe(0);
    expect(await redis.setbit("b", 7, 1)).toBe(1);
    expect(await redis.getbit("b", 7)).toBe(1);
    expect(await redis.get("b")).toBe("\u0001");
    expect(await redis.set("s", "foobar")).toBe("OK");
    expect(await redis.bitcount("s", 0, -1)).toBe(26);
    expect(await redis.bitcount("s", 1, 1)).toBe(6);
    expect(await redis.bitpos("s", 1)).toBe(1);
    expect(await redis.bitpos("s", 0, 1, 2)).toBe(8);
    await redis.set("{b}s", "foobar");
    await redis.set("{b}b", "\u0001");
    expect(await redis.bitop("and", "{b}d", "{b}s", "{b}b")).toBe(6);
    expect(await redis.bitcount("{b}d", 0, -1)).toBe(0);
    expect(await redis.bitop("diff", "{b}d", "{b}s", "{b}b")).toBe(6);
    expect(await redis.bitcount("{b}d", 0, -1)).toBe(26);
    // BITFIELD's builder, in a pipeline (the client's auto-pipelining proxy has no builder).
    const p = redis.pipeline();
    p.bitfield("f").set("u8", 0, 255).incrby("i8", 8, -5).overflow("FAIL").incrby("u8", 0, 1).get("u4", 0).exec();
    expect(await p.exec()).toEqual([[0, -5, null, 15]]);
  });

  it("HyperLogLog: PFADD, PFCOUNT, PFMERGE", async () => {
    const [hll, hll2, all] = ["{h}hll", "{h}hll2", "{h}all"];
    expect(await redis.pfadd(hll, "a", "b", "c")).toBe(1);
    expect(await redis.pfadd(hll, "a")).toBe(0);
    expect(await redis.pfcount(hll)).toBe(3);
    expect(await redis.pfadd(hll2, ...Array.from({ length: 1000 }, (_, i) => `v${i}`))).toBe(1);
    expect(await redis.pfmerge(all, hll, hll2)).toBe("OK");
    // redis-server 7.0.15 answers 1007 for the same adds.
    expect(await redis.pfcount(all)).toBe(1007);
    expect(await redis.pfcount(hll, hll2)).toBe(1007);
  });

  it("geo: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH as redis-server answers them", async () => {
    expect(await redis.geoadd("Sicily", { longitude: 13.361389, latitude: 38.115556, member: "Palermo" }, { longitude: 15.087269, latitude: 37.502669, member: "Catania" })).toBe(2);
    expect(await redis.geodist("Sicily", "Palermo", "Catania", "KM")).toBe(166.2742);
    expect(await redis.geohash("Sicily", "Palermo", "Catania")).toEqual(["sqc8b49rny0", "sqdtr74hyu0"]);
    expect(await redis.geopos("Sicily", "Palermo")).toEqual([{ lng: 13.36138933897018433, lat: 38.11555639549629859 }]);
    const near = await redis.geosearch("Sicily", { type: "FROMLONLAT", coordinate: { lon: 15, lat: 37 } }, { type: "BYRADIUS", radius: 200, radiusType: "KM" }, "ASC", { withDist: true });
    expect(near).toEqual([{ member: "Catania", dist: 56.4413 }, { member: "Palermo", dist: 190.4424 }]);
  });

  it("HSCAN pages through long field names to the end", async () => {
    const fields = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field:${String(i).padStart(3, "0")}:a-long-name`, i]));
    await redis.hset("long", fields);
    const seen: string[] = [];
    let cursor: string | number = 0;
    do {
      const [next, items] = await redis.hscan("long", cursor, { count: 7 });
      for (let i = 0; i < items.length; i += 2) seen.push(String(items[i]));
      cursor = next;
    } while (String(cursor) !== "0");
    expect(seen.sort()).toEqual(Object.keys(fields).sort());
  });

  it("reads its own writes with the sync token it is given", async () => {
    for (let i = 0; i < 20; i++) {
      await redis.set("rw", `v${i}`);
      expect(await redis.get("rw")).toBe(`v${i}`);
    }
    // One position per shard (worker/cluster.ts).
    const part = /[0-9a-f]{40}:\d+(:\d+:[0-9a-f.,]+)?/.source;
    expect(redis.readYourWritesSyncToken).toMatch(shards === 1 ? new RegExp(`^${part}$`) : new RegExp(`^(${part})?(;(${part})?){${shards - 1}}$`));
  });
});

describe("@upstash/redis with the read-only token", () => {
  it("reads, and is refused writes with NOPERM", async () => {
    const rw = new Redis({ url: server.url, token: "dev-token", retry: false });
    const ro = new Redis({ url: server.url, token: "dev-readonly-token", retry: false });
    await rw.set("shared", "v");
    expect(await ro.get("shared")).toBe("v");
    await expect(ro.set("shared", "w")).rejects.toThrow(/NOPERM this user has no permissions to run the 'set' command/);
    expect(await rw.get("shared")).toBe("v");
  });

  it("a wrong token is refused with WRONGPASS", async () => {
    const bad = new Redis({ url: server.url, token: "nope", retry: false });
    await expect(bad.get("x")).rejects.toThrow(/WRONGPASS invalid or missing auth token/);
  });
});
