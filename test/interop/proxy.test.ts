// `flaredis proxy` (a Redis server over the HTTP API, RESP2 and RESP3) with real Redis clients: Debian's
// redis-cli and redis-benchmark (redis-tools) and ioredis, against the real worker. Also
// `flaredis cli`, whose output must read as redis-cli's for the same replies.
import { execFile, spawnSync } from "node:child_process";
import { connect } from "node:net";
import { promisify } from "node:util";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFlaredis, waitFor } from "../e2e/start";
import { assertInstalled, tool } from "./need-tool";
import { BIN, type ProxyProcess, startProxy } from "./proxy-process";

const run = promisify(execFile);
const redisCli = tool("redis-cli", "redis-tools");
const redisBenchmark = tool("redis-benchmark", "redis-tools");

let server: Awaited<ReturnType<typeof startFlaredis>>;
let proxy: ProxyProcess;
let port = 0;

beforeAll(async () => {
  server = await startFlaredis();
  proxy = await startProxy(server.url, "dev-token", true);
  port = proxy.port;
});
afterAll(async () => {
  proxy?.stop();
  await server?.dispose();
});

/** redis-cli through the proxy: its stdout (an error reply does not make it fail). */
async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-p", String(port), ...args]);
  return stdout;
}

/** `flaredis cli` one-shot: stdout and the exit code. */
async function flaredisCli(...args: string[]): Promise<{ stdout: string; code: number }> {
  try {
    const { stdout } = await run(process.execPath, [BIN, "cli", "--url", server.url, "--token", "dev-token", ...args]);
    return { stdout, code: 0 };
  } catch (e) {
    const failed = e as { stdout: string; code: number };
    return { stdout: failed.stdout, code: failed.code };
  }
}

/** Sends raw bytes on a new connection and reads until the proxy closes it. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    socket.on("data", (d) => (out += d.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve(out));
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`the proxy kept the connection open after: ${JSON.stringify(out)}`));
    });
    socket.write(Buffer.from(bytes, "latin1"));
  });
}

describe("blocking commands through the proxy", () => {
  /** Polls INFO through the proxy until the primary holds `n` blocked clients. */
  async function untilBlocked(n: number): Promise<void> {
    for (let i = 0; i < 400; i++) if ((await cli("INFO", "clients")).includes(`blocked_clients:${n}`)) return;
    throw new Error(`not ${n} blocked clients: ${await cli("INFO", "clients")}`);
  }

  it.skipIf(redisCli.skip)(`redis-cli in BLPOP blocks until a push, and clients are served in the order they came${redisCli.skipReason}`, async () => {
    assertInstalled(redisCli);
    const first = run("redis-cli", ["-p", String(port), "--no-raw", "BLPOP", "bq", "5"]);
    await untilBlocked(1);
    const client = new Redis({ port, host: "127.0.0.1" });
    try {
      const second = client.blpop("bq", 5);
      await untilBlocked(2);
      expect(await cli("RPUSH", "bq", "one", "two")).toBe("2\n");
      expect((await first).stdout).toBe('1) "bq"\n2) "one"\n');
      expect(await second).toEqual(["bq", "two"]);
      // A timeout answers nil (redis-cli's empty array), as redis-server's does.
      expect((await run("redis-cli", ["-p", String(port), "BLPOP", "bq", "0.05"])).stdout).toBe("\n");
      expect(await client.bzpopmin("none", 0.05)).toBeNull();
    } finally {
      client.disconnect();
    }
  });

  it("ioredis in XREAD BLOCK and XREADGROUP BLOCK wakes on an XADD with what it added", async () => {
    const client = new Redis({ port, host: "127.0.0.1" });
    const member = new Redis({ port, host: "127.0.0.1" });
    try {
      await client.xadd("xq", "1-1", "a", "1");
      await client.xgroup("CREATE", "xq", "g", "$");
      const reader = client.xread("BLOCK", 5000, "STREAMS", "xq", "$");
      await untilBlocked(1);
      const worker = member.xreadgroup("GROUP", "g", "w", "BLOCK", 5000, "STREAMS", "xq", ">");
      await untilBlocked(2);
      expect(await cli("XADD", "xq", "2-1", "b", "2")).toBe("2-1\n");
      expect(await reader).toEqual([["xq", [["2-1", ["b", "2"]]]]]);
      expect(await worker).toEqual([["xq", [["2-1", ["b", "2"]]]]]);
      expect(await client.xread("BLOCK", 50, "STREAMS", "xq", "$")).toBeNull();
    } finally {
      client.disconnect();
      member.disconnect();
    }
  });
});

