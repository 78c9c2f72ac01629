// The sentinels' failover (issue 14; SPEC §6) on whole in-memory clusters: the same Node and
// Sentinel classes the Durable Objects run, on MemoryNetwork, one manual clock.
import { describe, expect, it } from "vitest";
import { forgetSync } from "../../durable-objects/engine/replication/sync";
import { Cluster } from "../support/cluster";

const WAIT = (n: number) => ["WAIT", String(n), "0"];

/** Writes `count` keys on the primary, each confirmed by WAIT on every replica. */
async function confirmedWrites(c: Cluster, prefix: string, count: number): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `${prefix}${i}`;
    const result = await c.exec(c.primary(), ["SET", key, `v${i}`], WAIT(3));
    expect(result).toMatchObject({ outcomes: [{ result: "OK" }, { result: 3 }] });
    keys.push(key);
  }
  return keys;
}

describe("automatic failover of a lost primary", () => {
  it("promotes the best replica within down-after-milliseconds + 5 s; writes go on; the others continue with a partial sync", async () => {
    const c = await new Cluster().start();
    const keys = await confirmedWrites(c, "k", 20);
    const oldReplid = c.field("enam", "master_replid");
    await c.tick(3000); // 3 s without writes
    c.node("enam").fault({ down: true });
    let promotedAfter = -1;
    for (let s = 1; s <= 15 && promotedAfter < 0; s++) {
      await c.tick(1000);
      if (c.primary() !== "enam") promotedAfter = s * 1000;
    }
    expect(promotedAfter).toBeGreaterThan(5000);
    expect(promotedAfter).toBeLessThanOrEqual(5000 + 5000);
    const primary = c.primary();
    expect(["wnam", "weur", "apac"]).toContain(primary);
    expect(c.field(primary, "role")).toBe("master");
    expect(c.field(primary, "master_replid2")).toBe(oldReplid);
    // Writes succeed on the new primary, and nothing confirmed by WAIT was lost.
    expect(await c.run("SET", "after", "1")).toBe("OK");
    for (const [i, key] of keys.entries()) expect(await c.run("GET", key)).toBe(`v${i}`);
    await c.tick(2000);
    expect(c.field(primary, "sync_full")).toBe("0");
    for (const r of ["wnam", "weur", "apac"].filter((n) => n !== primary)) {
      expect(c.field(r, "master_host")).toBe(primary);
      expect(c.field(r, "master_link_status")).toBe("up");
    }
    // The old primary comes back: it follows the new one, and takes no write of its own.
    c.node("enam").fault({ down: false });
    await c.tick(3000);
    expect(c.field("enam", "role")).toBe("slave");
    expect(c.field("enam", "master_host")).toBe(primary);
    expect(await c.exec("enam", ["SET", "stale", "write"])).toMatchObject({ error: expect.stringMatching(/^READONLY/) });
    expect(c.digests().size).toBe(1);
  });

  it("never promotes a replica whose full sync did not finish (a failed chunk leaves a partial keyspace)", async () => {
    const c = await new Cluster({ topology: { epoch: 1, primary: "enam", replicas: ["weur"] }, sentinels: { sentinels: ["wnam", "weur", "apac"] } }).start();
    // 100 keys of 20 KB: several snapshot chunks.
    for (let i = 0; i < 100; i++) await c.run("SET", `big${i}`, "x".repeat(20_000));
    // weur must full-sync again (as after a lost backlog); the primary dies after the first chunk.
    forgetSync(c.node("weur").engine);
    const chunks: unknown[] = [];
    const enam = c.node("enam");
    const snapshot = enam.snapshot.bind(enam);
    enam.snapshot = (replica, cursor) => {
      if (chunks.length > 0) {
        enam.fault({ down: true });
        throw new Error("down mid-sync");
      }
      chunks.push(cursor);
      return snapshot(replica, cursor);
    };
    await c.restartNode("weur");
    await c.settle();
    expect(chunks).toHaveLength(1);
    expect(c.node("weur").status().synced).toBe(false);
    await c.tick(20_000);
    // No promotion: weur is the only replica and holds part of a keyspace.
    expect(c.primary()).toBe("enam");
    expect(c.field("weur", "role")).toBe("slave");
    // A direct promotion is refused as well.
    const t = c.node("weur").known;
    const after = await c.node("weur").adopt({ epoch: 99, primary: "weur", replicas: ["enam"] });
    expect(after).toEqual(t);
  });
});

