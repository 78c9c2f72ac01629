// Issue 16's full sync on real nodes (SQLite, RPC): the strings of a chunk are read, packed and
// loaded by SQLite itself (JSON with the names and values in hex). Names with NUL and non-ASCII
// characters, the empty name, values with NUL and multi-byte characters, deadlines, and a hash
// whose elements span chunks between them come through equal, and the replica's counts match;
// a string changed in place stays `raw` for OBJECT ENCODING.
import { evictDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { fromText, toBytes } from "../../durable-objects/engine/bytes";
import { forgetSync } from "../../durable-objects/engine/replication/sync";
import { inNode, nodeApi, redis, stubOf } from "../support/helpers";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const VALUE = "v".repeat(180);
const SPECIAL: [string, string][] = [
  ["", "the empty name"],
  ["nul\u0000inside", "value\u0000with\u0000nuls"],
  ["ключ:é:😀", "значение:ü:🎉"],
  ["quote'and\"json\\chars\n", "[1,\"x\"]"],
];

const stat = async (node: string, section: string, name: string) =>
  Number((await nodeApi(node).info([section])).match(new RegExp(`^${name}:(\\d+)`, "m"))?.[1]);
/** Bytes that are not UTF-8, as a name and a value (binary strings: engine/bytes.ts). */
const BINARY: [string, string] = ["\x80\xff:\xc3", "\xfe\x00\xc0\x80"];

const run = async (node: string, argv: string[]) => {
  const { result } = await nodeApi(node).execute({ mode: "single", commands: [argv], permission: "admin" });
  const outcome = "outcomes" in result ? result.outcomes![0]! : result;
  return "result" in outcome ? outcome.result : outcome;
};
const read = async (node: string, argv: string[]) => {
  const { result } = await nodeApi(node).execute({ mode: "single", commands: [argv.map(fromText)], permission: "admin" });
  const outcome = "outcomes" in result ? result.outcomes![0]! : result;
  const r = "result" in outcome ? outcome.result : outcome;
  return r instanceof Uint8Array ? new TextDecoder().decode(r) : r;
};

beforeAll(async () => {
  await redis("FLUSHALL");
  await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
});

describe("a full sync of strings on real nodes", () => {
  it("brings names and values of any bytes, deadlines and a hash between them, in several chunks", async () => {
    for (let b = 0; b < 20; b++)
      await redis("MSET", ...Array.from({ length: 1000 }, (_, i) => [`k:${b * 1000 + i}`, `${b * 1000 + i}:${VALUE}`]).flat());
    for (const [k, v] of SPECIAL) await redis("SET", k, v);
    await run(PRIMARY, ["SET", ...BINARY]);
    for (let i = 0; i < 50; i++) await redis("SET", `ttl:${i}`, "x", "PX", String(3_600_000 + i));
    // Strings changed in place keep Redis's raw encoding through the packed run.
    await redis("SET", "appended", "a");
    await redis("APPEND", "appended", "b");
    await redis("HSET", "h", ...Array.from({ length: 3000 }, (_, i) => [`f${i}`, `${i}:${VALUE}`]).flat());
    await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
    const fullBefore = await stat(PRIMARY, "stats", "sync_full");
    await inNode(stubOf("weur"), (node) => forgetSync(node.core.engine));
    await evictDurableObject(stubOf("weur"));
    await nodeApi("weur").catchUp();
    expect(await stat(PRIMARY, "stats", "sync_full")).toBeGreaterThan(fullBefore);

    expect(await nodeApi("weur").digest()).toEqual({ ...(await nodeApi(PRIMARY).digest()), node: "weur" });
    for (const [k, v] of SPECIAL) expect(await read("weur", ["GET", k]), JSON.stringify(k)).toBe(v);
    expect(await run("weur", ["GET", BINARY[0]])).toEqual(toBytes(BINARY[1]));
    expect(await read("weur", ["PTTL", "ttl:7"])).toBeGreaterThan(3_000_000);
    expect(await read("weur", ["HLEN", "h"])).toBe(3000);
    expect(await read("weur", ["OBJECT", "ENCODING", "appended"])).toBe("raw");
    expect(await read("weur", ["OBJECT", "ENCODING", "k:7"])).toBe("raw"); // 185 bytes: raw by its length
    expect(await read("weur", ["DBSIZE"])).toBe(await read(PRIMARY, ["DBSIZE"]));
    const memory = async (node: string) => stat(node, "memory", "used_memory_dataset");
    expect(await memory("weur")).toBe(await memory(PRIMARY));
  });
});