describe("pub/sub through the proxy", () => {
  it("ioredis subscribes and psubscribes; messages come in publish order; PUBLISH counts them; RESP2 refuses other commands while subscribed", async () => {
    const sub = new Redis({ port, host: "127.0.0.1" });
    const pub = new Redis({ port, host: "127.0.0.1" });
    try {
      const got: string[] = [];
      sub.on("message", (channel: string, message: string) => got.push(`${channel}:${message}`));
      sub.on("pmessage", (pattern: string, channel: string, message: string) => got.push(`${pattern}>${channel}:${message}`));
      expect(await sub.subscribe("px:news", "px:bin")).toBe(2);
      expect(await sub.psubscribe("px:n*")).toBe(3);
      for (let i = 0; i < 20; i++) expect(await pub.publish("px:news", `m${i}`)).toBe(2);
      // Any bytes, and a comma, arrive as they were sent.
      expect(await pub.publish("px:bin", "a,b\u00e9")).toBe(1);
      await waitFor(() => got.length >= 41);
      expect(got.filter((g) => g.startsWith("px:news:"))).toEqual(Array.from({ length: 20 }, (_, i) => `px:news:m${i}`));
      expect(got.filter((g) => g.startsWith("px:n*>"))).toEqual(Array.from({ length: 20 }, (_, i) => `px:n*>px:news:m${i}`));
      expect(got.at(-1)).toBe("px:bin:a,b\u00e9");
      expect(await pub.call("PUBSUB", "NUMSUB", "px:news")).toEqual(["px:news", 1]);
      expect(await sub.unsubscribe("px:news")).toBe(2);
      // The subscription ends at the node once its response's end reaches it: within a moment.
      let counted = 2;
      await waitFor(async () => (counted = await pub.publish("px:news", "late")) === 1);
      expect(counted).toBe(1);
    } finally {
      sub.disconnect();
      pub.disconnect();
    }
    // RESP2 (redis-cli's): a subscribed connection takes only the pub/sub commands, PING, QUIT, RESET.
    const answered = await raw("*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\npx:r\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nQUIT\r\n");
    expect(answered).toBe(
      "*3\r\n$9\r\nsubscribe\r\n$4\r\npx:r\r\n:1\r\n" +
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n" +
        "*2\r\n$4\r\npong\r\n$0\r\n\r\n+OK\r\n",
    );
  });
});

