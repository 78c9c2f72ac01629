// `npm run dev` itself, as a user runs it: it answers and prints its topology, and data written
// before it is stopped (Ctrl-C, or killed outright) is there when it starts again. How soon it
// answers is the bench's `dev` group (bench/run/dev.ts), not a test's pass or fail.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "./start";

const persist = mkdtempSync(join(tmpdir(), "flaredis-dev-"));
let child: ChildProcess | null = null;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function command(port: number, body: unknown, from?: { latitude: string; longitude: string }) {
  const headers: Record<string, string> = { authorization: "Bearer dev-token" };
  // wrangler dev takes request.cf from this header; clientAcceptEncoding "" keeps the body plain.
  if (from) headers["MF-CF-Blob"] = JSON.stringify({ ...from, clientAcceptEncoding: "" });
  const r = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", headers, body: JSON.stringify(body) });
  const json = (await r.json()) as { result?: unknown; error?: string };
  return Object.assign(json, { servedBy: r.headers.get("flaredis-served-by") });
}

/** Starts `npm run dev` and resolves with the port and its output so far; a start that never answers fails. */
async function startDev(args: string[] = [], dir = persist) {
  const port = await freePort();
  child = spawn("npm", ["run", "dev", "--", "--port", String(port), "--persist-to", dir, ...args], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, CI: "true" },
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  // Until it listens, the PING fails.
  let answered = false;
  await waitFor(async () => (answered = (await command(port, ["PING"]).catch(() => null))?.result === "PONG"), 50_000, 100);
  if (!answered) throw new Error("npm run dev did not answer in 50 s");
  return { port, output };
}

async function stopDev(signal: NodeJS.Signals) {
  const c = child!;
  child = null;
  const exited = new Promise((resolve) => c.once("exit", resolve));
  process.kill(-c.pid!, signal);
  await exited;
}

afterEach(async () => {
  if (child) await stopDev("SIGKILL");
});

