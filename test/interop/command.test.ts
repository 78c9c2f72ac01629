// COMMAND beside redis-server, through `flaredis proxy` (issue 35): COMMAND INFO and COMMAND DOCS of
// commands Flaredis serves as redis-server 7.0 has them (RESP2 with ioredis, RESP3 with node-redis),
// COMMAND GETKEYS and GETKEYSANDFLAGS, LIST FILTERBY and their errors equal to redis-server's; and
// redis-cli's own use of COMMAND DOCS (its hints) answered.
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { promisify } from "node:util";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";
import { tool } from "./need-tool";
import { answersOn, sideBySide } from "./side-by-side";

const redisServer = tool("redis-server", "redis-server");
const redisCli = tool("redis-cli", "redis-tools");

const t = sideBySide(["dev-token"]);


/** Commands of every kind Flaredis serves whole (every subcommand): strings, types, scripting, a container, options among keys. */
const SOME = ["get", "set", "mset", "hset", "zadd", "zunionstore", "xadd", "xreadgroup", "eval", "config", "sort", "georadius", "blmove", "object", "xinfo"];

/** What a server writes back for `frames` (the last a PING), as text, read until its +PONG. */
function raw(port: number, frames: string[][]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    socket.on("data", (chunk: Buffer) => {
      got += chunk.toString("latin1");
      if (got.endsWith("+PONG\r\n")) {
        socket.end();
        resolve(got);
      }
    });
    socket.on("error", reject);
    socket.write(frames.map((f) => `*${f.length}\r\n${f.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`).join(""));
  });
}

const settle = (p: Promise<unknown>) => p.then((v) => v, (e: Error) => `error: ${e.message}`);

/**
 * Subcommands in name order: redis-server lists them in its dict's order, which differs from one
 * server to the next (its hash seed). INFO's entries hold them at [9]; DOCS's under "subcommands"
 * (flat pairs in RESP2, an object in RESP3).
 */
function ordered(v: unknown): unknown {
  if (!Array.isArray(v)) {
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, ordered(x)]));
    return v;
  }
  const out = v.map(ordered);
  if (out.length === 10 && typeof out[0] === "string" && typeof out[1] === "number" && Array.isArray(out[9]))
    out[9] = [...(out[9] as unknown[][])].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
  const at = out.indexOf("subcommands");
  if (at >= 0 && at % 2 === 0 && Array.isArray(out[at + 1])) {
    const flat = out[at + 1] as unknown[];
    const pairs: [unknown, unknown][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
    out[at + 1] = pairs.sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)).flat();
  }
  return out;
}

async function answers3(port: number, calls: string[][]): Promise<unknown[]> {
  const c = createClient({ socket: { port, host: "127.0.0.1", reconnectStrategy: false }, RESP: 3 });
  await c.connect();
  try {
    const out: unknown[] = [];
    for (const argv of calls) out.push(await settle(c.sendCommand(argv)));
    return out;
  } finally {
    await c.quit();
  }
}

describe.skipIf(redisServer.skip && !process.env.FLAREDIS_INTEROP_REQUIRED)("COMMAND beside redis-server", () => {
  const calls = [
    ["COMMAND", "INFO", ...SOME, "nosuchcommand"],
    ["COMMAND", "DOCS", ...SOME, "nosuchcommand"],
    ["COMMAND", "INFO", "config|get", "object|encoding"],
    ["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"],
    ["COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"],
    ["COMMAND", "GETKEYS", "EVAL", "return 1", "2", "k1", "k2", "arg"],
    ["COMMAND", "GETKEYSANDFLAGS", "LMOVE", "a", "b", "LEFT", "RIGHT"],
    ["COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b"],
    ["COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "GET"],
    ["COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "a", "GET", "u8", "0"],
    ["COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "a", "INCRBY", "u8", "0", "1"],
    ["COMMAND", "GETKEYSANDFLAGS", "COPY", "a", "b"],
    ["COMMAND", "GETKEYS", "nosuchcommand", "x"],
    ["COMMAND", "GETKEYS", "GET", "a", "b"],
    ["COMMAND", "GETKEYS", "PING", "x"],
    ["COMMAND", "GETKEYS", "GET"],
    ["COMMAND", "LIST", "FILTERBY", "MODULE", "x"],
    ["COMMAND", "LIST", "FILTERBY", "NOPE", "x"],
    ["COMMAND", "NOPE"],
    ["COMMAND", "HELP"],
  ];

  it("answers as redis-server does in RESP2 (ioredis)", async () => {
    expect(ordered(await answersOn(t.proxy.port, calls))).toEqual(ordered(await answersOn(t.reference!.port, calls)));
  });

  it("answers as redis-server does in RESP3 (node-redis): maps, sets", async () => {
    expect(ordered(await answers3(t.proxy.port, calls))).toEqual(ordered(await answers3(t.reference!.port, calls)));
  });

  it("lists by category what redis-server lists, less the commands Flaredis refuses, plus the newer ones it serves", async () => {
    const filter = [["COMMAND", "LIST", "FILTERBY", "ACLCAT", "hash"]];
    const [ours, redis] = await Promise.all([answersOn(t.proxy.port, filter), answersOn(t.reference!.port, filter)]);
    const [o, r] = [new Set(ours[0] as string[]), new Set(redis[0] as string[])];
    expect([...r].filter((n) => !o.has(n))).toEqual([]);
    expect([...o].filter((n) => !r.has(n)).sort()).toEqual(expect.arrayContaining(["hexpire", "hpersist", "httl"]));
  });

  it.skipIf(redisCli.skip && !process.env.FLAREDIS_INTEROP_REQUIRED)("redis-cli reads COMMAND DOCS for its hints", async () => {
    const run = promisify(execFile);
    const { stdout } = await run("redis-cli", ["-p", String(t.proxy.port), "COMMAND", "DOCS", "set"]);
    expect(stdout).toContain("Set the string value of a key");
    // Reading commands from stdin, redis-cli loads every command's docs for its hints first, and
    // asserts that flags are status replies (it aborted on bulk strings).
    const piped = await run("sh", ["-c", `printf 'SET cmd:k v\\nGET cmd:k\\n' | redis-cli -p ${t.proxy.port}`]);
    expect(piped.stdout).toBe("OK\nv\n");
  });

  it("writes COMMAND INFO's and DOCS's bytes as redis-server does, flags as status replies (RESP2 and RESP3)", async () => {
    for (const hello of [[], ["HELLO", "3"]]) {
      const frames = [...(hello.length ? [hello] : []), ["COMMAND", "INFO", "get", "set", "zadd"], ["COMMAND", "DOCS", "get", "lmove"], ["PING"]];
      const [ours, theirs] = await Promise.all([raw(t.proxy.port, frames), raw(t.reference!.port, frames)]);
      // The HELLO's own reply names the server: compared from the COMMAND replies on.
      const from = (b: string) => b.slice(b.indexOf("*3\r\n*10\r\n"));
      expect(from(ours)).toBe(from(theirs));
    }
  });
});
