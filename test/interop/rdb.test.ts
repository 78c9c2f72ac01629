// RDB files between Flaredis and redis-server: `flaredis export FILE` passes Debian's
// redis-check-rdb and redis-server loads it with the same values, TTLs and function library; a
// file redis-server saved loads through `flaredis import FILE` (and POST /admin/import) with the
// same values; a truncated file is refused and nothing changes; a hash with field deadlines makes
// a version-12 file (Redis 7.4); an export read while writes run holds the keyspace as it began;
// a backup made and restored with the CLI (`flaredis backup`, `backups`, `restore NAME`) gives
// the same data back after FLUSHALL.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFlaredis } from "../e2e/start";
import { type RedisServer, startRedisServer } from "./fuzz/clients";
import { assertInstalled, tool } from "./need-tool";
import { type ProxyProcess, runFlaredis, startProxy } from "./proxy-process";

const redisServer = tool("redis-server", "redis-server");
const redisCheckRdb = tool("redis-check-rdb", "redis-tools");
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "flaredis-rdb-"));

let server: Awaited<ReturnType<typeof startFlaredis>>;
let proxy: ProxyProcess;
let flaredis: Redis;
const started: RedisServer[] = [];
const clients: Redis[] = [];

beforeAll(async () => {
  if (redisServer.skip) return;
  assertInstalled(redisServer);
  assertInstalled(redisCheckRdb);
  server = await startFlaredis();
  proxy = await startProxy(server.url, "dev-token");
  flaredis = new Redis({ port: proxy.port, host: "127.0.0.1", lazyConnect: true });
  await flaredis.connect();
}, 60_000);
afterAll(async () => {
  flaredis?.disconnect();
  for (const c of clients) c.disconnect();
  proxy?.stop();
  for (const s of started) await s.stop();
  await server?.dispose();
});

/** `flaredis <sub> … FILE` with the admin token. */
const flaredisCli = (sub: string, ...args: string[]) => runFlaredis(server.url, "dev-admin-token", dir, sub, ...args);

/** A redis-server of our own, loading `file` from `dir` when named. */
async function redisWith(file?: string): Promise<Redis> {
  const s = await startRedisServer(undefined, file ? ["--dir", dir, "--dbfilename", file] : ["--dir", dir, "--dbfilename", "saved.rdb"]);
  started.push(s);
  const c = new Redis({ port: s.port, host: "127.0.0.1", lazyConnect: true });
  clients.push(c);
  await c.connect();
  return c;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const ALL = Buffer.from(range(256));
const far = Date.UTC(2100, 0, 1);

async function fill(c: Redis): Promise<void> {
  await c.set("str", ALL);
  await c.set("int", "-42");
  await c.set("ttl", "v", "PXAT", far);
  await c.rpush("list", "a", "1", ALL);
  await c.rpush("biglist", ...range(400).map((i) => `e${i}`));
  await c.pexpireat("biglist", far + 1);
  await c.sadd("set", "1", "x", ALL);
  await c.zadd("zset", "1.5", "a", "-inf", "b", "3", ALL);
  await c.hset("hash", ...range(200).flatMap((i) => [`f${i}`, `v${i}`]));
  for (let i = 1; i <= 130; i++) await c.xadd("stream", `${i}-1`, "n", String(i));
  await c.xgroup("CREATE", "stream", "g", "0");
  await c.xreadgroup("GROUP", "g", "consumer", "COUNT", "2", "STREAMS", "stream", ">");
  await c.function("LOAD", "REPLACE", "#!lua name=rdblib\nredis.register_function('rdbf', function() return 'from rdb' end)");
}

/** Every key's type, contents and deadline on a side, by name. */
async function everything(c: Redis): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const hex = (b: Buffer) => b.toString("hex");
  for (const key of (await c.keys("*")).sort()) {
    const type = await c.type(key);
    const at = await c.pexpiretime(key);
    let value: unknown;
    if (type === "string") value = hex((await c.getBuffer(key))!);
    else if (type === "list") value = (await c.lrangeBuffer(key, 0, -1)).map(hex);
    else if (type === "set") value = (await c.smembersBuffer(key)).map(hex).sort();
    else if (type === "zset") value = (await c.zrangeBuffer(key, "0", "-1", "WITHSCORES")).map((b, i) => (i % 2 === 1 ? Number(b.toString()) : hex(b)));
    else if (type === "hash") value = Object.entries(await c.hgetallBuffer(key)).map(([f, v]) => [f, hex(v)]).sort();
    else if (type === "stream") value = [await c.xrange(key, "-", "+"), ((await c.xpending(key, "g", "-", "+", 10)) as unknown[][]).map((p) => [p[0], p[1], p[3]])];
    out[key] = [type, at, value];
  }
  return out;
}

