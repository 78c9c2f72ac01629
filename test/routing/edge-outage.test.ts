// Edge reads survive the primary's loss (issue 14): with the primary taken down whole (the admin
// fault {"down":true}: every call to it fails at once), reads from the edge go on from the
// replicas, stale and saying so, whether or not the worker had learned their health; a replica
// that declines hands the read to the next nearest; writes fail fast with MASTERDOWN (503) and
// change nothing; once the primary is back, writes work again. Sentinels are off in this project,
// so nothing is promoted meanwhile.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock, systemClock } from "../../durable-objects/engine/clock";
import { errors } from "../../durable-objects/engine/errors";
import { errorResponse } from "../../worker/errors";
import { forgetHealth, readReplica } from "../../worker/routing";
import { call, inNode, nodeApi, redis, stubOf } from "../support/helpers";

const PARIS = { latitude: "48.86", longitude: "2.35", continent: "EU" };
const REPLICAS = ["wnam", "weur", "apac"];

const servedBy = (r: { headers: Headers }) => r.headers.get("flaredis-served-by");
const staleness = (r: { headers: Headers }) => r.headers.get("flaredis-staleness");
const fault = (node: string, body: Record<string, unknown>) => call(body, { path: `/admin/nodes/${node}/faults` });
const primaryDown = async (down: boolean) => expect((await fault("enam", { down })).status).toBe(200);

beforeEach(async () => {
  await redis("FLUSHALL");
  await redis("SET", "k", "before");
  await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
  forgetHealth();
});

afterEach(async () => {
  await primaryDown(false);
  await inNode(stubOf("weur"), (node) => void (node.clock = systemClock));
  for (const r of REPLICAS) await fault(r, { link: "up" });
  await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
  forgetHealth();
});

