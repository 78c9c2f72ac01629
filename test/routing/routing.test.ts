// Edge routing through the worker: reads to the nearest healthy replica (request.cf), writes,
// pipelines holding a write and multi-exec to the primary, a cut replica skipped, a replica that
// declines handing the read to the next nearest, and read-your-writes with the sync token
// (issue 4). Routing while the primary is down: edge-outage.test.ts.
import { Redis } from "@upstash/redis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Router, forgetHealth } from "../../worker/routing";
import { ManualClock, systemClock } from "../../durable-objects/engine/clock";
import { BASE, TOKENS, call, inNode, nodeApi, redis, stubOf, worker } from "../support/helpers";

const PARIS = { latitude: "48.86", longitude: "2.35", continent: "EU" };
const TOKYO = { latitude: "35.68", longitude: "139.69", continent: "AS" };
const SAN_FRANCISCO = { latitude: "37.77", longitude: "-122.42", continent: "NA" };
const NEW_YORK = { latitude: "40.71", longitude: "-74.01", continent: "NA" };
const REPLICAS = ["wnam", "weur", "apac"];

const servedBy = (r: { headers: Headers }) => r.headers.get("flaredis-served-by");
const fault = (node: string, link: "up" | "down") => call({ link }, { path: `/admin/nodes/${node}/faults` });

beforeEach(async () => {
  await redis("FLUSHALL");
  await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
  forgetHealth();
});

afterEach(async () => {
  for (const r of REPLICAS) await fault(r, "up");
  for (const r of REPLICAS) await call({ delay: 0 }, { path: `/admin/nodes/${r}/faults` });
  await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
  forgetHealth();
});

