// `flaredis import redis://…` from a running redis-server into the real worker: every key of
// every type DUMP and RESTORE carry (strings, lists, sets, sorted sets, hashes, streams; small and large;
// bytes of every value; TTLs) copied with the same contents; a resumed import goes on from its
// saved cursor; a stream comes with its consumer groups; 100,000 keys of every type copy with
// equal digests of both sides' data.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertInstalled, tool } from "./need-tool";
import { type BesideRedis, startBesideRedis } from "./beside-redis";
import { runFlaredis } from "./proxy-process";

const redisServer = tool("redis-server", "redis-server");

let beside: BesideRedis;
let flaredis: Redis;
let source: Redis;
const dir = mkdtempSync(join(tmpdir(), "flaredis-import-"));

beforeAll(async () => {
  if (redisServer.skip) return;
  assertInstalled(redisServer);
  beside = await startBesideRedis();
  ({ flaredis, redis: source } = beside);
}, 60_000);
afterAll(async () => beside?.stop());

/** `flaredis import … ` with the read-write token. */
const flaredisImport = (...args: string[]) => runFlaredis(beside.url, "dev-token", dir, "import", ...args);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const bytesOf = (i: number) => Buffer.from(range(32).map((j) => (i * 31 + j * 7) & 0xff));

/** `n` keys of each type on the source, some with TTLs; their names. */
async function fillSource(prefix: string, n: number): Promise<string[]> {
  const p = source.pipeline();
  const keys: string[] = [];
  for (const i of range(n)) {
    p.set(`${prefix}s:${i}`, i % 3 === 0 ? bytesOf(i) : `value-${i}`);
    if (i % 5 === 0) p.pexpire(`${prefix}s:${i}`, 3_600_000);
    p.rpush(`${prefix}l:${i}`, ...range(1 + (i % 7)).map((j) => `e${j}`), bytesOf(i));
    p.sadd(`${prefix}set:${i}`, ...range(1 + (i % 5)).map((j) => String(j * i)));
    p.zadd(`${prefix}z:${i}`, ...range(1 + (i % 4)).flatMap((j) => [String(j / 3), `m${j}`]));
    p.hset(`${prefix}h:${i}`, ...range(1 + (i % 6)).flatMap((j) => [`f${j}`, `v${j}-${i}`]));
    keys.push(`${prefix}s:${i}`, `${prefix}l:${i}`, `${prefix}set:${i}`, `${prefix}z:${i}`, `${prefix}h:${i}`);
  }
  // One of each large enough for redis-server's non-packed encodings.
  p.rpush(`${prefix}biglist`, ...range(1000).map((j) => `item-${j}`));
  p.hset(`${prefix}bighash`, ...range(1000).flatMap((j) => [`f${j}`, `v${j}`]));
  p.zadd(`${prefix}bigzset`, ...range(1000).flatMap((j) => [String(j), `m${j}`]));
  keys.push(`${prefix}biglist`, `${prefix}bighash`, `${prefix}bigzset`);
  await p.exec();
  return keys;
}

/** What a key holds on a side, and whether it has a TTL. */
async function contents(c: Redis, key: string): Promise<unknown> {
  const type = await c.type(key);
  const ttl = (await c.pttl(key)) > 0 ? "ttl" : await c.pttl(key);
  const hex = (b: Buffer) => b.toString("hex");
  if (type === "string") return [type, ttl, hex((await c.getBuffer(key))!)];
  if (type === "list") return [type, ttl, (await c.lrangeBuffer(key, 0, -1)).map(hex)];
  if (type === "set") return [type, ttl, (await c.smembersBuffer(key)).map(hex).sort()];
  // Scores as numbers: redis-server 7.0 prints them with %.17g, Flaredis as 7.2 does.
  if (type === "zset") return [type, ttl, (await c.zrange(key, "0", "-1", "WITHSCORES")).map((x, i) => (i % 2 === 1 ? Number(x) : x))];
  if (type === "hash") return [type, ttl, Object.entries(await c.hgetallBuffer(key)).map(([f, v]) => [f, hex(v)]).sort()];
  return [type, ttl];
}

