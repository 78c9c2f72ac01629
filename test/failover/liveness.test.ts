// Who notices a lost master, and what an idle deployment costs (node/liveness.ts): the master
// pings its replicas, a replica that hears nothing past the master's promise wakes the
// sentinels, the sentinels sleep otherwise, and the master renews its lease for writes itself.
import { describe, expect, it } from "vitest";
import { IDLE_PING_MS, SILENCE_GRACE_MS } from "../../durable-objects/node/liveness";
import { Cluster } from "../support/cluster";

const SENTINELS = ["wnam", "weur", "apac"];

/** Ticks a second at a time until `done`, at most `ms`; the ms it took, or -1. */
async function until(c: Cluster, ms: number, done: () => boolean): Promise<number> {
  for (let t = 1000; t <= ms; t += 1000) {
    await c.tick(1000);
    if (done()) return t;
  }
  return -1;
}

describe("an idle deployment", () => {
  it("serves at most 0.5 Durable Object requests a second over its seven objects, and its sentinels sleep", async () => {
    const c = await new Cluster().start();
    expect(await c.run("SET", "k", "v")).toBe("OK");
    await c.tick(30_000);
    const before = new Map(c.requests);
    const seconds = 180;
    await c.tick(seconds * 1000);
    const served = c.requestsSince(before);
    expect(served / seconds).toBeLessThanOrEqual(0.5);
    // What is left: the master's alarm and its pings to its three replicas.
    const by = new Map([...c.requests].map(([k, n]) => [k, n - (before.get(k) ?? 0)]).filter(([, n]) => (n as number) > 0) as [string, number][]);
    expect([...by.keys()].sort()).toEqual(["node:apac push", "node:enam alarm", "node:weur push", "node:wnam push"]);
    for (const s of SENTINELS) expect(c.armed(`sentinel:${s}`)).toBe(false);
    // A sleeping sentinel suspects nothing.
    for (const s of c.sentinels.values()) expect(s.status().nodes.filter((n) => n.sdown)).toEqual([]);
  });

  it("takes a write after an idle spell: the master renews its lease with the sentinels first", async () => {
    const c = await new Cluster().start();
    await c.tick(120_000);
    expect(c.node("enam").role.writeRefusal()).toMatchObject({ message: expect.stringMatching(/^NOQUORUM /) });
    expect(await c.run("SET", "after-idle", "1")).toBe("OK");
    expect(c.node("enam").role.writeRefusal()).toBeNull();
  });
});

describe("a master lost while idle", () => {
  it("is noticed by its replicas within the idle ping period and a grace, and a replica is promoted", async () => {
    const c = await new Cluster().start();
    expect(await c.run("SET", "k", "v")).toBe("OK");
    await c.tick(60_000);
    c.node("enam").fault({ down: true });
    const took = await until(c, 30_000, () => c.primary() !== "enam");
    expect(took).toBeGreaterThan(0);
    // Noticed within IDLE_PING_MS + SILENCE_GRACE_MS of the loss; the failover then takes a few ticks.
    expect(took).toBeLessThanOrEqual(IDLE_PING_MS + SILENCE_GRACE_MS + 5000);
    expect(await c.run("GET", "k")).toBe("v");
    expect(await c.run("SET", "k2", "v2")).toBe("OK");
    // Calm again: the sentinels go back to sleep once the new master answers and the replicas' reports are old.
    await c.tick(IDLE_PING_MS + SILENCE_GRACE_MS + 5000);
    for (const s of SENTINELS) expect(c.armed(`sentinel:${s}`)).toBe(false);
  });

  it("a replica whose link is cut wakes the sentinels, which watch while it says so and sleep again once it is back", async () => {
    const c = await new Cluster().start();
    await c.tick(20_000);
    c.node("weur").fault({ link: "down" });
    const before = new Map(c.requests);
    await c.tick(IDLE_PING_MS + SILENCE_GRACE_MS + 2000);
    const watches = [...c.requests].filter(([k]) => k.endsWith(" watch")).reduce((a, [k, n]) => a + n - (before.get(k) ?? 0), 0);
    expect(watches).toBeGreaterThanOrEqual(SENTINELS.length);
    expect(c.primary()).toBe("enam");
    for (const s of SENTINELS) expect(c.armed(`sentinel:${s}`)).toBe(true);
    c.node("weur").fault({ link: "up" });
    await c.tick(2 * (IDLE_PING_MS + SILENCE_GRACE_MS) + 5000);
    expect(c.primary()).toBe("enam");
    for (const s of SENTINELS) expect(c.armed(`sentinel:${s}`)).toBe(false);
  });

  it("a master whose link was cut first, then lost, is noticed within down-after-milliseconds of its loss", async () => {
    const c = await new Cluster().start();
    expect(await c.run("SET", "k", "v")).toBe("OK");
    await c.tick(20_000);
    c.node("enam").fault({ link: "down" });
    // The replicas stop hearing it and wake the sentinels, which find it answering.
    await c.tick(IDLE_PING_MS + SILENCE_GRACE_MS + 1000);
    expect(c.primary()).toBe("enam");
    c.node("enam").fault({ down: true });
    const took = await until(c, 30_000, () => c.primary() !== "enam");
    expect(took).toBeGreaterThan(0);
    expect(took).toBeLessThanOrEqual(c.settings.downAfterMs + 3000);
  });
});