describe("RDB files", () => {
  it.skipIf(redisServer.skip)("flaredis export: redis-check-rdb accepts it and redis-server loads the same values, TTLs and library", async () => {
    await flaredis.flushall();
    await fill(flaredis);
    const exported = await flaredisCli("export", "export.rdb");
    expect(exported.stderr).toBe("");
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/exported 9 keys at offset \d+ to export.rdb \(\d+ bytes, RDB version 10/);
    const check = await run("redis-check-rdb", [join(dir, "export.rdb")]);
    expect(check.stdout).toMatch(/RDB looks OK!/);
    const loaded = await redisWith("export.rdb");
    expect(await everything(loaded)).toEqual(await everything(flaredis));
    expect(await loaded.fcall("rdbf", "0")).toBe("from rdb");
  });

  it.skipIf(redisServer.skip)("a file redis-server saved loads with flaredis import FILE: the same values, TTLs and library", async () => {
    const source = await redisWith();
    await fill(source);
    await source.save();
    await flaredis.set("replaced-by-flush", "1");
    const imported = await flaredisCli("import", "--flush", "saved.rdb");
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(await everything(flaredis)).toEqual(await everything(source));
    expect(await flaredis.fcall("rdbf", "0")).toBe("from rdb");
  });

  it.skipIf(redisServer.skip)("a truncated file is refused, by the CLI and by POST /admin/import, and nothing changes", async () => {
    const whole = readFileSync(join(dir, "saved.rdb"));
    writeFileSync(join(dir, "truncated.rdb"), whole.subarray(0, whole.length - 50));
    await flaredis.flushall();
    await flaredis.set("before", "1");
    const cli = await flaredisCli("import", "--flush", "truncated.rdb");
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/cannot be loaded: .*(truncated|checksum).*; nothing was changed/);
    const http = await fetch(`${server.url}/admin/import?flush=1`, { method: "POST", headers: { authorization: "Bearer dev-admin-token" }, body: whole.subarray(0, 100) });
    expect(http.status).toBe(400);
    expect(await flaredis.dbsize()).toBe(1);
    expect(await flaredis.get("before")).toBe("1");
    // The whole file through the API loads.
    const whole200 = await fetch(`${server.url}/admin/import?flush=1`, { method: "POST", headers: { authorization: "Bearer dev-admin-token" }, body: whole });
    expect(whole200.status).toBe(200);
    expect(await flaredis.exists("before")).toBe(0);
    expect(await flaredis.dbsize()).toBe(9);
  });

  it.skipIf(redisServer.skip)("a hash with field deadlines makes a version-12 file, which Flaredis loads back with them", async () => {
    await flaredis.flushall();
    await flaredis.hset("fields", "a", "1", "b", "2");
    await flaredis.call("HPEXPIREAT", "fields", String(far), "FIELDS", "1", "a");
    const exported = await flaredisCli("export", "fields.rdb");
    expect(exported.code).toBe(0);
    expect(readFileSync(join(dir, "fields.rdb")).subarray(0, 9).toString()).toBe("REDIS0012");
    await flaredis.flushall();
    expect((await flaredisCli("import", "fields.rdb")).code).toBe(0);
    expect(await flaredis.call("HPEXPIRETIME", "fields", "FIELDS", "2", "a", "b")).toEqual([far, -1]);
  });

  it.skipIf(redisServer.skip)("an export read while writes run holds the keyspace as it began; redis-server loads exactly that", async () => {
    await flaredis.flushall();
    await fill(flaredis);
    // 1.6 MB: two chunks of the export.
    await flaredis.mset(...range(800).flatMap((i) => [`bulk:${i}`, "v".repeat(2000)]));
    const before = await everything(flaredis);
    const response = await fetch(`${server.url}/admin/export`, { headers: { authorization: "Bearer dev-admin-token" } });
    const reader = response.body!.getReader();
    const parts: Uint8Array[] = [(await reader.read()).value!];
    // After the first chunk: every kind of key changed, deleted or created.
    await flaredis.del("str", ...range(400).map((i) => `bulk:${i * 2}`));
    await flaredis.set("int", "7");
    await flaredis.rpush("list", "late");
    await flaredis.hset("hash", "f0", "late");
    await flaredis.xadd("stream", "*", "late", "1");
    await flaredis.set("created-later", "1");
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      parts.push(chunk);
    }
    writeFileSync(join(dir, "during.rdb"), Buffer.concat(parts));
    const check = await run("redis-check-rdb", [join(dir, "during.rdb")]);
    expect(check.stdout).toMatch(/RDB looks OK!/);
    const loaded = await redisWith("during.rdb");
    expect(await everything(loaded)).toEqual(before);
  });

  it.skipIf(redisServer.skip)("a backup made with the CLI restores with it after FLUSHALL", async () => {
    await flaredis.flushall();
    await fill(flaredis);
    const before = await everything(flaredis);
    const made = await flaredisCli("backup");
    expect(made.code).toBe(0);
    const name = made.stdout.match(/as (flaredis-\S+\.rdb)/)![1]!;
    const listed = await flaredisCli("backups");
    expect(listed.stdout).toContain(name);
    await flaredis.flushall();
    const restored = await flaredisCli("restore", "--flush", name);
    expect(restored.code).toBe(0);
    expect(await everything(flaredis)).toEqual(before);
    expect(await flaredis.fcall("rdbf", "0")).toBe("from rdb");
    expect((await flaredisCli("restore", "flaredis-none.rdb")).stderr).toMatch(/404 ERR no backup named flaredis-none.rdb/);
  });
});