describe("npm run dev", () => {
  it("runs 3 shards with --var FLAREDIS_SHARDS:3: each key in its hash slot's shard, CROSSSLOT over two", async () => {
    const { port } = await startDev(["--var", "FLAREDIS_SHARDS:3"], mkdtempSync(join(tmpdir(), "flaredis-dev-shards-")));
    const info = await command(port, ["CLUSTER", "INFO"]);
    expect(info.result).toMatch(/cluster_size:3\r\n/);
    // `a` hashes to slot 15495 (shard 3), `b` to 3300 (shard 1).
    expect(await command(port, ["SET", "a", "1"])).toMatchObject({ result: "OK", servedBy: "primary:enam.3" });
    expect(await command(port, ["SET", "b", "2"])).toMatchObject({ result: "OK", servedBy: "primary:enam" });
    expect(await command(port, ["MSET", "a", "1", "b", "2"])).toMatchObject({ error: "CROSSSLOT Keys in request don't hash to the same slot" });
    expect(await command(port, ["MSET", "{user1}:a", "1", "{user1}:b", "2"])).toMatchObject({ result: "OK", servedBy: "primary:enam.2" });
    expect(await command(port, ["DBSIZE"])).toMatchObject({ result: 4 });
  });


  it("answers, prints its topology and keeps data across a stop (Ctrl-C) and a kill", async () => {
    const first = await startDev();
    // It prints the local topology at start.
    expect(first.output).toMatch(/primary +enam +near Ashburn/);
    for (const r of ["wnam", "weur", "apac"]) expect(first.output).toMatch(new RegExp(`replica +${r} +near`));
    expect(await command(first.port, ["SET", "before-stop", "kept"])).toMatchObject({ result: "OK" });
    expect(await command(first.port, ["INCRBY", "counter", 5])).toMatchObject({ result: 5 });
    await stopDev("SIGINT");

    const second = await startDev();
    expect(await command(second.port, ["GET", "before-stop"])).toMatchObject({ result: "kept" });
    expect(await command(second.port, ["INCR", "counter"])).toMatchObject({ result: 6 });
    await stopDev("SIGKILL");

    const third = await startDev();
    expect(await command(third.port, ["GET", "counter"])).toMatchObject({ result: "6" });
    expect(await command(third.port, ["DBSIZE"])).toMatchObject({ result: 2 });
  }, 180_000); // three starts of `npm run dev`

  it("serves reads from the replica nearest to the client (MF-CF-Blob) and writes from the primary", async () => {
    const { port } = await startDev();
    expect(await command(port, ["SET", "k", "v"])).toMatchObject({ result: "OK", servedBy: "primary:enam" });
    const places = [
      [{ latitude: "48.86", longitude: "2.35" }, "replica:weur"], // Paris
      [{ latitude: "35.68", longitude: "139.69" }, "replica:apac"], // Tokyo
      [{ latitude: "37.77", longitude: "-122.42" }, "replica:wnam"], // San Francisco
    ] as const;
    // Replicas pick the key up a few ms after the write; until then reads go to the primary.
    await waitFor(async () => (await Promise.all(places.map(([from]) => command(port, ["GET", "k"], from)))).every((r, j) => r.servedBy === places[j]![1]), 5_000, 100);
    for (const [from, node] of places) expect(await command(port, ["GET", "k"], from)).toMatchObject({ result: "v", servedBy: node });
    expect(await command(port, ["SET", "k", "w"], places[0][0])).toMatchObject({ servedBy: "primary:enam" });
    const pipeline = async (commands: string[][]) => {
      const r = await fetch(`http://127.0.0.1:${port}/pipeline`, {
        method: "POST",
        headers: { authorization: "Bearer dev-token", "MF-CF-Blob": JSON.stringify({ ...places[1][0], clientAcceptEncoding: "" }) },
        body: JSON.stringify(commands),
      });
      return r.headers.get("flaredis-served-by");
    };
    expect(await pipeline([["GET", "k"], ["SET", "k", "x"]])).toBe("primary:enam"); // holds a write
    expect(await pipeline([["GET", "k"], ["EXISTS", "k"]])).toBe("replica:apac"); // reads only, from Tokyo
  });

  it("answers the official client's hash, list, set and sorted-set methods as Redis does", async () => {
    const { port } = await startDev();
    const redis = new Redis({ url: `http://127.0.0.1:${port}`, token: "dev-token", retry: false });
    await redis.flushall();
    expect(await redis.hset("h", { a: "1", b: "two" })).toBe(2);
    expect(await redis.hgetall("h")).toEqual({ a: 1, b: "two" });
    await expect(redis.get("h")).rejects.toThrow(/WRONGTYPE Operation against a key holding the wrong kind of value/);
    expect(await redis.rpush("l", "x", "y", "z")).toBe(3);
    expect(await redis.lrange("l", 0, -1)).toEqual(["x", "y", "z"]);
    expect(await redis.sadd("s", "m", "n")).toBe(2);
    expect((await redis.smembers("s")).sort()).toEqual(["m", "n"]);
    expect(await redis.zadd("z", { score: 1, member: "a" }, { score: 2, member: "b" }, { score: 3, member: "c" })).toBe(3);
    expect(await redis.zrange("z", 0, -1, { withScores: true })).toEqual(["a", 1, "b", 2, "c", 3]);
    expect(await redis.zrange("z", 3, 2, { byScore: true, rev: true })).toEqual(["c", "b"]);
    expect(await redis.zrange("z", "-inf", "+inf", { byScore: true, offset: 1, count: 1 })).toEqual(["b"]);
    expect(await redis.zunionstore("u", 2, ["z", "s"])).toBe(5);
    expect(await redis.sinterstore("i", "s", "s")).toBe(2);
    expect(await redis.lmove("l", "l2", "left", "right")).toBe("x");
  });
});