describe("routing", () => {
  it("sends a read to the nearest replica and a write to the primary", async () => {
    await redis("SET", "k", "v");
    await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
    for (const [cf, node] of [[PARIS, "replica:weur"], [TOKYO, "replica:apac"], [SAN_FRANCISCO, "replica:wnam"]] as const) {
      const r = await call(["GET", "k"], { cf });
      expect(servedBy(r)).toBe(node);
      expect(r.json).toEqual({ result: "v" });
    }
    expect(servedBy(await call(["SET", "k", "w"], { cf: PARIS }))).toBe("primary:enam");
    expect(servedBy(await call(["GET", "k"]))).toBe("primary:enam"); // a client that cannot be located
  });

  it("sends a pipeline holding a write, every multi-exec and WAIT to the primary; a read-only pipeline to the nearest replica", async () => {
    const reads = await call([["GET", "a"], ["EXISTS", "a"]], { path: "/pipeline", cf: TOKYO });
    expect(servedBy(reads)).toBe("replica:apac");
    const mixed = await call([["GET", "a"], ["SET", "a", "1"]], { path: "/pipeline", cf: TOKYO });
    expect(servedBy(mixed)).toBe("primary:enam");
    expect(servedBy(await call([["GET", "a"]], { path: "/multi-exec", cf: TOKYO }))).toBe("primary:enam");
    expect(servedBy(await call(["WAIT", 0, 0], { cf: TOKYO }))).toBe("primary:enam");
    expect(servedBy(await call(["NOSUCHCOMMAND"], { cf: TOKYO }))).toBe("primary:enam");
  });

  it("sends a PFCOUNT that would store its count to the primary, which replicates it; one with a fresh count to the replica", async () => {
    await redis("PFADD", "h", "a", "b", "c");
    await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
    const stale = await call(["PFCOUNT", "h"], { cf: PARIS, token: TOKENS.readonly });
    expect(stale.json).toEqual({ result: 3 });
    expect(servedBy(stale)).toBe("primary:enam"); // weur declined: the master writes the count
    await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
    const fresh = await call(["PFCOUNT", "h"], { cf: PARIS });
    expect(fresh.json).toEqual({ result: 3 });
    expect(servedBy(fresh)).toBe("replica:weur");
    // The header holds 3, top bit clear, as redis-server's PFCOUNT leaves it.
    const header = await call(["GETRANGE", "h", 8, 15], { cf: PARIS });
    expect(servedBy(header)).toBe("replica:weur");
    expect(header.json).toEqual({ result: "\u0003\u0000\u0000\u0000\u0000\u0000\u0000\u0000" });
    expect(servedBy(await call(["PFCOUNT", "h", "h"], { cf: PARIS }))).toBe("replica:weur"); // of several keys: nothing stored
  });

  it("keeps the replica's count when the primary it sends a PFCOUNT on to is fenced (TRYAGAIN)", async () => {
    await redis("PFADD", "h", "a", "b", "c");
    await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
    const epoch = await inNode(stubOf("enam"), (node) => {
      const e = node.core.known.epoch + 1;
      expect(node.core.fence(e).fenced).toBe(true);
      return e;
    });
    try {
      const r = await call(["PFCOUNT", "h"], { cf: PARIS }); // the primary waits 3 s for the failover, then refuses
      expect(r.json).toEqual({ result: 3 });
      expect(servedBy(r)).toBe("replica:weur");
    } finally {
      await inNode(stubOf("enam"), (node) => node.core.adopt({ ...node.core.known, epoch })); // "the primary stays": the fence lifts
    }
    expect(servedBy(await call(["PFCOUNT", "h"], { cf: PARIS }))).toBe("primary:enam");
  });

  it("stops sending reads to a replica whose link is down", async () => {
    await fault("weur", "down");
    await redis("SET", "k", "v"); // the master's push fails: it sees weur down
    forgetHealth();
    for (let i = 0; i < 5; i++) {
      const r = await call(["GET", "k"], { cf: PARIS });
      expect(servedBy(r)).not.toBe("replica:weur");
      expect(r.json).toEqual({ result: "v" });
    }
  });

  it("routes by a slightly stale health at once and refreshes it in the background", async () => {
    const { env } = await import("cloudflare:workers");
    const pending: Promise<unknown>[] = [];
    const background = (work: Promise<unknown>) => void pending.push(work);
    // A router of its own, on a clock the test moves (the isolate's runs on the system clock).
    const clock = new ManualClock(Date.now());
    const router = new Router(env, clock);
    expect(await router.readReplica(PARIS, background)).toBe("weur"); // fetched: nothing cached
    expect(pending).toHaveLength(0);
    await fault("weur", "down");
    await redis("SET", "k", "v"); // its push fails: the primary sees weur down
    for (let i = 0; (await call(undefined, { path: "/admin/topology", method: "GET" })).json.replicas[1].link !== "down"; i++)
      if (i > 200) throw new Error("weur never seen down");
    clock.advance(2_000);
    expect(await router.readReplica(PARIS, background)).toBe("weur"); // stale, not waited for
    expect(pending).toHaveLength(1);
    await Promise.all(pending);
    clock.advance(1);
    expect(await router.readReplica(PARIS, background)).not.toBe("weur"); // refreshed
    router.forgetHealth();
    clock.advance(18_000);
    expect(await router.readReplica(PARIS, background)).not.toBe("weur"); // too old: fetched
    expect(pending).toHaveLength(1);
  });

  it("200 rounds of write from New York, read at once from Paris with the token, weur cut: no stale read", async () => {
    await fault("weur", "down");
    let stale = 0;
    for (let i = 0; i < 200; i++) {
      const w = await call(["SET", "round", i], { cf: NEW_YORK });
      const token = w.headers.get("upstash-sync-token")!;
      const r = await call(["GET", "round"], { cf: PARIS, headers: { "upstash-sync-token": token } });
      if (r.json.result !== String(i)) stale++;
    }
    expect(stale).toBe(0);
  });

  it("a replica that catches up serves a read carrying a token; its answer carries its own position", async () => {
    const w = await call(["SET", "k", "v"]);
    const token = w.headers.get("upstash-sync-token")!;
    const r = await call(["GET", "k"], { cf: TOKYO, headers: { "upstash-sync-token": token } });
    expect(servedBy(r)).toBe("replica:apac");
    expect(r.json).toEqual({ result: "v" });
    const [replid, offset] = token.split(":");
    const [replid2, offset2] = r.headers.get("upstash-sync-token")!.split(":");
    expect(replid2).toBe(replid);
    expect(Number(offset2)).toBeGreaterThanOrEqual(Number(offset));
    // A token no node has reached yet: the replica declines after its bounded wait, the primary answers.
    const ahead = await call(["GET", "k"], { cf: TOKYO, headers: { "upstash-sync-token": `${replid}:${Number(offset) + 1_000_000}` } });
    expect(servedBy(ahead)).toBe("primary:enam");
  });

  describe("with weur's replication delayed (fault injection)", () => {
    const delay = (ms: number) => call({ delay: ms }, { path: "/admin/nodes/weur/faults" });
    const rounds = async (n: number, withToken: boolean) => {
      let stale = 0;
      const servers = new Set<string>();
      for (let i = 0; i < n; i++) {
        const w = await call(["SET", "round", i], { cf: NEW_YORK });
        const headers: Record<string, string> = withToken ? { "upstash-sync-token": w.headers.get("upstash-sync-token")! } : {};
        const r = await call(["GET", "round"], { cf: PARIS, headers });
        if (r.json.result !== String(i)) stale++;
        servers.add(servedBy(r)!);
      }
      return { stale, servers };
    };

    it("reads without the token can be stale; reads with it never are, and wait for the replica", async () => {
      await delay(50);
      const without = await rounds(10, false);
      expect(without.servers).toEqual(new Set(["replica:weur"]));
      expect(without.stale).toBeGreaterThan(0); // the delay is real
      const withToken = await rounds(20, true);
      expect(withToken.stale).toBe(0);
      expect(withToken.servers).toEqual(new Set(["replica:weur"])); // it waited for weur
    });

    it("a replica behind the token serves at once a read of keys the client did not write; a key it wrote still reads its write", async () => {
      await redis("SET", "other", "x");
      await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
      await delay(1000); // weur now applies each push a second late: far past the 200 ms a read may wait
      for (let i = 0; i < 3; i++) {
        const w = await call(["SET", "mine", i], { cf: NEW_YORK });
        const token = w.headers.get("upstash-sync-token")!;
        const [, offset] = token.split(":");
        const unrelated = await call(["MGET", "other", "nope"], { cf: PARIS, headers: { "upstash-sync-token": token } });
        expect(servedBy(unrelated)).toBe("replica:weur");
        expect(unrelated.json).toEqual({ result: ["x", null] });
        // Its token does not go back: the position stays the write's, with the write still listed.
        const after = unrelated.headers.get("upstash-sync-token")!;
        expect(after.split(":")[1]).toBe(offset);
        expect(after.split(":").length).toBe(4);
        const own = await call(["GET", "mine"], { cf: PARIS, headers: { "upstash-sync-token": after } });
        expect(own.json).toEqual({ result: String(i) });
        expect(servedBy(own)).toBe("replica:wnam"); // weur cannot have it yet
        // A read of no named key may see any write of the client's: it waits as before.
        const keyless = await call(["DBSIZE"], { cf: PARIS, headers: { "upstash-sync-token": after } });
        expect(servedBy(keyless)).toBe("replica:wnam");
        expect(keyless.json).toEqual({ result: 2 });
      }
    });

    it("a replica further behind than the bounded wait hands the read to the next nearest, not the primary", async () => {
      await delay(1000);
      const { stale, servers } = await rounds(3, true);
      expect(stale).toBe(0);
      expect(servers).toEqual(new Set(["replica:wnam"])); // Paris: weur, then wnam (San Jose), then apac
    });
  });

  describe("bounded staleness (Flaredis-Max-Staleness)", () => {
    const maxStaleness = (ms: number | string) => ({ "flaredis-max-staleness": String(ms) });

    afterEach(async () => {
      await call({ link: "up" }, { path: "/admin/nodes/enam/faults" });
      for (const name of ["enam", ...REPLICAS]) await inNode(stubOf(name), (node) => void (node.clock = systemClock));
    });

    it("0 means the primary only; a fresh replica serves the read and says how stale it may be", async () => {
      await redis("SET", "k", "v");
      await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
      expect(servedBy(await call(["GET", "k"], { cf: PARIS, headers: maxStaleness(0) }))).toBe("primary:enam");
      const r = await call(["GET", "k"], { cf: PARIS, headers: maxStaleness(5000) });
      expect(servedBy(r)).toBe("replica:weur");
      expect(Number(r.headers.get("flaredis-staleness"))).toBeLessThanOrEqual(5000);
      const plain = await call(["GET", "k"], { cf: PARIS });
      expect(plain.headers.get("flaredis-staleness")).toMatch(/^\d+$/); // every replica answer says it
      expect((await call(["GET", "k"], { cf: PARIS, headers: maxStaleness("soon") })).status).toBe(400);
    });

    it("an idle replica refreshes with one pull; one that cannot leaves the read to the primary", async () => {
      const clock = new ManualClock(Date.now());
      for (const name of ["enam", ...REPLICAS]) await inNode(stubOf(name), (node) => void (node.clock = clock));
      await redis("SET", "k", "v");
      await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
      await inNode(stubOf("weur"), () => clock.advance(10_000)); // 10 s without a word from the primary
      const refreshed = await call(["GET", "k"], { cf: PARIS, headers: maxStaleness(1000) });
      expect(servedBy(refreshed)).toBe("replica:weur");
      expect(Number(refreshed.headers.get("flaredis-staleness"))).toBe(0);
      // The primary's replication link is cut: weur cannot show it is fresh any more.
      await call({ link: "down" }, { path: "/admin/nodes/enam/faults" });
      await inNode(stubOf("weur"), () => clock.advance(10_000));
      const r = await call(["GET", "k"], { cf: PARIS, headers: maxStaleness(1000) });
      expect(servedBy(r)).toBe("primary:enam");
      expect(r.json).toEqual({ result: "v" });
      expect(r.headers.get("flaredis-staleness")).toBeNull();
      // Its failed pull put weur's link down; with replica-serve-stale-data yes (Redis's default)
      // it still serves a client whose bound its staleness meets, and says how stale it is.
      const info = await nodeApi("weur").info(["replication"]);
      expect(info).toMatch(/master_link_status:down\r\n/);
      const lenient = await call(["GET", "k"], { cf: PARIS, headers: maxStaleness(600_000) });
      if (servedBy(lenient) === "replica:weur") expect(Number(lenient.headers.get("flaredis-staleness"))).toBeGreaterThanOrEqual(10_000);
      expect(lenient.json).toEqual({ result: "v" });
    });
  });

  it("100 rounds of set then get with @upstash/redis defaults, read from Paris: no stale read", async () => {
    const originalFetch = globalThis.fetch;
    const servers = new Map<string, number>();
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await worker.fetch(String(input), { ...init, cf: PARIS } as RequestInit);
      const by = response.headers.get("flaredis-served-by") ?? "";
      servers.set(by, (servers.get(by) ?? 0) + 1);
      return response;
    }) as typeof fetch;
    try {
      const client = new Redis({ url: BASE, token: TOKENS.readwrite, retry: false });
      let stale = 0;
      for (let i = 0; i < 100; i++) {
        await client.set("counter", `n${i}`);
        if ((await client.get("counter")) !== `n${i}`) stale++;
      }
      expect(stale).toBe(0);
      expect(servers.get("replica:weur") ?? 0).toBeGreaterThan(50); // the reads were the replica's
    } finally {
      globalThis.fetch = originalFetch;
    }
  });
});