describe("flaredis import redis://", () => {
  it.skipIf(redisServer.skip)("copies every key of every type with the same contents and TTLs, and says both sides' counts", async () => {
    const keys = await fillSource("a:", 200);
    const result = await flaredisImport("--batch", "200", `redis://127.0.0.1:${source.options.port}`);
    expect(result.stderr).not.toMatch(/not copied/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`imported ${keys.length} keys .* the source has ${keys.length} keys, Flaredis ${keys.length}`));
    for (const key of keys) expect(await contents(flaredis, key), key).toEqual(await contents(source, key));
    // The state file is gone once the copy is whole.
    expect(existsSync(join(dir, ".flaredis-import.json"))).toBe(false);
  });

  it.skipIf(redisServer.skip)("--resume goes on from the saved cursor: keys before it are not read again", async () => {
    await source.flushall();
    await flaredis.flushall();
    const keys = await fillSource("b:", 100);
    const [cursor, firstPage] = await source.scan("0", "COUNT", "50");
    expect(cursor).not.toBe("0");
    const url = `redis://127.0.0.1:${source.options.port}`;
    writeFileSync(join(dir, "state.json"), JSON.stringify({ source: new URL(url).toString(), cursor, copied: firstPage.length, failed: 0 }));
    const result = await flaredisImport("--resume", "--state", "state.json", "--batch", "50", url);
    expect(result.code).toBe(0);
    for (const key of firstPage) expect(await flaredis.exists(key), key).toBe(0);
    const rest = keys.filter((k) => !firstPage.includes(k));
    for (const key of rest) expect(await contents(flaredis, key), key).toEqual(await contents(source, key));
    // A resume of another source is refused.
    writeFileSync(join(dir, "other.json"), JSON.stringify({ source: "redis://elsewhere:1/", cursor: "5", copied: 0, failed: 0 }));
    const other = await flaredisImport("--resume", "--state", "other.json", url);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/of another source/);
  });

  it.skipIf(redisServer.skip)("a stream is copied with its consumer groups and pending entries", async () => {
    await source.flushall();
    await flaredis.flushall();
    for (let i = 1; i <= 120; i++) await source.xadd("events", `${i}-0`, "f", `v${i}`);
    await source.xgroup("CREATE", "events", "workers", "0");
    await source.xreadgroup("GROUP", "workers", "w1", "COUNT", "3", "STREAMS", "events", ">");
    const result = await flaredisImport(`redis://127.0.0.1:${source.options.port}`);
    expect(result.code).toBe(0);
    expect(await flaredis.xrange("events", "-", "+")).toEqual(await source.xrange("events", "-", "+"));
    expect(await flaredis.xpending("events", "workers")).toEqual(await source.xpending("events", "workers"));
  });

  it.skipIf(redisServer.skip)("copies 100,000 keys of every type with equal digests of the data", async () => {
    await source.flushall();
    await flaredis.flushall();
    const keys = await fillSource("c:", 20_000);
    expect(keys.length).toBeGreaterThanOrEqual(100_000);
    const result = await flaredisImport("--batch", "1000", `redis://127.0.0.1:${source.options.port}`);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`the source has ${keys.length} keys, Flaredis ${keys.length}`));
    expect(await digestOf(flaredis)).toBe(await digestOf(source));
  }, 600_000);
});

/**
 * A digest of a side's data: every key's type, TTL (whether it has one) and contents, read in
 * pipelines of 1,000 keys, in key order.
 */
async function digestOf(c: Redis): Promise<string> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, page] = await c.scan(cursor, "COUNT", "1000");
    keys.push(...page);
    cursor = next;
  } while (cursor !== "0");
  keys.sort();
  const hash = createHash("sha256");
  const hex = (b: Buffer) => b.toString("hex");
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const kinds = (await c.pipeline(batch.flatMap((k) => [["type", k], ["pttl", k]])).exec())!.map(([e, v]) => {
      if (e) throw e;
      return v as string | number;
    });
    const reads = c.pipeline();
    batch.forEach((k, j) => {
      const type = kinds[2 * j];
      if (type === "string") reads.getBuffer(k);
      else if (type === "list") reads.lrangeBuffer(k, 0, -1);
      else if (type === "set") reads.smembersBuffer(k);
      else if (type === "zset") reads.zrange(k, "0", "-1", "WITHSCORES");
      else if (type === "hash") reads.hgetallBuffer(k);
      else reads.type(k);
    });
    const values = (await reads.exec())!;
    batch.forEach((k, j) => {
      const type = kinds[2 * j] as string;
      const ttl = (kinds[2 * j + 1] as number) > 0 ? "ttl" : kinds[2 * j + 1];
      const [e, v] = values[j]!;
      if (e) throw e;
      let value: unknown = v;
      if (type === "string") value = hex(v as Buffer);
      else if (type === "list") value = (v as Buffer[]).map(hex);
      else if (type === "set") value = (v as Buffer[]).map(hex).sort();
      else if (type === "zset") value = (v as string[]).map((x, n) => (n % 2 === 1 ? Number(x) : x));
      else if (type === "hash") value = Object.entries(v as Record<string, Buffer>).map(([f, b]) => [f, hex(b)]).sort();
      hash.update(JSON.stringify([k, type, ttl, value]));
    });
  }
  return hash.digest("hex");
}
