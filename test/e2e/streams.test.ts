// Streams through the real worker (issue 28): the official @upstash/redis client's stream commands,
// and a consumer group of 3 consumers reading 10,000 entries with XREADGROUP across
// POST /admin/failover: after XAUTOCLAIM of what the crashed consumer held, every entry is
// acknowledged exactly once, and every node holds the same stream, groups and PEL.
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestsWhenCaughtUp, startFlaredis } from "./start";

let server: Awaited<ReturnType<typeof startFlaredis>>;
let redis: Redis;

beforeAll(async () => {
  server = await startFlaredis();
  redis = new Redis({ url: server.url, token: "dev-token", retry: false });
});
afterAll(async () => {
  await server?.dispose();
});

describe("streams with @upstash/redis", () => {
  it("XADD, XLEN, XRANGE, XREVRANGE, XREAD, XDEL, XTRIM as the client sends and reads them", async () => {
    await redis.flushall();
    const first = await redis.xadd("events", "*", { type: "signup", user: "ada" });
    expect(first).toMatch(/^\d+-\d+$/);
    expect(await redis.xadd("events", "9999999999999-1", { type: "login", user: "ada" })).toBe("9999999999999-1");
    expect(await redis.xadd("events", "9999999999999-*", { n: 3 })).toBe("9999999999999-2");
    expect(await redis.xadd("missing", "*", { a: 1 }, { nomkStream: true })).toBeNull();
    expect(await redis.xlen("events")).toBe(3);
    expect(await redis.xrange("events", "-", "+")).toEqual({
      [first]: { type: "signup", user: "ada" },
      "9999999999999-1": { type: "login", user: "ada" },
      "9999999999999-2": { n: 3 },
    });
    expect(Object.keys(await redis.xrevrange("events", "+", "-", 1))).toEqual(["9999999999999-2"]);
    expect(await redis.xread("events", "9999999999999-1")).toEqual([["events", [["9999999999999-2", ["n", 3]]]]]);
    expect(await redis.xread("events", "$")).toBeNull();
    expect(await redis.xdel("events", ["9999999999999-1", "1-1"])).toBe(1);
    for (let i = 0; i < 20; i++) await redis.xadd("capped", "*", { i }, { trim: { type: "MAXLEN", threshold: 5, comparison: "=" } });
    expect(await redis.xlen("capped")).toBe(5);
    expect(await redis.xtrim("capped", { strategy: "MAXLEN", exactness: "~", threshold: 2 })).toBe(3);
    expect(await redis.type("capped")).toBe("stream");
  });

  it("groups: XGROUP, XREADGROUP, XPENDING, XCLAIM, XAUTOCLAIM, XACK, XINFO", async () => {
    await redis.flushall();
    expect(await redis.xgroup("jobs", { type: "CREATE", group: "workers", id: "$", options: { MKSTREAM: true } })).toBe("OK");
    for (let i = 1; i <= 4; i++) await redis.xadd("jobs", `${i}-0`, { job: `j${i}` });
    const read = (await redis.xreadgroup("workers", "alice", "jobs", ">", { count: 2 })) as [string, [string, string[]][]][];
    expect(read).toEqual([["jobs", [["1-0", ["job", "j1"]], ["2-0", ["job", "j2"]]]]]);
    expect(await redis.xreadgroup("workers", "bob", "jobs", ">")).toEqual([["jobs", [["3-0", ["job", "j3"]], ["4-0", ["job", "j4"]]]]]);
    expect(await redis.xack("jobs", "workers", ["1-0", "3-0"])).toBe(2);
    const pending = (await redis.xpending("jobs", "workers", "-", "+", 10)) as unknown[][];
    expect(pending.map((p) => [p[0], p[1], p[3]])).toEqual([["2-0", "alice", 1], ["4-0", "bob", 1]]);
    expect(await redis.xclaim("jobs", "workers", "carol", 0, "2-0", { justId: true })).toEqual(["2-0"]);
    expect(await redis.xautoclaim("jobs", "workers", "carol", 0, "0-0", { count: 10 })).toEqual(["0-0", [["2-0", ["job", "j2"]], ["4-0", ["job", "j4"]]], []]);
    const groups = (await redis.xinfo("jobs", { type: "GROUPS" })) as unknown[][];
    expect(groups[0]).toEqual(["name", "workers", "consumers", 3, "pending", 2, "last-delivered-id", "4-0", "entries-read", 4, "lag", 0]);
    const consumers = (await redis.xinfo("jobs", { type: "CONSUMERS", group: "workers" })) as unknown[][];
    expect(consumers.map((c) => [c[1], c[3]])).toEqual([["alice", 0], ["bob", 0], ["carol", 2]]);
  });
});

describe("a consumer group across a failover", () => {
  it("3 consumers read 10,000 entries; after POST /admin/failover mid-way and XAUTOCLAIM, each entry is acknowledged exactly once", async () => {
    await redis.flushall();
    await redis.xgroup("work", { type: "CREATE", group: "g", id: "0", options: { MKSTREAM: true } });
    for (let i = 0; i < 10_000; i += 500) {
      const p = redis.pipeline();
      for (let j = i; j < i + 500; j++) p.xadd("work", `${j + 1}-0`, { n: j });
      await p.exec();
    }
    expect(await redis.xlen("work")).toBe(10_000);
    const acked = new Map<string, number>();
    /** One round: each consumer reads up to 100 and acknowledges them (c3 crashes before acknowledging, in the first rounds). */
    const round = async (r: number): Promise<number> => {
      let got = 0;
      for (const consumer of ["c1", "c2", "c3"]) {
        const reply = (await redis.xreadgroup("g", consumer, "work", ">", { count: 100 })) as [string, [string, unknown][]][] | null;
        const ids = reply?.[0]?.[1].map(([id]) => id) ?? [];
        got += ids.length;
        if (ids.length === 0 || (consumer === "c3" && r < 5)) continue;
        expect(await redis.xack("work", "g", ids)).toBe(ids.length);
        for (const id of ids) acked.set(id, (acked.get(id) ?? 0) + 1);
      }
      return got;
    };
    for (let r = 0; r < 15; r++) await round(r);
    const failover = await fetch(`${server.url}/admin/failover`, { method: "POST", headers: { authorization: "Bearer dev-admin-token" }, body: JSON.stringify({ to: "weur" }) });
    expect(failover.status).toBe(200);
    for (let r = 15; (await round(r)) > 0; r++);
    // What c3 read and never acknowledged before the failover: claimed by c1 and acknowledged.
    for (let cursor = "0-0"; ; ) {
      const [next, claimed] = (await redis.xautoclaim("work", "g", "c1", 0, cursor, { count: 100 })) as [string, [string, unknown][], string[]];
      const ids = claimed.map(([id]) => id);
      if (ids.length > 0) expect(await redis.xack("work", "g", ids)).toBe(ids.length);
      for (const id of ids) acked.set(id, (acked.get(id) ?? 0) + 1);
      cursor = next;
      if (cursor === "0-0") break;
    }
    expect(acked.size).toBe(10_000);
    expect([...acked.values()].filter((n) => n !== 1)).toEqual([]);
    expect(await redis.xpending("work", "g", "-", "+", 10)).toEqual([]);
    const digests = await digestsWhenCaughtUp(server.url);
    expect(new Set(digests.values()).size).toBe(1);
  }, 240_000);
});