describe("coordinated failover (POST /admin/failover through a sentinel)", () => {
  it("fences, catches up, promotes; no acknowledged write is lost under a concurrent writer", async () => {
    const c = await new Cluster().start();
    const acknowledged = new Map<string, string>();
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const primary = c.primary();
        const r = await c.exec(primary, ["SET", `w${i}`, `${i}`]);
        if ("outcomes" in r && "result" in r.outcomes[0]! && r.outcomes[0].result === "OK") acknowledged.set(`w${i}`, `${i}`);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const answer = await c.network.sentinel("wnam").failover("weur");
    stop = true;
    await writer;
    expect(answer).toMatchObject({ ok: true, topology: { primary: "weur" } });
    expect(c.primary()).toBe("weur");
    await c.tick(2000);
    for (const [key, value] of acknowledged) expect(await c.run("GET", key), key).toBe(value);
    expect(c.digests().size).toBe(1);
    expect(c.field("weur", "sync_full")).toBe("0");
    expect(c.field("enam", "role")).toBe("slave");
  });

  it("a hash field's deadline survives the failover: the new primary's sweep deletes it, every node agrees", async () => {
    const c = await new Cluster().start();
    expect(await c.exec(c.primary(), ["HSET", "h", "a", "1", "b", "2"], WAIT(3))).toMatchObject({ outcomes: [{ result: 2 }, { result: 3 }] });
    expect(await c.exec(c.primary(), ["HPEXPIRE", "h", "5000", "FIELDS", "1", "a"], WAIT(3))).toMatchObject({ outcomes: [{ result: [1] }, { result: 3 }] });
    expect(await c.network.sentinel("wnam").failover("weur")).toMatchObject({ ok: true, topology: { primary: "weur" } });
    expect(c.primary()).toBe("weur");
    const ttl = (await c.run("HPTTL", "h", "FIELDS", "1", "a")) as number[];
    expect(ttl[0]).toBeGreaterThan(0);
    expect(ttl[0]).toBeLessThanOrEqual(5000);
    await c.tick(8000);
    // Deleted by the new primary's sweep (before any read), counted there, and the HDEL replicated.
    expect(c.field("weur", "expired_subkeys")).toBe("1");
    expect(c.digests().size).toBe(1);
    expect(await c.run("HGETALL", "h")).toEqual([new TextEncoder().encode("b"), new TextEncoder().encode("2")]);
  });

  it("two at once to different replicas: exactly one primary; each answer tells the truth", async () => {
    const c = await new Cluster().start();
    await confirmedWrites(c, "k", 5);
    const [a, b] = await Promise.all([c.network.sentinel("wnam").failover("weur"), c.network.sentinel("weur").failover("apac")]);
    const wins = [a, b].filter((x) => x.ok);
    expect(wins).toHaveLength(1);
    const loser = [a, b].find((x) => !x.ok)!;
    expect(loser).toMatchObject({ ok: false, status: 409 });
    await c.tick(3000);
    const masters = [...c.nodes.keys()].filter((n) => c.field(n, "role") === "master");
    expect(masters).toEqual([wins[0]!.ok ? wins[0]!.topology.primary : ""]);
    expect(c.digests().size).toBe(1);
    expect(await c.run("SET", "after", "1")).toBe("OK");
  });

  it("a sentinel restarted mid-failover finishes it from its stored state; the primary is not left fenced", async () => {
    const c = await new Cluster().start();
    await confirmedWrites(c, "k", 5);
    // weur's link is cut: the coordinated failover waits for it to catch up; the coordinator restarts meanwhile.
    c.node("weur").fault({ link: "down" });
    await c.run("SET", "late", "1");
    const pending = c.network.sentinel("wnam").failover("weur").catch((e: Error) => e);
    for (let i = 0; i < 50 && c.node("enam").status().fencedAt === null; i++) await c.settle();
    expect(c.node("enam").status().fencedAt).not.toBeNull();
    c.restartSentinel("wnam");
    c.node("weur").fault({ link: "up" });
    await c.tick(40_000);
    // The restarted coordinator's call failed, as an RPC to an aborted object does.
    expect(await pending).toBeInstanceOf(Error);
    // Either outcome is whole: weur promoted with every write, or enam unfenced and still the primary.
    const primary = c.primary();
    expect(c.node(primary).status().fencedAt).toBeNull();
    expect(await c.run("GET", "late")).toBe("1");
    expect(await c.run("SET", "after", "1")).toBe("OK");
    await c.tick(2000);
    expect(c.digests().size).toBe(1);
  });

  it("a primary fenced by one failover refuses the fence of another: the second loses and changes nothing", async () => {
    const c = await new Cluster().start();
    const enam = c.node("enam");
    const first = enam.fence(5);
    expect(first.fenced).toBe(true);
    expect(enam.fence(6)).toMatchObject({ fenced: false, offset: first.offset });
    expect(enam.status().fencedAt).toBe(5);
    // The first failover settles its epoch as "the primary stays": the fence lifts, writes resume.
    await enam.adopt({ ...enam.known, epoch: 5 });
    expect(enam.status().fencedAt).toBeNull();
    expect(await c.run("SET", "after", "1")).toBe("OK");
  });

  it("a fence is stored: a restart in the middle of a failover does not let writes in", async () => {
    const c = await new Cluster().start();
    c.node("enam").fence(7);
    await c.restartNode("enam");
    const reply = c.exec("enam", ["SET", "k", "v"]);
    await c.tick(4000); // the batch waits for the failover to end, then answers TRYAGAIN
    expect(await reply).toMatchObject({ error: expect.stringMatching(/^TRYAGAIN /) });
    expect(c.node("enam").engine.storage.keys.get("k")).toBeNull();
    expect(c.node("enam").status()).toMatchObject({ fencedAt: 7, failoverState: "waiting-for-sync" });
  });
});

