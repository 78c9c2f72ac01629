// Bytes end to end (issue 33): names and values of any bytes, written through each HTTP route
// (JSON with base64 arguments in a pipeline and in a transaction, and the path form with
// percent-escaped names and a binary body), read back byte for byte at the primary and at every
// replica, before and after a failover; a 1 MB random value sent as curl --data-binary sends it.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODES, digestsWhenCaughtUp, startFlaredis } from "./start";

let server: Awaited<ReturnType<typeof startFlaredis>>;

beforeAll(async () => {
  server = await startFlaredis();
});
afterAll(async () => {
  await server?.dispose();
});

/** Where each replica is nearest (MF-CF-Blob); the primary is asked with Flaredis-Max-Staleness: 0. */
const PLACES: Record<string, { latitude: string; longitude: string }> = {
  weur: { latitude: "48.86", longitude: "2.35" }, // Paris
  apac: { latitude: "35.68", longitude: "139.69" }, // Tokyo
  wnam: { latitude: "37.77", longitude: "-122.42" }, // San Francisco
  enam: { latitude: "40.71", longitude: "-74.01" }, // New York
};

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const bytesOf = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
const text = (s: string) => new TextEncoder().encode(s);
/** Every byte as %XX: a path segment of any bytes. */
const pct = (b: Uint8Array) => Array.from(b, (x) => `%${x.toString(16).padStart(2, "0")}`).join("");

async function send(path: string, body: BodyInit | undefined, headers: Record<string, string> = {}) {
  const r = await fetch(`${server.url}${path}`, { method: "POST", headers: { authorization: "Bearer dev-token", ...headers }, body });
  return { status: r.status, servedBy: r.headers.get("flaredis-served-by"), json: (await r.json()) as any };
}

/** A pipeline (or transaction) of byte arguments, base64 both ways; its results, each still base64. */
async function pipeline(commands: Uint8Array[][], from: string | null = null, path = "/pipeline") {
  const headers: Record<string, string> = { "Flaredis-Request-Encoding": "base64", "Upstash-Encoding": "base64" };
  if (from === null) headers["Flaredis-Max-Staleness"] = "0";
  else headers["MF-CF-Blob"] = JSON.stringify(PLACES[from]);
  const r = await send(path, JSON.stringify(commands.map((c) => c.map(b64))), headers);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return { servedBy: r.servedBy, results: (r.json as { result?: unknown; error?: string }[]).map((o) => (o.error !== undefined ? o : o.result)) };
}

/** Orders as Redis does (memcmp): ZRANGEBYLEX's order. */
const memcmp = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const sorted = (xs: readonly Uint8Array[]) => [...xs].sort(memcmp);
const unique = (xs: readonly Uint8Array[]) => [...new Map(xs.map((x) => [b64(x), x])).values()];

interface Written {
  key: Uint8Array;
  value: Uint8Array;
  hash: [Uint8Array, Uint8Array][];
  members: Uint8Array[];
  list: Uint8Array[];
}

const READ = (w: Written, name: (s: string) => Uint8Array) => [
  [text("GET"), name("s")],
  [text("HGETALL"), name("h")],
  [text("SMEMBERS"), name("t")],
  [text("ZRANGEBYLEX"), name("z"), text("-"), text("+")],
  [text("LRANGE"), name("l"), text("0"), text("-1")],
];

/** What the reads of READ answer for `w`, as base64 (sets and hashes as sorted lists, which is how they are compared). */
function expected(w: Written) {
  const fields = new Map(w.hash.map(([f, v]) => [b64(f), b64(v)]));
  return [b64(w.value), [...fields].sort(), unique(w.members).map(b64).sort(), sorted(unique(w.members)).map(b64), w.list.map(b64)];
}
function actual(results: unknown[]) {
  const [get, hash, members, lex, list] = results as [string, string[], string[], string[], string[]];
  const pairs: [string, string][] = [];
  for (let i = 0; i < hash.length; i += 2) pairs.push([hash[i]!, hash[i + 1]!]);
  return [get, pairs.sort(), [...members].sort(), lex, list];
}

const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
const written = fc.record({
  key: bytes(40),
  value: bytes(3000),
  hash: fc.array(fc.tuple(bytes(30), bytes(100)), { minLength: 1, maxLength: 6 }),
  members: fc.array(bytes(30), { minLength: 1, maxLength: 8 }),
  list: fc.array(bytes(60), { minLength: 1, maxLength: 8 }),
});

