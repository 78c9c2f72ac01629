// Bytes through `flaredis proxy` (issue 33), beside a redis-server of our own: ioredis and
// node-redis with Buffers and redis-cli send keys, fields, members, elements and values covering
// all 256 byte values; every reply is compared with redis-server's byte for byte, and KEYS and
// SCAN MATCH patterns of bytes match the keys redis-server matches.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import Redis from "ioredis";
import { RESP_TYPES, createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFlaredis } from "../e2e/start";
import { type RedisServer, startRedisServer } from "./fuzz/clients";
import { assertInstalled, tool } from "./need-tool";
import { type ProxyProcess, startProxy } from "./proxy-process";

const redisServer = tool("redis-server", "redis-server");
const redisCli = tool("redis-cli", "redis-tools");
const run = promisify(execFile);

let server: Awaited<ReturnType<typeof startFlaredis>>;
let proxy: ProxyProcess;
let reference: RedisServer;
let clients: { name: string; redis: Redis }[] = [];

beforeAll(async () => {
  if (redisServer.skip) return;
  assertInstalled(redisServer);
  server = await startFlaredis();
  proxy = await startProxy(server.url, "dev-token");
  reference = await startRedisServer();
  clients = [
    { name: "flaredis", redis: new Redis({ port: proxy.port, host: "127.0.0.1", lazyConnect: true }) },
    { name: "redis-server", redis: new Redis({ port: reference.port, host: "127.0.0.1", lazyConnect: true }) },
  ];
  for (const c of clients) await c.redis.connect();
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.redis.disconnect();
  proxy?.stop();
  await reference?.stop();
  await server?.dispose();
});

const ALL = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const byte = (i: number) => Buffer.of(i);
const b = (...parts: (string | number | Buffer)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : typeof p === "number" ? Buffer.of(p) : p)));
const sortedBuffers = (xs: Buffer[]) => [...xs].sort(Buffer.compare);
const pairsOf = (xs: Buffer[]) => {
  const out: [Buffer, Buffer][] = [];
  for (let i = 0; i < xs.length; i += 2) out.push([xs[i]!, xs[i + 1]!]);
  return out.sort((x, y) => Buffer.compare(x[0], y[0]));
};

/** The same calls on both sides; their answers, each side's. */
async function both<T>(call: (redis: Redis) => Promise<T>): Promise<[T, T]> {
  const [flaredis, redis] = await Promise.all(clients.map((c) => call(c.redis)));
  return [flaredis!, redis!];
}