describe("redis-cli", () => {
  it.skipIf(redisCli.skip)(`SET, GET, nil, numbered arrays, errors passed through${redisCli.skipReason}`, async () => {
    assertInstalled(redisCli);
    expect(await cli("SET", "rc:k", "hello world")).toBe("OK\n");
    expect(await cli("--no-raw", "GET", "rc:k")).toBe('"hello world"\n');
    expect(await cli("GET", "rc:k")).toBe("hello world\n");
    expect(await cli("--no-raw", "MGET", "rc:k", "rc:none")).toBe('1) "hello world"\n2) (nil)\n');
    expect(await cli("--no-raw", "INCR", "rc:n")).toBe("(integer) 1\n");
    // HSET on a hash, then on the string: Redis's WRONGTYPE, through the proxy as the server wrote it.
    expect(await cli("--no-raw", "HSET", "rc:h", "f", "v")).toBe("(integer) 1\n");
    expect(await cli("--no-raw", "HGET", "rc:h", "f")).toBe('"v"\n');
    expect(await cli("--no-raw", "HSET", "rc:k", "f", "v")).toBe("(error) WRONGTYPE Operation against a key holding the wrong kind of value\n");
    expect(await cli("--no-raw", "SELECT", "1")).toBe("(error) ERR DB index is out of range\n");
    // SELECT 0 is answered by the proxy; anything else by the server, as redis-server reads it.
    expect(await cli("--no-raw", "SELECT", "0")).toBe("OK\n");
    expect(await cli("--no-raw", "SELECT", "00")).toBe("(error) ERR value is not an integer or out of range\n");
    expect(await cli("--no-raw", "SELECT", "2147483648")).toBe("(error) ERR value is out of range, value must between -2147483648 and 2147483647\n");
  });

  it.skipIf(redisCli.skip)(`bytes that are not UTF-8 come back exact${redisCli.skipReason}`, async () => {
    assertInstalled(redisCli);
    await cli("SET", "rc:b", "é");
    await cli("SETRANGE", "rc:b", "1", "x"); // cuts the two-byte é: \xc3 x
    expect(await cli("--no-raw", "GET", "rc:b")).toBe('"\\xc3x"\n');
    const { stdout } = await run("redis-cli", ["-p", String(port), "GET", "rc:b"], { encoding: "buffer" });
    expect([...stdout]).toEqual([0xc3, 0x78, 0x0a]);
  });

  it.skipIf(redisCli.skip)(`flaredis cli prints what redis-cli prints${redisCli.skipReason}`, async () => {
    assertInstalled(redisCli);
    await cli("MSET", "fmt:a", 'quote " and \\ and \t', "fmt:b", "2");
    // [command, whether its reply is an error (flaredis cli then exits 1)]
    const commands: [string[], boolean][] = [
      [["GET", "fmt:a"], false],
      [["MGET", "fmt:a", "fmt:none", "fmt:b"], false],
      [["KEYS", "fmt:*"], false],
      [["STRLEN", "fmt:a"], false],
      [["GET", "fmt:none"], false],
      [["TYPE", "fmt:a"], false],
      [["SCAN", "0", "MATCH", "fmt:*", "COUNT", "100"], false],
      [["KEYS", "nothing:*"], false],
      [["INCR", "fmt:a"], true],
      [["NOSUCHCOMMAND", "x"], true],
      [["INFO", "keyspace"], false],
    ];
    for (const [command, isError] of commands)
      for (const mode of ["--no-raw", "--raw"]) {
        const expected = await cli(mode, ...command);
        const got = await flaredisCli(mode, ...command);
        const what = `${mode} ${command.join(" ")}`;
        // KEYS and SCAN list keys in no fixed order: compare their lines as sets.
        if (["KEYS", "SCAN"].includes(command[0]!)) expect(got.stdout.split("\n").sort(), what).toEqual(expected.split("\n").sort());
        else expect(got.stdout, what).toBe(expected);
        expect(got.code, what).toBe(isError ? 1 : 0);
      }
  });
});

describe("ioredis", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 });
  });
  afterAll(() => redis?.disconnect());

  it("connects (ioredis 6's HELLO 3 handshake, INFO ready check) and runs commands", async () => {
    await redis.connect();
    expect(await redis.ping()).toBe("PONG");
    expect(await redis.set("io:k", "v", "EX", 600)).toBe("OK");
    expect(await redis.get("io:k")).toBe("v");
    expect(await redis.client("ID")).toEqual(expect.any(Number));
  });

  it("pipelines: 500 commands answered in order, errors in place", async () => {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 250; i++) pipeline.set(`io:p${i}`, `v${i}`);
    for (let i = 0; i < 249; i++) pipeline.get(`io:p${i}`);
    pipeline.incr("io:p0");
    const results = (await pipeline.exec())!;
    expect(results).toHaveLength(500);
    for (let i = 0; i < 250; i++) expect(results[i]).toEqual([null, "OK"]);
    for (let i = 0; i < 249; i++) expect(results[250 + i]).toEqual([null, `v${i}`]);
    expect(String(results[499]![0])).toMatch(/ERR value is not an integer or out of range/);
  });

  it("MULTI/EXEC is atomic through /multi-exec; an unknown command aborts it whole", async () => {
    expect(await redis.multi().set("io:m", "1").incr("io:m").get("io:m").exec()).toEqual([
      [null, "OK"],
      [null, 2],
      [null, "2"],
    ]);
    await expect(redis.multi().incr("io:m").call("NOSUCHCOMMAND").exec()).rejects.toThrow(/EXECABORT/);
    expect(await redis.get("io:m")).toBe("2");
  });

  it("binary replies: getBuffer gives the stored bytes", async () => {
    await redis.set("io:bin", "€");
    await redis.setrange("io:bin", 1, "x");
    expect([...(await redis.getBuffer("io:bin"))!]).toEqual([0xe2, 0x78, 0xac]);
  });
});

