// Issue 15's acceptance 3 on real nodes (SQLite, RPC): a replica forced into a full sync while a
// big hash, a list and a sorted set keep changing ends with the primary's digest; a mixed-type
// workload with SPOP, LPOP, ZPOPMAX and HINCRBYFLOAT leaves every node with the same digest.
import { evictDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { forgetSync } from "../../durable-objects/engine/replication/sync";
import { call, inNode, nodeApi, redis, stubOf } from "../support/helpers";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const VALUE = "v".repeat(200);

const stat = async (node: string, name: string) => Number((await nodeApi(node).info(["stats"])).match(new RegExp(`^${name}:(\\d+)`, "m"))?.[1]);

async function digestsEqual() {
  await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
  const primary = await nodeApi(PRIMARY).digest();
  for (const r of REPLICAS) expect(await nodeApi(r).digest(), r).toEqual({ ...primary, node: r });
}

beforeAll(async () => {
  await redis("FLUSHALL");
  await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
});

describe("collections through a full sync on real nodes", () => {
  it("a replica forced into a full sync while a big hash, list and sorted set change ends with the primary's digest", async () => {
    for (let b = 0; b < 10; b++) {
      const n = Array.from({ length: 500 }, (_, i) => b * 500 + i);
      await redis("HSET", "h", ...n.flatMap((i) => [`f${i}`, `${i}:${VALUE}`]));
      await redis("RPUSH", "l", ...n.map((i) => `${i}:${VALUE}`));
      await redis("ZADD", "z", ...n.flatMap((i) => [String(i), `m${i}:${VALUE}`]));
    }
    await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
    const fullBefore = await stat(PRIMARY, "sync_full");
    // weur forgets its sync (as after a lost backlog) and restarts: its next PSYNC is a full sync.
    await inNode(stubOf("weur"), (node) => forgetSync(node.core.engine));
    await evictDurableObject(stubOf("weur"));
    // Before every snapshot chunk it serves, the primary takes a batch of writes to all three.
    await inNode(stubOf(PRIMARY), (node) => {
      const core = node.core;
      const serve = core.snapshot.bind(core);
      let i = 0;
      core.snapshot = (replica, cursor) => {
        i++;
        core.engine.run({
          mode: "pipeline",
          permission: "admin",
          commands: [
            ["HINCRBY", "h", `c${(i * 37) % 5000}`, "1"],
            ["HSET", "h", `f${(i * 13) % 5000}`, `changed${i}`],
            ["HDEL", "h", `f${(i * 17 + 1) % 5000}`],
            ["LPUSH", "l", `new${i}`],
            ["RPOP", "l"],
            ["LSET", "l", String((i * 7) % 4000), `set${i}`],
            ["ZINCRBY", "z", "0.5", `m${(i * 11) % 5000}:${VALUE}`],
            ["ZADD", "z", String(-i), `new${i}`],
            ["ZREM", "z", `m${(i * 19 + 3) % 5000}:${VALUE}`],
          ],
        });
        (globalThis as { chunksServed?: number }).chunksServed = i;
        return serve(replica, cursor);
      };
    });
    await nodeApi("weur").catchUp();
    const chunks = await inNode(stubOf(PRIMARY), (node) => {
      delete (node.core as { snapshot?: unknown }).snapshot; // back to the class's method
      return (globalThis as { chunksServed?: number }).chunksServed ?? 0;
    });
    expect(chunks).toBeGreaterThanOrEqual(3);
    expect(await stat(PRIMARY, "sync_full")).toBeGreaterThan(fullBefore);
    await digestsEqual();
    for (const r of REPLICAS) {
      const read = async (node: string, argv: string[]) => (await nodeApi(node).execute({ mode: "single", commands: [argv], permission: "admin" })).result;
      for (const argv of [["HLEN", "h"], ["LLEN", "l"], ["ZCARD", "z"]]) expect(await read(r, argv), `${r} ${argv[0]}`).toEqual(await read(PRIMARY, argv));
    }
  });

  it("a mixed-type workload with SPOP, LPOP, ZPOPMAX and HINCRBYFLOAT leaves every node with the same digest", async () => {
    await redis("SADD", "s", ...Array.from({ length: 200 }, (_, i) => `s${i}`));
    for (let i = 0; i < 100; i++) {
      const r = await call([
        ["SPOP", "s"],
        ["LPOP", "l", "2"],
        ["ZPOPMAX", "z"],
        ["HINCRBYFLOAT", "h", "float", "0.1"],
        ["SMOVE", "s", "s2", `s${i}`],
        ["LMOVE", "l", "l2", "LEFT", "RIGHT"],
        ["ZRANGESTORE", "zs", "z", "0", "9"],
        ["SINTERSTORE", "si", "s", "s2"],
      ], { path: "/pipeline" });
      expect(r.status).toBe(200);
    }
    await digestsEqual();
  });
});
