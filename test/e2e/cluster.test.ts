// A sharded deployment (FLAREDIS_SHARDS=3, protocol/shards.ts) under the real worker, through the
// official client: each key in the shard of its hash slot, a hash tag keeping keys together,
// CROSSSLOT for keys over several slots (a transaction's too), pipelines split over the shards
// and put back in order, the keyspace calls gathered from every shard, CLUSTER's answers, and a
// failover of one shard's primary while the others go on taking writes.
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { hashSlot } from "../../durable-objects/engine/slot";
import { SlotMap } from "../../durable-objects/protocol/shards";
import { scanAll, sseEvents, startFlaredis, until } from "./start";

let server: Awaited<ReturnType<typeof startFlaredis>>;
let redis: Redis;
const map = SlotMap.even(3);
const shardOf = (key: string) => map.shardOf(hashSlot(key));

beforeAll(async () => {
  server = await startFlaredis(undefined, { FLAREDIS_SHARDS: "3" });
  redis = new Redis({ url: server.url, token: "dev-token", retry: false });
});
afterAll(async () => {
  await server?.dispose();
});
beforeEach(async () => {
  await redis.flushall();
});

const admin = { authorization: "Bearer dev-admin-token" };
async function send(command: unknown[], path = "", headers: Record<string, string> = {}) {
  const r = await fetch(`${server.url}${path}`, { method: "POST", headers: { ...admin, ...headers }, body: JSON.stringify(command) });
  return { status: r.status, json: (await r.json()) as unknown, served: r.headers.get("flaredis-served-by"), token: r.headers.get("upstash-sync-token") };
}
/** A key of each shard: `a` is in shard 3, `b` in shard 1, `c` in shard 2 (CRC16 of the name). */
const byShard = { 1: "b", 2: "c", 3: "a" } as const;

