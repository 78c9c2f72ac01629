// Roles that change at run time (issue 4's refresh-and-retry; SPEC §4 and §6's coordinated
// switch): a replica promoted under a new epoch keeps the old history as replid2 so the others
// continue with a partial sync, the old primary is fenced and follows, and the worker, told by a
// node that it is not the primary any more, learns the new topology and retries once.
import { evictDurableObject } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { type Topology, promoted } from "../../durable-objects/protocol/topology";
import { call, inNode, nodeApi, redis, stubOf } from "../support/helpers";
import { resetDeployment } from "./deployment";

const field = (info: string, name: string) => info.match(new RegExp(`^${name}:(.*)\\r$`, "m"))?.[1];
const info = (node: string, section: string) => nodeApi(node).info([section]);
const servedBy = (r: { headers: Headers }) => r.headers.get("flaredis-served-by");
const PARIS = { latitude: "48.86", longitude: "2.35", continent: "EU" };

/** Moves the primary of `t` to `to` as the admin API does, but by RPC (the worker is not told). */
async function switchBehindTheWorkersBack(t: Topology, to: string): Promise<Topology> {
  const fenced = await nodeApi(t.primary).fence(t.epoch + 1);
  expect(fenced.fenced).toBe(true);
  expect((await nodeApi(to).catchUp()).offset).toBe(fenced.offset);
  const next = promoted(t, to);
  expect(await nodeApi(to).adopt(next, { replid: fenced.replid, offset: fenced.offset })).toEqual(next);
  for (const n of next.replicas) await nodeApi(n).adopt(next);
  return next;
}