describe("elections", () => {
  it("a sentinel that is gone does not stop a failover while a majority lives", async () => {
    const c = await new Cluster().start();
    c.sentinels.get("apac")!.setDown(true);
    c.node("enam").fault({ down: true });
    await c.tick(12_000);
    expect(c.primary()).not.toBe("enam");
  });

  it("one vote per epoch, to the first that asks", async () => {
    const c = await new Cluster().start();
    const s = c.sentinels.get("apac")!;
    const [a, b] = await Promise.all([
      s.isMasterDown({ from: "wnam", primary: "enam", epoch: 5, candidate: "wnam" }),
      s.isMasterDown({ from: "weur", primary: "enam", epoch: 5, candidate: "weur" }),
    ]);
    expect(a).toMatchObject({ leader: "wnam", leaderEpoch: 5 });
    expect(b).toMatchObject({ leader: "wnam", leaderEpoch: 5 });
    expect(await s.isMasterDown({ from: "weur", primary: "enam", epoch: 4, candidate: "weur" })).toMatchObject({ leader: "wnam", leaderEpoch: 5 });
    expect(await s.isMasterDown({ from: "weur", primary: "enam", epoch: 6, candidate: "weur" })).toMatchObject({ leader: "weur", leaderEpoch: 6 });
  });

  it("a primary that hears no quorum of sentinels for down-after-milliseconds stops taking writes", async () => {
    const c = await new Cluster().start();
    expect(await c.run("SET", "a", "1")).toBe("OK");
    for (const s of c.sentinels.values()) s.setDown(true);
    await c.tick(6000);
    expect(await c.run("SET", "b", "1")).toEqual({ error: expect.stringMatching(/^NOQUORUM /) });
    expect(await c.run("GET", "a")).toBe("1");
    for (const s of c.sentinels.values()) s.setDown(false);
    await c.tick(2000);
    expect(await c.run("SET", "b", "1")).toBe("OK");
  });
});

describe("every path to master shifts the replid; epochs never go backwards", () => {
  it("a deploy that names another primary after a failover", async () => {
    const c = await new Cluster({ sentinels: { sentinels: [] } }).start();
    await confirmedWrites(c, "k", 3);
    const before = c.node("weur").known.epoch;
    const replid = c.field("weur", "master_replid");
    c.configured = { epoch: 1, primary: "weur", replicas: ["wnam", "enam", "apac"] };
    for (const n of ["enam", "wnam", "weur", "apac"]) await c.restartNode(n);
    await c.settle();
    await c.tick(2000);
    expect(c.field("weur", "role")).toBe("master");
    expect(c.field("weur", "master_replid2")).toBe(replid);
    expect(c.node("weur").known.epoch).toBeGreaterThan(before);
    expect(c.field("enam", "role")).toBe("slave");
    expect(await c.run("GET", "k0")).toBe("v0");
    expect(c.field("weur", "sync_full")).toBe("0");
    expect(c.digests().size).toBe(1);
  });
});