describe("names and values of any bytes", () => {
  const all: { w: Written; name: (s: string) => Uint8Array }[] = [];

  it("round-trip byte for byte through each route, at the primary and at every replica (property)", async () => {
    let run = 0;
    // Every byte value appears, in names and values, across the runs.
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    // The first run: every byte value, empty names and elements, and a value of 512 KB.
    const first: Written = { key: every, value: new Uint8Array(randomBytes(512 * 1024)), hash: [[every, every]], members: [every, new Uint8Array(0), every.subarray(128)], list: [new Uint8Array(0), every] };
    await fc.assert(
      fc.asyncProperty(written, async (random) => {
        const w = run === 0 ? first : random;
        const id = run++;
        const name = (t: string) => Uint8Array.from([...text(`b:${id}:${t}:`), ...w.key]);
        const writes = [
          [text("SET"), name("s"), w.value],
          [text("HSET"), name("h"), ...w.hash.flat()],
          [text("SADD"), name("t"), ...w.members],
          [text("ZADD"), name("z"), ...w.members.flatMap((m) => [text("0"), m])],
          [text("RPUSH"), name("l"), ...w.list],
        ];
        // The path form cannot send an empty last argument (an empty body is none, an empty last
        // segment a trailing slash): such a run goes as JSON.
        const empty = w.value.length === 0 || w.hash.some(([f, v]) => f.length === 0 || v.length === 0) || w.members.some((m) => m.length === 0) || w.list.some((e) => e.length === 0);
        const route = id % 3 === 2 && empty ? 0 : id % 3;
        if (route === 0) await pipeline(writes);
        else if (route === 1) await pipeline(writes, null, "/multi-exec");
        else {
          // The path form: names percent-escaped, the element or value the raw body.
          const path = async (segments: Uint8Array[], body: Uint8Array) =>
            expect((await send(`/${segments.map(pct).join("/")}`, Buffer.from(body))).json).not.toHaveProperty("error");
          await path([text("SET"), name("s")], w.value);
          for (const [f, v] of w.hash) await path([text("HSET"), name("h"), f], v);
          for (const m of w.members) await path([text("SADD"), name("t")], m);
          for (const m of w.members) await path([text("ZADD"), name("z"), text("0")], m);
          for (const e of w.list) await path([text("RPUSH"), name("l")], e);
        }
        all.push({ w, name });
        await digestsWhenCaughtUp(server.url);
        const want = expected(w);
        expect(actual((await pipeline(READ(w, name))).results), "at the primary").toEqual(want);
        for (const node of ["weur", "apac", "wnam"]) {
          const r = await pipeline(READ(w, name), node);
          expect(r.servedBy, node).toBe(`replica:${node}`);
          expect(actual(r.results), `at ${node}`).toEqual(want);
        }
      }),
      { numRuns: 12, endOnFailure: true },
    );
    expect(new Set((await digestsWhenCaughtUp(server.url)).values()).size).toBe(1);
  }, 120_000);

  it("are the same bytes on the new primary after a failover, and every node's digest is equal", async () => {
    const failover = await send("/admin/failover", JSON.stringify({ to: "weur" }), { authorization: "Bearer dev-admin-token" });
    expect(failover).toMatchObject({ status: 200, json: { primary: "weur" } });
    for (const { w, name } of all) expect(actual((await pipeline(READ(w, name))).results)).toEqual(expected(w));
    const digests = await digestsWhenCaughtUp(server.url);
    expect(digests.size).toBe(NODES.length);
    expect(new Set(digests.values()).size).toBe(1);
  }, 60_000);

  it("takes a 1 MB random file sent with curl --data-binary and gives it back, at the primary and at a replica", async () => {
    const file = new Uint8Array(randomBytes(1_000_000));
    const path = join(server.persist, "random.bin");
    writeFileSync(path, file);
    const { stdout } = await promisify(execFile)("curl", ["-s", "--data-binary", `@${path}`, "-H", "Authorization: Bearer dev-token", `${server.url}/set/binary:file`]);
    expect(JSON.parse(stdout)).toEqual({ result: "OK" });
    await digestsWhenCaughtUp(server.url);
    for (const from of [null, "apac"]) {
      const r = await send("/get/binary:file", undefined, { "Upstash-Encoding": "base64", ...(from === null ? { "Flaredis-Max-Staleness": "0" } : { "MF-CF-Blob": JSON.stringify(PLACES[from]) }) });
      expect(r.servedBy).toBe(from === null ? "primary:weur" : `replica:${from}`);
      expect(Buffer.compare(Buffer.from(bytesOf(r.json.result)), Buffer.from(file))).toBe(0);
    }
    expect(new Set((await digestsWhenCaughtUp(server.url)).values()).size).toBe(1);
  }, 60_000);
});