describe("malformed RESP", () => {
  it("gets Redis's protocol error and a closed connection, while other clients are served", async () => {
    const other = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
    try {
      expect(await other.set("bad:k", "still here")).toBe("OK");
      expect(await raw("*1\r\n$-5\r\n")).toBe("-ERR Protocol error: invalid bulk length\r\n");
      expect(await raw("*99999999999\r\n")).toBe("-ERR Protocol error: invalid multibulk length\r\n");
      expect(await raw("*1\r\n$99999999999999999\r\n")).toBe("-ERR Protocol error: invalid bulk length\r\n");
      expect(await raw("PING\r\n*1\r\nGET\r\n")).toBe("+PONG\r\n-ERR Protocol error: expected '$', got 'G'\r\n");
      expect(await raw('SET a "b\r\n')).toBe("-ERR Protocol error: unbalanced quotes in request\r\n");
      expect(await raw("*2\r\n$3\r\nGET\r\n$5\r\nbad:k\r\nQUIT\r\n")).toBe("$10\r\nstill here\r\n+OK\r\n");
      expect(await other.get("bad:k")).toBe("still here");
    } finally {
      other.disconnect();
    }
  });
});

describe("redis-benchmark", () => {
  it.skipIf(redisBenchmark.skip)(`-t set,get -n 2000 -q completes${redisBenchmark.skipReason}`, async () => {
    assertInstalled(redisBenchmark);
    const { stdout } = await run("redis-benchmark", ["-p", String(port), "-t", "set,get", "-n", "2000", "-q"], {
      timeout: 100_000,
    });
    // -q prints a running rate then, per test, "SET: N requests per second, p50=… msec".
    const finals = stdout.split(/[\r\n]/).filter((l) => / requests per second/.test(l));
    console.log(`redis-benchmark through the proxy:\n${finals.join("\n")}`);
    expect(finals.map((l) => l.trim().split(":")[0])).toEqual(["SET", "GET"]);
  });
});

describe("the proxy's own metrics (--metrics-port)", () => {
  const promtool = tool("promtool", "prometheus");
  it.skipIf(promtool.skip)(`count connections, commands and the Worker's requests, and pass promtool check metrics${promtool.skipReason}`, async () => {
    assertInstalled(promtool);
    const read = async () => (await fetch(`http://127.0.0.1:${proxy.metricsPort}/metrics`)).text();
    const before = await read();
    const client = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
    await client.set("pm:k", "v");
    await client.pipeline().get("pm:k").get("pm:k").exec();
    const during = await read();
    client.disconnect();
    const value = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    expect(value(during, "flaredis_proxy_connections")).toBeGreaterThanOrEqual(1);
    expect(value(during, "flaredis_proxy_commands_total") - value(before, "flaredis_proxy_commands_total")).toBeGreaterThanOrEqual(3);
    expect(during).toMatch(/^flaredis_proxy_http_requests_total\{route="pipeline",status="200"\} [1-9]/m);
    expect(during).toMatch(/^flaredis_proxy_http_request_duration_seconds_count\{route="single"\} [1-9]/m);
    const check = spawnSync("promtool", ["check", "metrics"], { input: during, encoding: "utf8" });
    expect(`${check.status} ${check.stdout}${check.stderr}`.trim()).toBe("0");
    expect((await fetch(`http://127.0.0.1:${proxy.metricsPort}/other`)).status).toBe(404);
  });
});