describe("bytes through the proxy, beside redis-server", () => {
  it.skipIf(redisServer.skip)(`writes and reads names and values of all 256 byte values with ioredis's Buffers${redisServer.skipReason}`, async () => {
    await both((r) => r.flushall());
    await both(async (r) => {
      await r.set(b("bk:", ALL), Buffer.from(ALL).reverse());
      await r.hset(b("bh:", 0xff), ...Array.from({ length: 256 }, (_, i) => [byte(i), b(255 - i, i)]).flat());
      await r.sadd(b("bs:", 0x00), ...Array.from({ length: 256 }, (_, i) => byte(i)), Buffer.alloc(0));
      await r.zadd(b("bz:", 0x80), ...Array.from({ length: 256 }, (_, i) => ["0", byte(i)]).flat());
      await r.rpush(b("bl:", 0xc3), ...Array.from({ length: 256 }, (_, i) => byte(255 - i)), ALL);
      // In a transaction and a pipeline too.
      await r.multi().set(b("bm:", 0xfe), b(0x80, 0x00, 0xff)).incr(b("bn:", 0xed, 0xa0, 0x80)).exec();
      await r.pipeline().set(b("bp:", 0xc0, 0xaf), ALL.subarray(128)).append(b("bp:", 0xc0, 0xaf), ALL.subarray(0, 128)).exec();
    });
    const [get, getR] = await both((r) => r.getBuffer(b("bk:", ALL)));
    expect(get).toEqual(getR);
    expect(get).toEqual(Buffer.from(ALL).reverse());
    // HGETALL as the flat array of Buffers (hgetallBuffer keys an object by each field's text).
    const [hash, hashR] = await both((r) => r.callBuffer("HGETALL", b("bh:", 0xff)) as Promise<Buffer[]>);
    expect(pairsOf(hash)).toEqual(pairsOf(hashR));
    expect(hash).toHaveLength(512);
    const [members, membersR] = await both((r) => r.smembersBuffer(b("bs:", 0x00)));
    expect(sortedBuffers(members)).toEqual(sortedBuffers(membersR));
    expect(members).toHaveLength(257);
    for (const [min, max] of [["-", "+"], [b("[", 0x80), b("(", 0xff)], [b("(", 0x00), b("[", 0x7f)], [b("[", 0xff), "+"]] as const) {
      const [lex, lexR] = await both((r) => r.zrangebylexBuffer(b("bz:", 0x80), min, max));
      expect(lex, `${min} ${max}`).toEqual(lexR);
    }
    const [list, listR] = await both((r) => r.lrangeBuffer(b("bl:", 0xc3), 0, -1));
    expect(list).toEqual(listR);
    expect(list).toHaveLength(257);
    for (const key of [b("bm:", 0xfe), b("bp:", 0xc0, 0xaf)]) {
      const [v, vR] = await both((r) => r.getBuffer(key));
      expect(v).toEqual(vR);
    }
    const [n, nR] = await both((r) => r.getBuffer(b("bn:", 0xed, 0xa0, 0x80)));
    expect(n).toEqual(nR);
  });

  it.skipIf(redisServer.skip)(`matches KEYS and SCAN MATCH patterns of bytes as redis-server does${redisServer.skipReason}`, async () => {
    await both((r) => r.flushall());
    await both(async (r) => {
      const p = r.pipeline();
      for (let i = 0; i < 256; i++) p.set(b("pk:", i), "v");
      p.set(b("pk:", ALL), "v");
      p.set(b("pk:", 0xff, 0x00, 0xff), "v");
      p.set(b(0xc3, 0xa9, "é"), "v");
      await p.exec();
    });
    const patterns = [
      "*", b("pk:", 0xff, "*"), b("pk:[", 0x80, "-", 0xff, "]"), "pk:?", b("*", 0x00, "*"), b("pk:[^", 0x00, "-", 0x7f, "]"),
      b("pk:\\", 0xff), b("pk:[", 0xff, 0x00, "]*"), b(0xc3, "?", "*"), b("pk:", 0xff, "?", 0xff), b("pk:[", 0xff, "-", 0x80, "]"),
    ];
    for (const pattern of patterns) {
      const [keys, keysR] = await both((r) => r.callBuffer("KEYS", pattern) as Promise<Buffer[]>);
      expect(sortedBuffers(keys), String(pattern)).toEqual(sortedBuffers(keysR));
      const scanned = await both(async (r) => {
        const seen: Buffer[] = [];
        let cursor = "0";
        do {
          const [next, page] = (await r.callBuffer("SCAN", cursor, "MATCH", pattern, "COUNT", "50")) as [Buffer, Buffer[]];
          cursor = next.toString();
          seen.push(...page);
        } while (cursor !== "0");
        return sortedBuffers([...new Map(seen.map((k) => [k.toString("hex"), k])).values()]);
      });
      expect(scanned[0], `SCAN MATCH ${String(pattern)}`).toEqual(scanned[1]);
      expect(scanned[0]).toEqual(sortedBuffers(keysR));
    }
  });

  it.skipIf(redisServer.skip)(`node-redis with Buffers round-trips every byte value${redisServer.skipReason}`, async () => {
    const answers: Buffer[][] = [];
    for (const port of [proxy.port, reference.port]) {
      const client = createClient({ socket: { host: "127.0.0.1", port, reconnectStrategy: false } }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      await client.connect();
      try {
        await client.set(b("nr:", ALL), ALL);
        await client.rPush(b("nl:", 0x80), [byte(0), byte(0xff), ALL]);
        answers.push([(await client.get(b("nr:", ALL)))!, ...(await client.lRange(b("nl:", 0x80), 0, -1))]);
      } finally {
        client.destroy();
      }
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]![0]).toEqual(ALL);
  });

  it.skipIf(redisServer.skip)(`FUNCTION RESTORE takes the payload redis-server's FUNCTION DUMP wrote${redisServer.skipReason}`, async () => {
    const [flaredis, redis] = clients.map((c) => c.redis) as [Redis, Redis];
    const code = "#!lua name=bytes\nredis.register_function('hi', function(keys, args) return 'h\\255i ' .. args[1] end)";
    await redis.call("FUNCTION", "FLUSH");
    await redis.call("FUNCTION", "LOAD", code);
    const payload = (await redis.callBuffer("FUNCTION", "DUMP")) as Buffer;
    await flaredis.call("FUNCTION", "FLUSH");
    expect(await flaredis.call("FUNCTION", "RESTORE", payload)).toBe("OK");
    const [hi, hiR] = await both((r) => r.callBuffer("FCALL", "hi", "0", b(0x80)) as Promise<Buffer>);
    expect(hi).toEqual(hiR);
    expect(hi).toEqual(b("h", 0xff, "i ", 0x80));
  });

  it.skipIf(redisServer.skip || redisCli.skip)(`redis-cli sends and prints bytes as it does with redis-server${redisCli.skipReason}`, async () => {
    assertInstalled(redisCli);
    const cli = async (port: number, ...args: string[]) => (await run("redis-cli", ["-p", String(port), "--no-raw", ...args])).stdout;
    for (const port of [proxy.port, reference.port]) {
      // redis-cli reads "\xHH" escapes in double quotes from its prompt (stdin), as typed by a user.
      await run("sh", ["-c", `printf '%s\\n' 'SET "rcb:\\x80\\xff" "\\x00\\xfe\\xc3"' | redis-cli -p ${port}`]);
    }
    const [f, r] = await Promise.all([proxy.port, reference.port].map((port) => cli(port, "KEYS", "rcb:*")));
    expect(f).toBe(r);
    expect(f).toBe('1) "rcb:\\x80\\xff"\n');
    const get = async (port: number) => (await run("sh", ["-c", `printf '%s\\n' 'GET "rcb:\\x80\\xff"' | redis-cli -p ${port} --no-raw`])).stdout;
    expect(await get(proxy.port)).toBe(await get(reference.port));
    expect(await get(proxy.port)).toBe('"\\x00\\xfe\\xc3"\n');
  });
});