describe("a cluster outside the configured topology (sam primary; oc, me replicas)", () => {
  const first: Topology = { epoch: 2, primary: "sam", replicas: ["oc", "me"] };
  const batch = (...commands: string[][]) => ({ mode: "pipeline" as const, commands, permission: "admin" as const });

  it("promotes a replica with a partial sync everywhere, fences the old primary, and loses no acknowledged write", async () => {
    for (const n of ["sam", "oc", "me"]) await nodeApi(n).adopt(first);
    for (let i = 0; i < 50; i++) await nodeApi("sam").execute(batch(["SET", `k${i}`, `v${i}`], ["INCR", "n"]), true);
    for (const r of ["oc", "me"]) expect((await nodeApi(r).catchUp()).state).toBe("connected");
    const oldReplid = field(await info("sam", "replication"), "master_replid");

    const second = await switchBehindTheWorkersBack(first, "oc");
    const promotedInfo = await info("oc", "replication");
    expect(field(promotedInfo, "role")).toBe("master");
    expect(field(promotedInfo, "master_replid2")).toBe(oldReplid);
    expect(field(promotedInfo, "master_replid")).not.toBe(oldReplid);

    // The old primary refuses to act as one, names the new topology, and refuses writes as a replica.
    const refused = await nodeApi("sam").execute(batch(["SET", "x", "1"]), true);
    expect(refused.notPrimary).toEqual(second);
    expect(refused.result).toMatchObject({ error: "READONLY You can't write against a read only replica." });
    const asReplica = await nodeApi("sam").execute(batch(["SET", "x", "1"]));
    expect(asReplica.result).toMatchObject({ outcomes: [{ error: "READONLY You can't write against a read only replica." }] });

    // Writes on the new primary reach both replicas, which continued (no full sync).
    await nodeApi("oc").execute(batch(["INCR", "n"]), true);
    for (const r of ["sam", "me"]) expect(await nodeApi(r).catchUp()).toMatchObject({ state: "connected", topology: second });
    expect(field(await info("oc", "stats"), "sync_full")).toBe("0");
    expect(Number(field(await info("oc", "stats"), "sync_partial_ok"))).toBeGreaterThanOrEqual(2);
    const digests = await Promise.all(["oc", "sam", "me"].map((n) => nodeApi(n).digest()));
    expect(new Set(digests.map((d) => `${d.offset}:${d.digest}`)).size).toBe(1);
    const n = await nodeApi("me").execute(batch(["GET", "n"]));
    expect(n.result).toMatchObject({ outcomes: [{ result: new TextEncoder().encode("51") }] });
  });

  it("keeps the topology across a restart, and a node that missed the switch learns it from the new master", async () => {
    const now = await nodeApi("sam").topology();
    expect(now).toMatchObject({ epoch: 3, primary: "oc" });
    await evictDurableObject(stubOf("sam"));
    expect(await nodeApi("sam").topology()).toEqual(now);
    expect(field(await info("sam", "replication"), "role")).toBe("slave");

    // A newer epoch told to oc and sam only: me still thinks oc is master, until oc's push fences it.
    const third: Topology = { epoch: 4, primary: "sam", replicas: ["oc", "me"] };
    await nodeApi("sam").catchUp();
    await nodeApi("sam").adopt(third);
    await nodeApi("oc").adopt(third);
    await nodeApi("sam").execute(batch(["SET", "after", "switch"]), true);
    await nodeApi("sam").execute(batch(["SET", "after2", "switch"]), true);
    for (let i = 0; i < 100 && (await nodeApi("me").topology()).epoch < 4; i++) await nodeApi("me").catchUp();
    expect(await nodeApi("me").topology()).toEqual(third);
    expect(await nodeApi("me").catchUp()).toMatchObject({ state: "connected" });
    const [a, b] = await Promise.all(["sam", "me"].map((n) => nodeApi(n).digest()));
    expect(b).toEqual({ ...a, node: "me" });
  });

  it("a failover whose target cannot catch up is settled as 'the primary stays', and writes resume", async () => {
    const t = await nodeApi("sam").topology();
    await inNode(stubOf("oc"), (node) => node.fault({ link: "down" }));
    await nodeApi("sam").execute(batch(["SET", "while", "cut"]), true);
    const fenced = await nodeApi("sam").fence(t.epoch + 1);
    expect(fenced.fenced).toBe(true);
    expect((await nodeApi("oc").catchUp()).offset).toBeLessThan(fenced.offset);
    // The target refuses a promotion at another position than the fenced primary's.
    const next = promoted(t, "oc");
    expect(await nodeApi("oc").adopt(next, { replid: fenced.replid, offset: fenced.offset })).toEqual(t);
    // The abort: the epoch is settled at the target first (so a late promotion cannot win it), then at the primary.
    const keep = { ...t, epoch: t.epoch + 1 };
    expect(await nodeApi("oc").adopt(keep)).toEqual(keep);
    expect(await nodeApi("oc").adopt(next)).toEqual(keep);
    expect(await nodeApi("sam").adopt(keep)).toEqual(keep);
    const reply = await nodeApi("sam").execute(batch(["SET", "resumed", "yes"]), true);
    expect(reply.notPrimary).toBeUndefined();
    expect(reply.result).toMatchObject({ outcomes: [{ result: "OK" }] });
    await inNode(stubOf("oc"), (node) => node.fault({ link: "up" }));
  });
});