describe("a deployment of 3 shards", () => {
  it("puts each key in its hash slot's shard, and a hash tag's keys together", async () => {
    expect([shardOf("a"), shardOf("b"), shardOf("c")]).toEqual([3, 1, 2]);
    for (const [shard, key] of Object.entries(byShard)) {
      const r = await send(["SET", key, shard]);
      expect(r.served).toBe(shard === "1" ? "primary:enam" : `primary:enam.${shard}`);
    }
    expect(await redis.mget("{user1}:a", "{user1}:b")).toEqual([null, null]);
    expect(await redis.mset({ "{user1}:a": "1", "{user1}:b": "2" })).toBe("OK");
    expect(await redis.mget("{user1}:a", "{user1}:b")).toEqual([1, 2]);
    expect(await send(["CLUSTER", "KEYSLOT", "{user1}:a"])).toMatchObject({ json: { result: hashSlot("user1") } });
    expect(hashSlot("{user1}:a")).toBe(hashSlot("{user1}:b"));
    // Shard 2's primary holds shard 2's keys only: `c`, and `{user1}`'s (slot 8106).
    expect(map.shardOf(hashSlot("user1"))).toBe(2);
    const info = await (await fetch(`${server.url}/admin/nodes/enam.2/info?section=keyspace`, { headers: admin })).text();
    expect(info).toMatch(/db0:keys=3,/);
  }, 60_000);

  it("answers CROSSSLOT for keys over several slots, a transaction's and a script's too", async () => {
    const cross = { status: 400, json: { error: "CROSSSLOT Keys in request don't hash to the same slot" } };
    expect(await send(["MSET", "a", "1", "b", "2"])).toMatchObject(cross);
    expect(await send(["MGET", "a", "b"])).toMatchObject(cross);
    expect(await send(["EVAL", "return 1", "2", "a", "b"])).toMatchObject(cross);
    expect(await send([["SET", "a", "1"], ["SET", "b", "2"]], "/multi-exec")).toMatchObject(cross);
    expect(await send(["EXISTS", "a", "b", "c"])).toMatchObject(cross);
    expect(await redis.exists("a")).toBe(0);
    expect(await send([["SET", "{t}a", "1"], ["INCR", "{t}b"], ["MGET", "{t}a", "{t}b"]], "/multi-exec")).toMatchObject({ status: 200, json: [{ result: "OK" }, { result: 1 }, { result: ["1", "1"] }] });
    expect(await redis.eval("return redis.call('GET', KEYS[1])", ["{t}a"], [])).toBe(1);
  }, 60_000);

  it("splits a pipeline over the shards and answers in its order", async () => {
    const p = redis.pipeline();
    p.set("a", "A");
    p.set("b", "B");
    p.incr("c");
    p.mset({ a: 1, b: 2 });
    p.get("a");
    p.get("b");
    p.get("c");
    p.dbsize();
    p.ping();
    const replies = await p.exec({ keepErrors: true });
    expect(replies.map((r) => r.error ?? r.result)).toEqual(["OK", "OK", 1, "CROSSSLOT Keys in request don't hash to the same slot", "A", "B", 1, 3, "PONG"]);
  }, 60_000);

  it("gathers KEYS, SCAN, DBSIZE, RANDOMKEY and FLUSHALL from every shard", async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `key:${i}`);
    for (const k of keys) await redis.set(k, k);
    expect(new Set(keys.map(shardOf)).size).toBe(3);
    expect((await redis.keys("key:*")).sort()).toEqual([...keys].sort());
    expect(await redis.dbsize()).toBe(60);
    expect((await scanAll(redis, 7)).sort()).toEqual([...keys].sort());
    expect(keys).toContain(await redis.randomkey());
    expect(await redis.flushall()).toBe("OK");
    expect(await redis.dbsize()).toBe(0);
    expect(await redis.randomkey()).toBeNull();
  }, 60_000);

  it("loads a script in every shard, so EVALSHA runs wherever its keys are", async () => {
    const sha = await redis.scriptLoad("return redis.call('INCR', KEYS[1])");
    for (const key of Object.values(byShard)) expect(await redis.evalsha(sha, [key], [])).toBe(1);
    expect(await redis.scriptExists(sha)).toEqual([1]);
  }, 60_000);

  it("answers CLUSTER INFO, SLOTS, SHARDS, NODES, COUNTKEYSINSLOT and GETKEYSINSLOT", async () => {
    await redis.mset({ "{s}1": 1, "{s}2": 2, "{s}3": 3 });
    const slot = hashSlot("s");
    expect(await send(["CLUSTER", "COUNTKEYSINSLOT", slot])).toMatchObject({ json: { result: 3 } });
    expect(((await send(["CLUSTER", "GETKEYSINSLOT", slot, 2])).json as { result: string[] }).result).toHaveLength(2);
    expect(await send(["CLUSTER", "COUNTKEYSINSLOT", 16384])).toMatchObject({ status: 400, json: { error: "ERR Invalid slot" } });
    expect(((await send(["CLUSTER", "INFO"])).json as { result: string }).result).toMatch(/cluster_state:ok\r\ncluster_slots_assigned:16384\r\n.*cluster_known_nodes:12\r\ncluster_size:3\r\n/s);
    const slots = (await send(["CLUSTER", "SLOTS"])).json as { result: [number, number, [string, number, string], ...unknown[]][] };
    expect(slots.result.map(([from, to, [host]]) => [from, to, host])).toEqual([
      [0, 5460, "enam"],
      [5461, 10921, "enam.2"],
      [10922, 16383, "enam.3"],
    ]);
    expect(slots.result[1]!.slice(3).map((n) => (n as string[])[0])).toEqual(["wnam.2", "weur.2", "apac.2"]);
    const shards = (await send(["CLUSTER", "SHARDS"])).json as { result: unknown[][] };
    expect(shards.result.map((s) => s[1])).toEqual([[0, 5460], [5461, 10921], [10922, 16383]]);
    const nodes = ((await send(["CLUSTER", "NODES"])).json as { result: string }).result.trim().split("\n");
    expect(nodes).toHaveLength(12);
    expect(nodes[0]).toMatch(/^[0-9a-f]{40} enam:443@0,enam myself,master - 0 0 \d+ connected 0-5460$/);
    expect(await send(["CLUSTER", "ADDSLOTS", 1])).toMatchObject({ status: 400 });
    const topology = (await (await fetch(`${server.url}/admin/topology`, { headers: admin })).json()) as { shards: { shard: number; slots: number[][]; primary: { node: string } }[] };
    expect(topology.shards.map((s) => [s.shard, s.slots, s.primary.node])).toEqual([
      [1, [[0, 5460]], "enam"],
      [2, [[5461, 10921]], "enam"],
      [3, [[10922, 16383]], "enam"],
    ]);
  }, 60_000);

  it("scrapes every shard's nodes and sentinels for /metrics, each labelled by its object name", async () => {
    await redis.set("c", "v");
    const text = await (await fetch(`${server.url}/metrics`, { headers: admin })).text();
    for (const node of ["enam", "weur", "enam.2", "apac.2", "enam.3", "wnam.3"]) expect(text).toContain(`redis_up{node="${node}",`);
    expect(text).toMatch(/redis_db_keys\{node="enam\.2",role="master",db="db0"\} 1\n/);
    expect(text).toContain('flaredis_sentinel_up{sentinel="weur.3"} 1');
  }, 60_000);

  it("delivers every shard's keyspace notifications and shard 1's PUBLISH to one SSE subscriber", async () => {
    const send1 = async (command: unknown[]) => (await send(command)).json;
    expect(await send1(["CONFIG", "SET", "notify-keyspace-events", "E$"])).toEqual({ result: "OK" });
    const response = await fetch(`${server.url}/psubscribe/${encodeURIComponent("__keyevent@0__:*")}`, {
      method: "POST",
      headers: { authorization: "Bearer dev-token", accept: "text/event-stream" },
      body: "[]",
    });
    const { events, reader } = sseEvents(response);
    await until(() => events.some((e) => e.startsWith("psubscribe,")), "the subscription");
    // One key of each shard (a: 3, b: 1, c: 2); subscribers may join a shard's node a moment later.
    for (let round = 0; round < 50; round++) {
      for (const key of Object.values(byShard)) await redis.set(key, String(round));
      const seen = (key: string) => events.some((e) => e === `pmessage,__keyevent@0__:*,__keyevent@0__:set,${key}`);
      if (Object.values(byShard).every(seen)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const key of Object.values(byShard)) expect(events).toContain(`pmessage,__keyevent@0__:*,__keyevent@0__:set,${key}`);
    // A PUBLISH in a pipeline whose other call is shard 3's still goes to shard 1, where every subscription is.
    expect((await send([["SET", "a", "x"], ["PUBLISH", "__keyevent@0__:mine", "hello"]], "/pipeline")).json).toEqual([{ result: "OK" }, { result: 1 }]);
    await until(() => events.includes("pmessage,__keyevent@0__:*,__keyevent@0__:mine,hello"), "the PUBLISH");
    await reader.cancel();
    expect(await send1(["CONFIG", "SET", "notify-keyspace-events", ""])).toEqual({ result: "OK" });
  }, 60_000);

  it("keeps a position per shard in the sync token: a read after a write sees it", async () => {
    const written = await send(["SET", "c", "v"], "", { authorization: "Bearer dev-token" });
    expect(written.token?.split(";")).toHaveLength(3);
    expect(written.token?.split(";")[1]).toMatch(/^[0-9a-f]{40}:\d+/);
    const read = await send(["GET", "c"], "", { authorization: "Bearer dev-token", "upstash-sync-token": written.token!, "mf-cf-blob": "" });
    expect(read.json).toEqual({ result: "v" });
  }, 60_000);

  it("fails over one shard's primary while the other shards take writes", async () => {
    for (const key of Object.values(byShard)) await redis.set(key, "before");
    const failover = fetch(`${server.url}/admin/failover`, { method: "POST", headers: admin, body: JSON.stringify({ to: "weur", shard: 2 }) });
    // Writes to shards 1 and 3 while shard 2 switches.
    for (let i = 0; i < 20; i++) {
      expect(await redis.incr(`${byShard[1]}:n`)).toBe(i + 1);
      expect(await redis.incr(`${byShard[3]}:n`)).toBe(i + 1);
    }
    const answer = (await (await failover).json()) as { primary: string };
    expect(answer.primary).toBe("weur");
    expect(await redis.set(byShard[2], "after")).toBe("OK");
    expect(await redis.get(byShard[2])).toBe("after");
    const topology = (await (await fetch(`${server.url}/admin/topology`, { headers: admin })).json()) as { shards: { primary: { node: string } }[] };
    expect(topology.shards.map((s) => s.primary.node)).toEqual(["enam", "weur", "enam"]);
    expect(await send(["FAILOVER", "TO", "enam.2", "443"])).toMatchObject({ status: 200, json: { result: "OK" } });
    expect(await redis.get(byShard[2])).toBe("after");
  }, 120_000);
});