describe("reads while the primary is down", () => {
  it("50 reads from Paris, with the health learned before the outage: all served by weur, staleness said and growing", async () => {
    expect(servedBy(await call(["GET", "k"], { cf: PARIS }))).toBe("replica:weur"); // the health is cached
    await primaryDown(true);
    const clock = new ManualClock(Date.now());
    await inNode(stubOf("weur"), (node) => void (node.clock = clock));
    const seen: number[] = [];
    for (let i = 0; i < 50; i++) {
      // Halfway, 70 s pass on weur: past repl-timeout, its link is down, and it still serves.
      if (i === 25) await inNode(stubOf("weur"), () => clock.advance(70_000));
      const r = await call(["GET", "k"], { cf: PARIS });
      expect(r.status, r.text).toBe(200);
      expect(r.json).toEqual({ result: "before" });
      expect(servedBy(r)).toBe("replica:weur");
      expect(staleness(r)).toMatch(/^\d+$/);
      seen.push(Number(staleness(r)));
    }
    for (let i = 1; i < 50; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(seen[49]! - seen[0]!).toBeGreaterThanOrEqual(70_000);
    expect(await nodeApi("weur").info(["replication"])).toMatch(/master_link_status:down\r\n/);
  });

  it("50 reads from Paris from a fresh isolate (no health known): the replicas' own reports route them", async () => {
    await primaryDown(true);
    forgetHealth();
    let failures = 0;
    for (let i = 0; i < 50; i++) {
      const r = await call(["GET", "k"], { cf: PARIS });
      if (r.status !== 200 || servedBy(r) !== "replica:weur" || staleness(r) === null || r.json.result !== "before") failures++;
    }
    expect(failures).toBe(0);
  });

  it("routes by the last health it had, however old, while the primary cannot be asked", async () => {
    const t0 = Date.now();
    expect(await readReplica(env, PARIS, undefined, t0)).toBe("weur"); // learned from the primary
    await primaryDown(true);
    const pending: Promise<unknown>[] = [];
    const background = (work: Promise<unknown>) => void pending.push(work);
    expect(await readReplica(env, PARIS, background, t0 + 60_000)).toBe("weur"); // far past HEALTH_STALE_MS
    expect(await readReplica(env, PARIS, background, t0 + 120_000)).toBe("weur");
    await Promise.all(pending);
    expect(await readReplica(env, PARIS, background, t0 + 180_000)).toBe("weur");
  });

  it("a client that cannot be located is served by a replica", async () => {
    await primaryDown(true);
    const r = await call(["GET", "k"]);
    expect(r.status, r.text).toBe(200);
    expect(servedBy(r)).toMatch(/^replica:/);
    expect(r.json).toEqual({ result: "before" });
  });

  it("a read with a sync token from before the outage is served by a replica that holds it", async () => {
    const w = await call(["SET", "k", "written"]);
    const token = w.headers.get("upstash-sync-token")!;
    await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
    await primaryDown(true);
    forgetHealth();
    const r = await call(["GET", "k"], { cf: PARIS, headers: { "upstash-sync-token": token } });
    expect(r.status, r.text).toBe(200);
    expect(servedBy(r)).toBe("replica:weur");
    expect(r.json).toEqual({ result: "written" });
    expect(staleness(r)).toMatch(/^\d+$/);
  });

  it("the nearest replica declines a token it does not hold: the next nearest serves, not the primary", async () => {
    expect(servedBy(await call(["GET", "k"], { cf: PARIS }))).toBe("replica:weur"); // weur known healthy
    await fault("weur", { link: "down" });
    const w = await call(["SET", "k", "missed by weur"]);
    const token = w.headers.get("upstash-sync-token")!;
    await Promise.all(["wnam", "apac"].map((r) => nodeApi(r).catchUp()));
    await primaryDown(true);
    expect(await readReplica(env, PARIS)).toBe("weur"); // still asked first
    const r = await call(["GET", "k"], { cf: PARIS, headers: { "upstash-sync-token": token } });
    expect(r.status, r.text).toBe(200);
    expect(servedBy(r)).toBe("replica:wnam"); // Paris: weur, then wnam (San Jose), then apac
    expect(r.json).toEqual({ result: "missed by weur" });
    expect(staleness(r)).toMatch(/^\d+$/);
  });

  it("a read no node can serve answers 503 MASTERDOWN, as does a primary-only read", async () => {
    const w = await call(["SET", "k", "v"]);
    const [replid, offset] = w.headers.get("upstash-sync-token")!.split(":");
    await primaryDown(true);
    const ahead = await call(["GET", "k"], { cf: PARIS, headers: { "upstash-sync-token": `${replid}:${Number(offset) + 1_000_000}` } });
    expect(ahead.status).toBe(503);
    expect(ahead.json.error).toMatch(/^MASTERDOWN the primary \(enam\) cannot be reached and no replica can serve this read/);
    const primaryOnly = await call(["GET", "k"], { cf: PARIS, headers: { "flaredis-max-staleness": "0" } });
    expect(primaryOnly.status).toBe(503);
    expect(primaryOnly.json.error).toMatch(/^MASTERDOWN the primary \(enam\) cannot be reached/);
  });
});

describe("writes while the primary is down", () => {
  it("fail at once with 503 MASTERDOWN, change nothing, and work again once it is back", async () => {
    await primaryDown(true);
    for (const [body, path] of [
      [["SET", "k", "lost"], "/"],
      [[["GET", "k"], ["SET", "k", "lost"]], "/pipeline"],
      [[["SET", "k", "lost"]], "/multi-exec"],
    ] as const) {
      const r = await call(body, { cf: PARIS, path });
      expect(r.status, `${path} ${r.text}`).toBe(503);
      expect(r.json.error).toBe("MASTERDOWN the primary (enam) cannot be reached; the write may or may not have been applied; a failover is under way or needed");
    }
    expect((await call(["GET", "k"], { cf: PARIS })).json).toEqual({ result: "before" });
    await primaryDown(false);
    expect((await call(["GET", "k"])).json).toEqual({ result: "before" }); // the primary: nothing ran
    const w = await call(["SET", "k", "after"], { cf: PARIS });
    expect(w.status, w.text).toBe(200);
    expect(servedBy(w)).toBe("primary:enam");
    const r = await call(["GET", "k"], { cf: PARIS, headers: { "upstash-sync-token": w.headers.get("upstash-sync-token")! } });
    expect(r.json).toEqual({ result: "after" });
  });
});

describe("the one error map", () => {
  it("answers 503 for the errors a client may retry: LOADING, MASTERDOWN, NOQUORUM, TRYAGAIN", () => {
    for (const e of [errors.loading(), errors.masterDown(), errors.noQuorum(1, 2), errors.tryAgain()])
      expect(errorResponse(e)).toEqual({ body: { error: e.message }, status: 503 });
    expect(errorResponse(errors.readOnly()).status).toBe(400);
  });
});
