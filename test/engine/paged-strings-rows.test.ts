// Strings stored in pages on real nodes (SQLite): a SETBIT at 2^32-1 and a SETRANGE at 100,000,000
// on fresh keys each write at most 3 rows on the primary (the page, the key, the backlog) and on
// each replica, as the runtime counts them; a SETBIT on a 100 MB string adds under 100 bytes to the
// replication log; replicas end with the primary's digest, and read the pages they hold.
import { beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../durable-objects/engine/clock";
import { call, inNode, nodeApi, onOneClock, redis, stubOf } from "../support/helpers";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const NODES = [PRIMARY, ...REPLICAS];
const usage = async (node: string) => (await call(undefined, { method: "GET", path: `/admin/nodes/${node}/storage` })).json as { rows_written: number };
const offset = async () => Number(/master_repl_offset:(\d+)/.exec((await redis("INFO", "replication")) as string)![1]);

/** Rows each node wrote for `command`, with every node caught up and nothing left deferred before and after. */
async function rowsOf(command: (string | number)[]): Promise<number[]> {
  const settle = async () => {
    await Promise.all(REPLICAS.map((n) => nodeApi(n).catchUp()));
    for (const n of NODES) await inNode(stubOf(n), (node) => node.core.engine.storage.storeDeferred());
  };
  await settle();
  const before = await Promise.all(NODES.map(usage));
  await redis(...command);
  await settle();
  const after = await Promise.all(NODES.map(usage));
  return after.map((a, i) => a.rows_written - before[i]!.rows_written);
}

beforeAll(async () => {
  await redis("FLUSHALL");
  // Element ids are reserved 1,024 at a time (one meta row): the first collection takes it.
  await redis("HSET", "ps:warm", "f", "v");
});

describe("strings stored in pages, on SQLite", () => {
  it("SETBIT at 2^32-1 and SETRANGE at 100,000,000 on fresh keys write at most 3 rows per node", async () => {
    for (const rows of await rowsOf(["SETBIT", "ps:bits", 4294967295, 1])) expect(rows).toBeLessThanOrEqual(3);
    for (const rows of await rowsOf(["SETRANGE", "ps:range", 100_000_000, "x"])) expect(rows).toBeLessThanOrEqual(3);
    expect(await redis("STRLEN", "ps:bits")).toBe(512 * 1024 * 1024);
    expect(await redis("BITCOUNT", "ps:bits")).toBe(1);
    expect(await redis("GETRANGE", "ps:range", -2, -1)).toBe("\0x");
    for (const n of REPLICAS) expect(await nodeApi(n).digest(), n).toEqual({ ...(await nodeApi(PRIMARY).digest()), node: n });
  });

  it("a SETBIT on a 100 MB string adds under 100 bytes to the log, and replicas read it", async () => {
    await redis("SETRANGE", "ps:big", 100 * 1024 * 1024 - 1, "z");
    const before = await offset();
    expect(await redis("SETBIT", "ps:big", 8 * 60_000_000 + 1, 1)).toBe(0);
    expect((await offset()) - before).toBeLessThan(100);
    await Promise.all(REPLICAS.map((n) => nodeApi(n).catchUp()));
    for (const n of REPLICAS) expect(await nodeApi(n).digest(), n).toEqual({ ...(await nodeApi(PRIMARY).digest()), node: n });
    // A read at the edge (a replica) of the byte set, and of the page after it, never written.
    const read = await call(["BITCOUNT", "ps:big", 60_000_000, 60_100_000], { path: "/", headers: { "Flaredis-Max-Staleness": "60000" } });
    expect(read.json).toEqual({ result: 1 });
  });

  it("a COPY and a write to the copy in one MULTI see the copy's pages (and a hash's fields) as stored", async () => {
    // The copy is written by SQLite itself (INSERT … SELECT): before the fix, the SETRANGE rebuilt
    // page 0 from zeros and HSET counted an existing field as new.
    // A COPY is logged as itself (and copied by SQLite) only when no replica has loaded a snapshot
    // chunk within repl-timeout: the nodes on one clock, moved past it.
    const clock = await onOneClock(NODES, REPLICAS);
    try {
      await redis("SET", "ps:src", "a".repeat(2 * 1024 * 1024));
      await redis("HSET", "ps:h", "f", "1", "g", "2");
      clock.advance(61_000);
      await Promise.all(REPLICAS.map((n) => nodeApi(n).catchUp()));
      const copied = await call([["COPY", "ps:src", "ps:dst"], ["SETRANGE", "ps:dst", "0", "x"]], { path: "/multi-exec" });
      expect(copied.json).toEqual([{ result: 1 }, { result: 2 * 1024 * 1024 }]);
      expect(await redis("GETRANGE", "ps:dst", 0, 3)).toBe("xaaa");
      expect(await redis("GETRANGE", "ps:dst", 65534, 65537)).toBe("aaaa");
      const hash = await call([["COPY", "ps:h", "ps:h2"], ["HSET", "ps:h2", "f", "3"]], { path: "/multi-exec" });
      expect(hash.json).toEqual([{ result: 1 }, { result: 0 }]);
      expect(await redis("HLEN", "ps:h2")).toBe(2);
      await Promise.all(REPLICAS.map((n) => nodeApi(n).catchUp()));
      for (const n of REPLICAS) expect(await nodeApi(n).digest(), n).toEqual({ ...(await nodeApi(PRIMARY).digest()), node: n });
    } finally {
      for (const name of NODES) await inNode(stubOf(name), (node) => void (node.clock = systemClock));
    }
  });
});