describe("a master lost while writes go on", () => {
  it("is noticed a second or two after its last push, and promoted once down-after-milliseconds passed since the sentinels last heard from it", async () => {
    const c = await new Cluster().start();
    for (let i = 0; i < 10; i++) {
      expect(await c.run("SET", `w${i}`, "1")).toBe("OK");
      await c.tick(500, 500);
    }
    c.node("enam").fault({ down: true });
    const took = await until(c, 30_000, () => c.primary() !== "enam");
    expect(took).toBeGreaterThan(0);
    // The lease was renewed at most down-after-milliseconds / 2 before the loss.
    expect(took).toBeLessThanOrEqual(c.settings.downAfterMs + 3000);
  });
});

describe("what the sentinels count, once they wake", () => {
  it("a sleeping sentinel asked about the master counts its silence from the asker's view, not from an old answer", async () => {
    const c = await new Cluster().start();
    await c.tick(60_000);
    c.node("enam").fault({ down: true });
    const s = c.sentinels.get("apac")!;
    // Asked with no view of the silence: down-after-milliseconds from now, not at once.
    expect((await s.isMasterDown({ from: "wnam", primary: "enam", epoch: 1, candidate: null })).down).toBe(false);
    expect(c.primary()).toBe("enam");
    // It ticks from then on: down-after-milliseconds later the master is down and replaced.
    await c.tick(c.settings.downAfterMs + 3000);
    expect(c.primary()).not.toBe("enam");
    // Asked with the asker's view (silent for 10 s already): down at once.
    const fresh = await new Cluster().start();
    await fresh.tick(60_000);
    fresh.node("enam").fault({ down: true });
    const since = fresh.clock.now() - 10_000;
    expect((await fresh.sentinels.get("apac")!.isMasterDown({ from: "wnam", primary: "enam", epoch: 1, candidate: null, silentSince: since })).down).toBe(true);
  });

  it("a sentinel that voted for a new leader of an automatic failover does not count the old master's lease until it ends or times out", async () => {
    const c = await new Cluster().start();
    const s = c.sentinels.get("apac")!;
    const t = c.node("enam").known;
    expect(s.lease("enam", t).granted).toBe(true);
    // A coordinated failover's vote keeps the lease (that failover fences the master first).
    await s.isMasterDown({ from: "weur", primary: "enam", epoch: 4, candidate: "weur" });
    expect(s.lease("enam", t).granted).toBe(true);
    await s.isMasterDown({ from: "wnam", primary: "enam", epoch: 5, candidate: "wnam", auto: true });
    expect(s.lease("enam", t).granted).toBe(false);
    await c.tick(c.settings.failoverTimeoutMs + 1000);
    expect(s.lease("enam", t).granted).toBe(true);
  });

  it("a master hears enough sentinels that fewer than a quorum are left to see it down (5 sentinels, quorum 2: 4)", async () => {
    const c = await new Cluster({ sentinels: { sentinels: ["wnam", "weur", "apac", "sam", "oc"], quorum: 2 } }).start();
    expect(await c.run("SET", "a", "1")).toBe("OK");
    for (const s of ["sam", "oc"]) c.sentinels.get(s)!.setDown(true);
    await c.tick(6000);
    expect(await c.run("SET", "b", "1")).toEqual({ error: expect.stringMatching(/^NOQUORUM this primary hears 3 of the 4 sentinels/) });
  });

  it("a stale sentinel learns the newer topology the question carries", async () => {
    const c = await new Cluster().start();
    const s = c.sentinels.get("apac")!;
    const newer = { epoch: 7, primary: "weur", replicas: ["enam", "wnam", "apac"] };
    await s.isMasterDown({ from: "wnam", primary: "weur", epoch: 7, candidate: null, topology: newer });
    expect(s.topology).toMatchObject({ epoch: 7, primary: "weur" });
  });
});
