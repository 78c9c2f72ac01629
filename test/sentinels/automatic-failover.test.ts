// Issue 14's acceptance 1-3 through the real runtime: the configured deployment (primary enam;
// replicas wnam, weur, apac; sentinels in wnam, weur, apac), every node and sentinel on one
// manual clock, the sentinels' alarms fired by the test.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { call, inNode, nodeApi, redis, stubOf } from "../support/helpers";
import { NODES, inSentinel, resetDeployment, sentinelApi, tickSentinels, useClock } from "./deployment";

const field = (info: string, name: string) => info.match(new RegExp(`^${name}:(.*)\\r$`, "m"))?.[1];
const PARIS = { latitude: "48.86", longitude: "2.35", continent: "EU" };
const fault = (node: string, body: unknown) => call(body, { path: `/admin/nodes/${node}/faults` });

let clock: ManualClock;

beforeAll(async () => {
  clock = new ManualClock(Date.now());
  await useClock(clock);
  await redis("FLUSHALL");
  await Promise.all(["wnam", "weur", "apac"].map((r) => nodeApi(r).catchUp()));
});

afterAll(async () => {
  for (const n of NODES) await fault(n, { down: false });
  await resetDeployment();
});

/** Moves the clock a second at a time, the sentinels' alarms firing each second. */
async function seconds(n: number, until?: () => Promise<boolean>): Promise<number> {
  for (let s = 1; s <= n; s++) {
    await inNode(stubOf("wnam"), () => clock.advance(1000));
    await tickSentinels();
    if (until && (await until())) return s;
  }
  return -1;
}

describe("the primary's region is gone", () => {
  const written = new Map<string, string>();
  let promotedTo = "";

  it("a replica is promoted within down-after-milliseconds + 5 s; no write confirmed by WAIT is lost", async () => {
    for (let i = 0; i < 20; i++) {
      const r = await call([["SET", `k${i}`, `v${i}`], ["WAIT", "3", "0"]], { path: "/pipeline" });
      expect(r.json).toEqual([{ result: "OK" }, { result: 3 }]);
      written.set(`k${i}`, `v${i}`);
    }
    const oldReplid = field(await nodeApi("enam").info(["replication"]), "master_replid");
    await seconds(3); // 3 s without writes
    expect((await fault("enam", { down: true })).status).toBe(200);
    // Every second of the outage, a read from Paris: always 200 from a replica, saying how stale.
    const reads: { status: number; servedBy: string | null; staleness: string | null; body: unknown; promoted: boolean }[] = [];
    const after = await seconds(10, async () => {
      const promoted = (await nodeApi("weur").topology()).primary !== "enam";
      const r = await call(["GET", "k7"], { cf: PARIS });
      reads.push({ status: r.status, servedBy: r.headers.get("flaredis-served-by"), staleness: r.headers.get("flaredis-staleness"), body: r.json, promoted });
      return promoted;
    });
    expect(reads.length).toBeGreaterThan(5);
    for (const r of reads) {
      expect(r).toMatchObject({ status: 200, body: { result: "v7" } });
      if (r.servedBy?.startsWith("replica:")) expect(r.staleness).toMatch(/^\d+$/);
      else expect(r.promoted && r.servedBy).toMatch(/^primary:(wnam|weur|apac)$/); // the promoted one, at the very end
    }
    expect(reads.filter((r) => r.servedBy === "replica:weur").length).toBeGreaterThan(4);
    // It grows while the primary is gone (weur last heard from it before the outage).
    const staleness = reads.filter((r) => r.servedBy === "replica:weur" && !r.promoted).map((r) => Number(r.staleness));
    expect(staleness.at(-1)!).toBeGreaterThan(staleness[0]!);
    expect(after).toBeGreaterThan(5);
    expect(after).toBeLessThanOrEqual(10);
    promotedTo = (await nodeApi("weur").topology()).primary;
    expect(["wnam", "weur", "apac"]).toContain(promotedTo);
    const info = await nodeApi(promotedTo).info(["replication"]);
    expect(field(info, "role")).toBe("master");
    expect(field(info, "master_replid2")).toBe(oldReplid);
    // The admin API answers from the sentinels while the primary cannot be asked.
    const topology = await call(undefined, { path: "/admin/topology", method: "GET" });
    expect(topology.status).toBe(200);
    expect(topology.json.epoch).toBeGreaterThan(1);
    const sentinels = await Promise.all(["wnam", "weur", "apac"].map((s) => sentinelApi(s).status()));
    expect(sentinels.map((s) => s.topology.primary)).toEqual([promotedTo, promotedTo, promotedTo]);
  });

  it("writes succeed on the new primary; the other replicas continue with a partial sync; reads from Paris answer", async () => {
    const w = await call(["SET", "after", "failover"]);
    expect(w.status).toBe(200);
    expect(w.headers.get("flaredis-served-by")).toBe(`primary:${promotedTo}`);
    for (const [key, value] of written) expect(await redis("GET", key)).toBe(value);
    const others = ["wnam", "weur", "apac"].filter((n) => n !== promotedTo);
    for (const r of others) expect(await nodeApi(r).catchUp()).toMatchObject({ state: "connected" });
    expect(field(await nodeApi(promotedTo).info(["stats"]), "sync_full")).toBe("0");
    for (const r of others) expect(field(await nodeApi(r).info(["replication"]), "master_host")).toBe(promotedTo);
    const read = await call(["GET", "k0"], { cf: PARIS });
    expect(read.status).toBe(200);
    expect(read.json).toEqual({ result: "v0" });
  });

  it("the old primary, back, reports role:slave of the new primary and accepted no write after it was fenced", async () => {
    const before = await inNode(stubOf("enam"), (node) => ({ offset: node.core.engine.log.offset }));
    expect((await fault("enam", { down: false })).status).toBe(200);
    await seconds(2, async () => field(await nodeApi("enam").info(["replication"]), "role") === "slave");
    const info = await nodeApi("enam").info(["replication"]);
    expect(field(info, "role")).toBe("slave");
    expect(field(info, "master_host")).toBe(promotedTo);
    // While down it answered nothing; it took no write of its own since (its offset only grows by syncing).
    expect(before.offset).toBeLessThanOrEqual((await nodeApi("enam").digest()).offset);
    await nodeApi("enam").catchUp();
    const digests = await Promise.all(NODES.map((n) => nodeApi(n).digest()));
    expect(new Set(digests.map((d) => `${d.offset}:${d.digest}`)).size).toBe(1);
    const events = await inSentinel("wnam", (s) => s.core.status().events);
    expect(events.map((e) => e.event).join("\n")).toMatch(new RegExp(`${promotedTo} promoted at epoch \\d+ \\(was enam\\)`));
  });
});
