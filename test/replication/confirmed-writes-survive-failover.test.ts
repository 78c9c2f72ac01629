// A write that WAIT n confirmed survives the loss of the primary and a crash-like restart of n-1
// of the replicas that confirmed it (SPEC §4 WAIT, §6 failover, §7 a restarted node keeps its
// keyspace and offset). Whole in-memory deployments (test/support/cluster.ts: the Node and
// Sentinel classes on MemoryNetwork, one manual clock, the sentinels' alarms fired by `tick`):
// a primary (enam) and three replicas (wnam, weur, apac).
//
// The same on the node Durable Objects (SQLite), where a replica keeps the keys it applied in
// memory after their transaction and a restart replays them from its log: the promotion there is
// made by the test as the sentinels make it (the workers project runs no sentinel objects).
//
// Which replicas confirm is fixed by cutting wnam's replication link before the writes: WAIT 2
// can then only be answered by weur and apac, so "2" names them. wnam, with less of the history,
// stays a candidate the sentinels must not pick.
import { evictDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import type { Batch, BatchResult } from "../../durable-objects/engine/engine";
import type { NodeStatus } from "../../durable-objects/protocol/node-api";
import { str } from "../../durable-objects/sqlite/sql";
import { Cluster } from "../support/cluster";
import { call, inNode, nodeApi, redis, stubOf } from "../support/helpers";

const REPLICAS = ["wnam", "weur", "apac"] as const;
/** WAIT's timeout in ms: on the manual clock, so it passes only when the test moves it. */
const WAIT_MS = "1000";

/** Bulk strings as text, at any depth, so replies compare with plain values. */
function plain(reply: unknown): unknown {
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  if (Array.isArray(reply)) return reply.map(plain);
  return reply;
}

/** The outcomes of a batch as plain values (an error as `{ error }`); a batch refused whole fails the test. */
function outcomes(result: BatchResult): unknown[] {
  if (!("outcomes" in result)) throw new Error(`batch refused: ${result.error}`);
  return result.outcomes.map((o) => ("error" in o ? { error: o.error } : plain(o.result)));
}

/** Runs a batch on `node` as the worker would for the primary; resolves once every WAIT in it answered. */
async function batch(c: Cluster, node: string, mode: Batch["mode"], ...commands: string[][]): Promise<unknown[]> {
  const reply = await c.node(node).execute({ mode, commands, permission: "admin" }, true);
  expect(reply.notPrimary, `${node} is not the primary`).toBeUndefined();
  return outcomes(reply.result);
}

/** Runs a batch that may wait on the manual clock (a WAIT that times out), moving the clock meanwhile. */
async function whileTicking<T>(c: Cluster, work: Promise<T>, ms: number): Promise<T> {
  let done = false;
  const watched = work.finally(() => (done = true));
  for (let moved = 0; !done && moved <= ms + 1000; moved += 100) await c.tick(100, 100);
  expect(done, "the batch answered within its timeout").toBe(true);
  return watched;
}

/** How each key written is read back, and what it must read. */
type Expected = Map<string, { read: string[]; value: unknown }>;

/** Reads every expected key on `node` (a read-only batch, as a client's on that node); the values found. */
async function readAll(c: Cluster, node: string, expected: Expected): Promise<Record<string, unknown>> {
  const keys = [...expected.keys()];
  const reply = await c.node(node).execute({ mode: "pipeline", commands: keys.map((k) => expected.get(k)!.read), permission: "admin" });
  const values = outcomes(reply.result);
  return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
}
const wanted = (expected: Expected) => Object.fromEntries([...expected].map(([k, { value }]) => [k, value]));

/**
 * Writes on the primary (single commands, a pipeline, a MULTI/EXEC), each group followed by
 * `WAIT 2`, which must answer at least 2. Returns what each key must read, and the offset the last
 * WAIT confirmed (the primary's offset after the last write).
 */
async function confirmedWrites(c: Cluster): Promise<{ expected: Expected; confirmedOffset: number }> {
  const expected: Expected = new Map();
  const p = c.primary();
  const wait2 = async () => {
    const [n] = await batch(c, p, "single", ["WAIT", "2", WAIT_MS]);
    expect(n, "WAIT 2 confirmed").toBeGreaterThanOrEqual(2);
  };
  // Single commands, each its own batch, then WAIT as a batch of its own.
  expect(await batch(c, p, "single", ["SET", "single:str", "one"])).toEqual(["OK"]);
  expect(await batch(c, p, "single", ["INCRBY", "single:counter", "41"])).toEqual([41]);
  expect(await batch(c, p, "single", ["INCR", "single:counter"])).toEqual([42]);
  expect(await batch(c, p, "single", ["HSET", "single:hash", "f1", "a", "f2", "b"])).toEqual([2]);
  expect(await batch(c, p, "single", ["RPUSH", "single:list", "x", "y", "z"])).toEqual([3]);
  expect(await batch(c, p, "single", ["SET", "single:gone", "soon"])).toEqual(["OK"]);
  expect(await batch(c, p, "single", ["DEL", "single:gone"])).toEqual([1]);
  await wait2();
  expected.set("single:str", { read: ["GET", "single:str"], value: "one" });
  expected.set("single:counter", { read: ["GET", "single:counter"], value: "42" });
  expected.set("single:hash", { read: ["HGETALL", "single:hash"], value: ["f1", "a", "f2", "b"] });
  expected.set("single:list", { read: ["LRANGE", "single:list", "0", "-1"], value: ["x", "y", "z"] });
  expected.set("single:gone", { read: ["GET", "single:gone"], value: null });

  // A pipeline whose last call is WAIT: it waits for every write before it.
  const pipelined = Array.from({ length: 20 }, (_, i) => ["SET", `pipe:${i}`, `p${i}`]);
  const piped = await batch(c, p, "pipeline", ...pipelined, ["SADD", "pipe:set", "m1", "m2"], ["APPEND", "pipe:0", "+"], ["WAIT", "2", WAIT_MS]);
  expect(piped.at(-1), "WAIT 2 in the pipeline confirmed").toBeGreaterThanOrEqual(2);
  for (let i = 0; i < 20; i++) expected.set(`pipe:${i}`, { read: ["GET", `pipe:${i}`], value: i === 0 ? "p0+" : `p${i}` });
  expected.set("pipe:set", { read: ["SMEMBERS", "pipe:set"], value: ["m1", "m2"] });

  // A MULTI/EXEC, then WAIT.
  const tx = await batch(c, p, "multi", ["SET", "multi:a", "A"], ["ZADD", "multi:z", "1", "one", "2", "two"], ["INCR", "single:counter"], ["LPUSH", "single:list", "w"], ["EXPIRE", "multi:a", "100000"]);
  expect(tx).toEqual(["OK", 2, 43, 4, 1]);
  await wait2();
  expected.set("multi:a", { read: ["GET", "multi:a"], value: "A" });
  expected.set("multi:z", { read: ["ZRANGE", "multi:z", "0", "-1", "WITHSCORES"], value: ["one", "1", "two", "2"] });
  expected.set("single:counter", { read: ["GET", "single:counter"], value: "43" });
  expected.set("single:list", { read: ["LRANGE", "single:list", "0", "-1"], value: ["w", "x", "y", "z"] });
  return { expected, confirmedOffset: c.node(p).engine.log.offset };
}

/** Moves the clock a second at a time until a replica is promoted; the seconds it took. */
async function untilFailover(c: Cluster, from: string, maxSeconds = 30): Promise<number> {
  for (let s = 1; s <= maxSeconds; s++) {
    await c.tick(1000);
    if (c.primary() !== from) return s;
  }
  throw new Error(`no failover within ${maxSeconds} s`);
}

/** A deployment whose wnam has its replication link cut: WAIT's confirmations come from weur and apac only. */
async function withWnamCut(): Promise<Cluster> {
  const c = await new Cluster().start();
  expect(await c.run("SET", "warm", "up")).toBe("OK");
  expect(await batch(c, "enam", "single", ["WAIT", "3", WAIT_MS])).toEqual([3]);
  c.node("wnam").fault({ link: "down" });
  return c;
}

describe("a write WAIT 2 confirmed survives the primary's loss and a restart of one replica that confirmed it", () => {
  // apac is the replica the sentinels pick among equals (same priority and offset: by name), so
  // restarting it makes the restarted replica the new primary; weur's restart leaves it a replica.
  for (const restarted of ["apac", "weur"] as const) {
    const other = restarted === "apac" ? "weur" : "apac";
    it(`restarting ${restarted} after the primary is lost: every confirmed key on the new primary and on every surviving replica`, async () => {
      const c = await withWnamCut();
      const { expected, confirmedOffset } = await confirmedWrites(c);
      // The confirmations were weur's and apac's: wnam, cut off, holds none of the writes.
      expect(c.node("wnam").engine.log.offset).toBeLessThan(confirmedOffset);
      expect(c.node("weur").engine.log.offset).toBe(confirmedOffset);
      expect(c.node("apac").engine.log.offset).toBe(confirmedOffset);

      // The primary is lost for good; then a replica that confirmed crashes and restarts.
      c.node("enam").fault({ down: true });
      const before = c.node(restarted);
      const after = await c.restartNode(restarted);
      await c.settle();
      // A new instance: its in-memory state is gone (counters start again, no link to a master)...
      expect(after).not.toBe(before);
      expect(c.field(restarted, "total_commands_processed")).toBe("0");
      expect(c.field(restarted, "master_link_status")).toBe("down");
      // ...and with the primary unreachable, all it holds came from its storage: everything it acknowledged.
      expect(after.engine.log.offset).toBe(confirmedOffset);
      expect(await readAll(c, restarted, expected)).toEqual(wanted(expected));

      // wnam's link comes back (it can reach no primary yet); the sentinels fail over.
      c.node("wnam").fault({ link: "up" });
      const seconds = await untilFailover(c, "enam");
      expect(seconds).toBeLessThanOrEqual(15);
      const primary = c.primary();
      // The sentinels picked a replica that holds the confirmed writes, never the one cut off.
      expect(primary).toBe("apac");
      expect(c.field(primary, "role")).toBe("master");
      expect(c.node(primary).engine.log.offset).toBeGreaterThanOrEqual(confirmedOffset);

      // Every confirmed key, with its value, on the new primary...
      expect(await readAll(c, primary, expected)).toEqual(wanted(expected));
      expect(await c.run("SET", "after-failover", "1")).toBe("OK");
      // ...and on every surviving replica once they follow it (wnam catches up on what it missed).
      await c.tick(3000);
      for (const r of REPLICAS.filter((n) => n !== primary)) {
        expect(c.field(r, "role"), r).toBe("slave");
        expect(c.field(r, "master_host"), r).toBe(primary);
        expect(c.field(r, "master_link_status"), r).toBe("up");
        expect(await readAll(c, r, expected), r).toEqual(wanted(expected));
      }
      expect(c.digests().size, "the surviving nodes' digests agree").toBe(1);
      expect(c.node(other).engine.log.offset).toBe(c.node(primary).engine.log.offset);
    });
  }

  it("restarting a confirming replica before the primary is lost: the same", async () => {
    const c = await withWnamCut();
    const { expected, confirmedOffset } = await confirmedWrites(c);
    // apac crashes and restarts while the primary still lives; then the primary is lost.
    const before = c.node("apac");
    await c.restartNode("apac");
    await c.settle();
    expect(c.node("apac")).not.toBe(before);
    c.node("enam").fault({ down: true });
    expect(c.node("apac").engine.log.offset).toBe(confirmedOffset);
    expect(await readAll(c, "apac", expected)).toEqual(wanted(expected));
    c.node("wnam").fault({ link: "up" });
    await untilFailover(c, "enam");
    const primary = c.primary();
    expect(primary).not.toBe("wnam");
    expect(await readAll(c, primary, expected)).toEqual(wanted(expected));
    await c.tick(3000);
    for (const r of REPLICAS.filter((n) => n !== primary)) expect(await readAll(c, r, expected), r).toEqual(wanted(expected));
    expect(c.digests().size).toBe(1);
  });
});

describe("the check is not vacuous: what WAIT did not confirm may be lost", () => {
  it("a write no replica acknowledged (WAIT answers 0 at its timeout) is gone after the failover; the confirmed ones are not", async () => {
    const c = await withWnamCut();
    const { expected } = await confirmedWrites(c);
    // Every replica cut off: the write is acknowledged by the primary alone.
    c.node("weur").fault({ link: "down" });
    c.node("apac").fault({ link: "down" });
    expect(await batch(c, "enam", "single", ["SET", "unconfirmed", "lost"])).toEqual(["OK"]);
    const [n] = await whileTicking(c, batch(c, "enam", "single", ["WAIT", "1", WAIT_MS]), Number(WAIT_MS));
    expect(n, "WAIT 1 answered at its timeout").toBe(0);
    // The primary is lost with it; a replica that confirmed the earlier writes restarts.
    c.node("enam").fault({ down: true });
    await c.restartNode("weur");
    for (const r of REPLICAS) c.node(r).fault({ link: "up" });
    await untilFailover(c, "enam");
    const primary = c.primary();
    // The same read that finds every confirmed key finds this one missing: it existed only on enam.
    expect(await readAll(c, primary, expected)).toEqual(wanted(expected));
    expect(plain(await c.run("GET", "unconfirmed"))).toBeNull();
    await c.tick(3000);
    expect(c.digests().size).toBe(1);
  });
});

describe("on the node Durable Objects (SQLite): a replica that confirmed, restarted, replays what it kept in memory", () => {
  const NODES = ["enam", ...REPLICAS];
  const fault = (node: string, body: unknown) => call(body, { path: `/admin/nodes/${node}/faults` });
  let clock: ManualClock;

  /** The keyspace table's keys and the replay marker as SQLite holds them (nothing from memory). */
  const stored = (name: string) =>
    inNode(stubOf(name), (_node, state) => ({
      keys: state.storage.sql.exec<{ key: ArrayBuffer }>("SELECT key FROM keyspace").toArray().map((r) => str(r.key)),
      replayFrom: state.storage.sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = 'keyspace_replay_from'").toArray()[0]?.value ?? null,
    }));
  const offsetOf = (name: string) => inNode(stubOf(name), (node) => node.core.engine.log.offset);
  const useClock = (name: string) => inNode(stubOf(name), (node) => void (node.clock = clock));
  const readOn = async (node: string, expected: Expected, asPrimary = false) => {
    const keys = [...expected.keys()];
    const reply = await nodeApi(node).execute({ mode: "pipeline", commands: keys.map((k) => expected.get(k)!.read), permission: "admin" }, asPrimary);
    expect(reply.notPrimary, `${node} is not the primary`).toBeUndefined();
    const values = outcomes(reply.result);
    return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
  };
  const ok = async (body: unknown, path = "/") => {
    const r = await call(body, { path });
    expect(r.status, r.text).toBe(200);
    return r.json;
  };

  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    for (const n of NODES) await useClock(n);
    await redis("FLUSHALL");
    await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
  });

  // The deployment as configured again (epoch 1, empty storage) for the files after this one.
  afterAll(async () => {
    for (const n of NODES)
      await inNode(stubOf(n), async (_n, state) => {
        await state.storage.deleteAlarm();
        await state.storage.deleteAll();
      });
    for (const n of NODES) await evictDurableObject(stubOf(n));
  });

  it("WAIT 2 confirmed by weur and apac; enam lost; apac restarted and promoted: every confirmed key on every surviving node", async () => {
    expect((await fault("wnam", { link: "down" })).status).toBe(200);
    const expected: Expected = new Map();
    expect(await ok(["SET", "s:one", "1"])).toEqual({ result: "OK" });
    expect(await ok(["HSET", "s:hash", "f", "v"])).toEqual({ result: 1 });
    expect(await ok(["SET", "s:gone", "x"])).toEqual({ result: "OK" });
    expect(await ok(["WAIT", "2", WAIT_MS])).toEqual({ result: 2 });
    expected.set("s:hash", { read: ["HGETALL", "s:hash"], value: ["f", "v"] });
    expect(await ok([["SET", "m:a", "A"], ["INCR", "m:n"], ["DEL", "s:gone"], ["RPUSH", "m:l", "x", "y"]], "/multi-exec")).toEqual([{ result: "OK" }, { result: 1 }, { result: 1 }, { result: 2 }]);
    expect(await ok(["WAIT", "2", WAIT_MS])).toEqual({ result: 2 });
    expected.set("m:a", { read: ["GET", "m:a"], value: "A" });
    expected.set("m:n", { read: ["GET", "m:n"], value: "1" });
    expected.set("s:gone", { read: ["GET", "s:gone"], value: null });
    expected.set("m:l", { read: ["LRANGE", "m:l", "0", "-1"], value: ["x", "y"] });
    // Last, a pipeline of strings only (keys a transaction defers: see sqlite/write-behind.ts).
    const strings = [...Array.from({ length: 50 }, (_, i) => ["SET", `p:${i}`, `v${i}`]), ["SET", "s:one", "2"], ["INCR", "m:n"], ["DEL", "m:a"]];
    expect(((await ok(strings, "/pipeline")) as unknown[]).length).toBe(strings.length);
    for (let i = 0; i < 50; i++) expected.set(`p:${i}`, { read: ["GET", `p:${i}`], value: `v${i}` });
    expected.set("s:one", { read: ["GET", "s:one"], value: "2" });
    expected.set("m:n", { read: ["GET", "m:n"], value: "2" });
    expected.set("m:a", { read: ["GET", "m:a"], value: null });
    const confirmed = (await nodeApi("enam").digest()).offset;
    // The primary has weur's and apac's acknowledgements of the pipeline's push.
    const ackedBy = async () => (await nodeApi("enam").status()).replicas.filter((r) => r.offset === confirmed).map((r) => r.node).sort();
    for (let i = 0; i < 100 && (await ackedBy()).length < 2; i++) await nodeApi("enam").digest();
    expect(await ackedBy()).toEqual(["apac", "weur"]);
    // apac holds what it acknowledged partly in memory: keys kept after their transaction, which
    // the next message from the master would store. That message is held back (a delay on apac's
    // link, on the manual clock that does not move), so the crash below finds them in memory only.
    expect((await fault("apac", { delay: 60_000 })).status).toBe(200);
    expect(await ok(["WAIT", "2", WAIT_MS])).toEqual({ result: 2 });
    // (Offsets read in the objects: a digest reads the whole keyspace, which stores what is kept.)
    expect(await offsetOf("weur")).toBe(confirmed);
    expect(await offsetOf("apac")).toBe(confirmed);
    expect(await offsetOf("wnam")).toBeLessThan(confirmed);
    const kept = await stored("apac");
    expect(kept.replayFrom, "apac's replay marker").not.toBeNull();
    expect(kept.keys).not.toContain("p:10");
    expect(kept.keys).toContain("m:a"); // deleted in memory only

    // enam lost for good; apac crashes (its in-memory state dropped) and starts again.
    expect((await fault("enam", { down: true })).status).toBe(200);
    expect((await fault("apac", { restart: true })).status).toBe(200);
    await useClock("apac");
    expect(Number((await nodeApi("apac").info(["stats"])).match(/^total_commands_processed:(\d+)\r$/m)?.[1])).toBeLessThanOrEqual(1);
    expect(await offsetOf("apac")).toBe(confirmed);
    expect(await readOn("apac", expected)).toEqual(wanted(expected));
    const replayed = await stored("apac");
    expect(replayed.replayFrom).toBeNull();
    expect(replayed.keys).toContain("p:10");
    expect(replayed.keys).not.toContain("m:a");

    // The promotion the sentinels make: the best synced replica (priority, then offset, then name).
    expect((await fault("wnam", { link: "up" })).status).toBe(200);
    const statuses: NodeStatus[] = await Promise.all(REPLICAS.map((r) => nodeApi(r).status()));
    const best = statuses.filter((s) => s.synced && s.priority > 0).sort((a, b) => a.priority - b.priority || b.offset - a.offset || a.node.localeCompare(b.node))[0]!;
    expect(best.node).toBe("apac");
    const topology = { epoch: 2, primary: "apac", replicas: ["wnam", "weur", "enam"] };
    expect(await nodeApi("apac").adopt(topology)).toEqual(topology);
    for (const r of ["wnam", "weur"]) expect(await nodeApi(r).adopt(topology)).toEqual(topology);

    expect(await readOn("apac", expected, true)).toEqual(wanted(expected));
    const after = await nodeApi("apac").execute({ mode: "single", commands: [["SET", "after", "1"]], permission: "admin" }, true);
    expect(outcomes(after.result)).toEqual(["OK"]);
    for (const r of ["wnam", "weur"]) {
      expect(await nodeApi(r).catchUp(), r).toMatchObject({ state: "connected" });
      expect(await readOn(r, expected), r).toEqual(wanted(expected));
    }
    const digests = await Promise.all(["apac", "wnam", "weur"].map((n) => nodeApi(n).digest()));
    expect(new Set(digests.map((d) => `${d.offset}:${d.digest}`)).size).toBe(1);
  });
});
