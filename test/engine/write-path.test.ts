// Issue 16's write path on a real node (SQLite): the keys a transaction writes are buffered and
// stored at its end in multi-row statements, one backlog row per request. Reads of the whole
// keyspace inside the same pipeline see the writes before them; a MULTI's failing call changes
// nothing and the others apply; a pipeline of 100 SETs writes about one row per SET on the
// primary and on each replica, as the runtime counts them.
import { beforeAll, describe, expect, it } from "vitest";
import { call, inNode, nodeApi, redis, stubOf } from "../support/helpers";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const usage = async (node: string) => (await call(undefined, { method: "GET", path: `/admin/nodes/${node}/storage` })).json as { rows_written: number };
const pipeline = async (commands: (string | number)[][]) => {
  const r = await call(commands, { path: "/pipeline" });
  expect(r.status).toBe(200);
  return (r.json as { result?: unknown; error?: string }[]).map((o) => o.result ?? o.error);
};

beforeAll(async () => {
  await redis("FLUSHALL");
  await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
});

describe("the write path on SQLite", () => {
  it("reads of the whole keyspace in a pipeline see the writes before them, not its deletes", async () => {
    const [, , scan, keys, , dbsize, random, , keysAfter, exists] = await pipeline([
      ["SET", "wp:a", "1"],
      ["SET", "wp:b", "2"],
      ["SCAN", "0", "COUNT", "1000"],
      ["KEYS", "wp:*"],
      ["DEL", "wp:a"],
      ["DBSIZE"],
      ["RANDOMKEY"],
      ["SET", "wp:a", "3", "PX", "60000"],
      ["KEYS", "wp:*"],
      ["EXISTS", "wp:a", "wp:b"],
    ]);
    expect((scan as [string, string[]])[1].sort()).toEqual(["wp:a", "wp:b"]);
    expect((keys as string[]).sort()).toEqual(["wp:a", "wp:b"]);
    expect(dbsize).toBe(1);
    expect(random).toBe("wp:b");
    expect((keysAfter as string[]).sort()).toEqual(["wp:a", "wp:b"]);
    expect(exists).toBe(2);
    expect(await redis("GET", "wp:a")).toBe("3");
    expect(await redis("PTTL", "wp:a")).toBeGreaterThan(50_000);
  });

  it("a MULTI's failing call changes nothing and the others apply, stored at its end", async () => {
    await redis("SET", "wp:str", "x");
    const r = await call([["SET", "wp:m1", "1"], ["LPUSH", "wp:str", "y"], ["SET", "wp:m2", "2"]], { path: "/multi-exec" });
    expect(r.status).toBe(200);
    expect((r.json as { error?: string }[])[1]!.error).toMatch(/^WRONGTYPE/);
    expect(await redis("MGET", "wp:m1", "wp:m2", "wp:str")).toEqual(["1", "2", "x"]);
    await Promise.all(REPLICAS.map((n) => nodeApi(n).catchUp()));
    for (const n of REPLICAS) expect(await nodeApi(n).digest(), n).toEqual({ ...(await nodeApi(PRIMARY).digest()), node: n });
  });

  it("a pipeline of 100 SETs writes about one row per SET on the primary and on each replica", async () => {
    const before = await Promise.all([PRIMARY, ...REPLICAS].map(usage));
    for (let b = 0; b < 10; b++) await pipeline(Array.from({ length: 100 }, (_, i) => ["SET", `rows:${b * 100 + i}`, "v".repeat(100)]));
    await Promise.all(REPLICAS.map((n) => nodeApi(n).catchUp()));
    // Each node may still hold the keys in memory (deferred, in the log): count them stored.
    for (const n of [PRIMARY, ...REPLICAS]) await inNode(stubOf(n), (node) => node.core.engine.storage.storeDeferred());
    const after = await Promise.all([PRIMARY, ...REPLICAS].map(usage));
    const perSet = after.map((a, i) => (a.rows_written - before[i]!.rows_written) / 1000);
    // Was 3 on each node (the key's row, its name's index entry, a backlog row per command).
    expect(perSet[0]).toBeLessThanOrEqual(1.05);
    for (const n of perSet.slice(1)) expect(n).toBeLessThanOrEqual(1.1);
  });
});