describe("the worker follows a failover of the configured nodes", () => {
  afterAll(async () => {
    // Back to the configured topology (epoch 1) with fresh nodes and sentinels, for the other test files.
    // (Storage is empty; this isolate's worker keeps its learned epoch, so it is not asked.)
    await resetDeployment();
    await Promise.all(["wnam", "weur", "apac"].map((r) => nodeApi(r).catchUp()));
  });

  it("POST /admin/failover moves the primary; writes follow it and reads go to the nearest replica, the old primary among them", async () => {
    await redis("SET", "before", "1");
    const bad = await call({ to: "enam" }, { path: "/admin/failover" });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/^ERR a failover is/);

    const r = await call({ to: "weur" }, { path: "/admin/failover" });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ epoch: 2, primary: "weur", replicas: ["wnam", "apac", "enam"] });
    const set = await call(["INCR", "before"]);
    expect(servedBy(set)).toBe("primary:weur");
    expect(set.json).toEqual({ result: 2 });
    const topology = await call(undefined, { path: "/admin/topology", method: "GET" });
    expect(topology.json).toMatchObject({ epoch: 2, primary: { node: "weur" } });

    await nodeApi("enam").catchUp();
    const read = await call(["GET", "before"], { cf: PARIS, headers: { "upstash-sync-token": set.headers.get("upstash-sync-token")! } });
    expect(servedBy(read)).toBe("replica:enam");
    expect(read.json).toEqual({ result: "2" });
  });

  it("two POST /admin/failover at once: one 200 with the epoch it made, one 409 and nothing changed; a concurrent writer loses nothing", async () => {
    const before = await nodeApi("weur").topology();
    const acknowledged = new Map<string, string>();
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const r = await call(["SET", `cw${i}`, String(i)]);
        if (r.status === 200) acknowledged.set(`cw${i}`, String(i));
      }
    })();
    const [a, b] = await Promise.all([
      call({ to: "wnam" }, { path: "/admin/failover" }),
      call({ to: "apac" }, { path: "/admin/failover" }),
    ]);
    stop = true;
    await writer;
    const [win, lose] = a.status === 200 ? [a, b] : [b, a];
    expect(win.status).toBe(200);
    expect(win.json.epoch).toBeGreaterThan(before.epoch);
    expect(lose.status).toBe(409);
    expect(lose.json.error).toMatch(/^ERR .*nothing changed/);
    const masters = [];
    for (const n of ["enam", "wnam", "weur", "apac"]) if (field(await info(n, "replication"), "role") === "master") masters.push(n);
    expect(masters).toEqual([win.json.primary]);
    expect(acknowledged.size).toBeGreaterThan(0);
    for (const [key, value] of acknowledged) expect(await redis("GET", key), key).toBe(value);
    await Promise.all(["enam", "wnam", "weur", "apac"].filter((n) => n !== win.json.primary).map((n) => nodeApi(n).catchUp()));
    const digests = await Promise.all(["enam", "wnam", "weur", "apac"].map((n) => nodeApi(n).digest()));
    expect(new Set(digests.map((d) => `${d.offset}:${d.digest}`)).size).toBe(1);
    // Back to weur for the next test.
    expect((await call({ to: "weur" }, { path: "/admin/failover" })).status).toBe(200);
  });

  it("a write sent to a primary that is no longer one is retried once on the new primary", async () => {
    const t = await nodeApi("weur").topology();
    await switchBehindTheWorkersBack(t, "enam");
    // The worker still routes writes to weur: weur answers notPrimary, the worker retries on enam.
    const set = await call(["INCR", "before"]);
    expect(set.status).toBe(200);
    expect(servedBy(set)).toBe("primary:enam");
    expect(set.json).toEqual({ result: 3 });
    expect(servedBy(await call(["SET", "again", "1"]))).toBe("primary:enam");
    const acks = await Promise.all(["wnam", "weur", "apac"].map((n) => nodeApi(n).catchUp()));
    const primary = await nodeApi("enam").digest();
    for (const ack of acks) expect(ack).toMatchObject({ state: "connected", offset: primary.offset });
  });

  it("a write whose call to the primary failed is not sent again to the new primary (it may have run): MASTERDOWN says so", async () => {
    const t = await nodeApi("enam").topology();
    expect(t.primary).toBe("enam");
    const before = await redis("GET", "before");
    await switchBehindTheWorkersBack(t, "weur");
    expect((await call({ down: true }, { path: "/admin/nodes/enam/faults" })).status).toBe(200);
    try {
      const failed = await call(["INCR", "before"]);
      expect(failed.status).toBe(503);
      expect(failed.json.error).toMatch(/^MASTERDOWN the primary \(enam\) cannot be reached; the write may or may not have been applied/);
      expect(await redis("GET", "before")).toBe(before);
      // The worker has learned the new primary meanwhile: the next write goes there.
      const next = await call(["INCR", "before"]);
      expect(next.status).toBe(200);
      expect(servedBy(next)).toBe("primary:weur");
    } finally {
      await call({ down: false }, { path: "/admin/nodes/enam/faults" });
    }
  });
});