describe("an old or restarted primary, lost answers and a new primary", () => {
  it("an old primary back as a fresh instance after a failover takes no write before it follows the new primary", async () => {
    const c = await new Cluster().start();
    await confirmedWrites(c, "k", 3);
    // enam's region is lost: nobody reaches it, it reaches nobody.
    c.network.remove("enam", "node");
    c.node("enam").faults.linkDown = true;
    for (let s = 0; s < 15 && c.node("weur").known.epoch === 1; s++) await c.tick(1000);
    expect(c.node("weur").known.primary).not.toBe("enam");
    // The region comes back: a fresh instance of enam; its replicas are 50 ms away.
    for (const r of ["wnam", "weur", "apac"]) {
      const n = c.node(r);
      const push = n.push.bind(n);
      n.push = async (p) => {
        await c.clock.sleep(50);
        return push(p);
      };
    }
    await c.restartNode("enam");
    const r = await c.exec("enam", ["SET", "ghost", "acked-by-old-primary"]);
    expect(r).toMatchObject({ error: expect.stringMatching(/^READONLY/) });
    await c.tick(3000);
    expect(c.field("enam", "role")).toBe("slave");
  });

  it("a primary restarted while it hears no sentinel refuses writes at once (no fresh grace)", async () => {
    const c = await new Cluster().start();
    expect(await c.run("SET", "a", "1")).toBe("OK");
    for (const s of c.sentinels.values()) s.setDown(true);
    await c.tick(1000);
    await c.restartNode("enam");
    await c.settle();
    expect(await c.run("SET", "b", "1")).toEqual({ error: expect.stringMatching(/^NOQUORUM /) });
  });

  it("a primary taken down (stored) can restart, and be brought back", async () => {
    const c = await new Cluster().start();
    c.node("enam").fault({ down: true });
    const enam = await c.restartNode("enam");
    expect(enam.faults.down).toBe(true);
    enam.fault({ down: false });
    await c.tick(2000);
    expect(await c.run("SET", "back", "1")).toBe("OK");
  });

  it("a fence whose answer is lost is lifted: the failover settles its epoch instead of ending", async () => {
    const c = await new Cluster().start();
    const enam = c.node("enam");
    const fence = enam.fence.bind(enam);
    let lost = 0;
    enam.fence = (e: number) => {
      const r = fence(e);
      if (lost++ === 0) throw new Error("answer lost");
      return r;
    };
    const a = await c.network.sentinel("wnam").failover("weur");
    expect(a).toMatchObject({ ok: false, status: 409 });
    await c.tick(2000);
    expect(enam.status().fencedAt).toBeNull();
    expect(await c.run("SET", "x", "1")).toBe("OK");
    expect(await c.network.sentinel("weur").failover("apac")).toMatchObject({ ok: true });
  });

  it("a promotion whose answer is lost is never followed by another promotion at the same epoch", async () => {
    const c = await new Cluster().start();
    await confirmedWrites(c, "k", 1);
    const apac = c.node("apac");
    const adopt = apac.adopt.bind(apac);
    const hello = apac.hello.bind(apac);
    let once = true;
    apac.adopt = async (t, at) => {
      if (once && t.primary === "apac") apac.faults.linkDown = true;
      const r = await adopt(t, at);
      if (once && r.primary === "apac") {
        once = false;
        apac.hello = async () => {
          throw new Error("apac unreachable for a moment");
        };
        throw new Error("answer lost");
      }
      return r;
    };
    c.node("enam").fault({ down: true });
    for (let s = 0; s < 20 && c.node("weur").known.epoch === 1 && c.node("wnam").known.epoch === 1; s++) await c.tick(1000);
    await c.tick(2000);
    apac.hello = hello;
    apac.fault({ link: "up" });
    await c.tick(40_000);
    const masters = ["wnam", "weur", "apac"].filter((n) => c.field(n, "role") === "master");
    expect(masters).toHaveLength(1);
    const epochs = new Set(["wnam", "weur", "apac"].map((n) => c.node(n).known.epoch));
    expect(epochs.size).toBe(1);
  });

  it("a new primary is not taken for down at its first missed ping", async () => {
    const c = await new Cluster().start();
    await c.tick(10_000);
    expect(await c.network.sentinel("wnam").failover("weur")).toMatchObject({ ok: true });
    const weur = c.node("weur");
    const hello = weur.hello.bind(weur);
    weur.hello = async () => {
      throw new Error("slow for a moment");
    };
    expect(await c.exec("weur", ["SET", "acked-on-new-primary", "1"])).toMatchObject({ outcomes: [{ result: "OK" }] });
    await c.tick(2000);
    weur.hello = hello;
    await c.tick(3000);
    expect(c.primary()).toBe("weur");
    expect(await c.run("GET", "acked-on-new-primary")).toBe("1");
  });
});
