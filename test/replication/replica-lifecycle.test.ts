// Issue 13's defects that live in the node Durable Object (primary enam; replicas wnam, weur,
// apac, all on one manual clock): a replica LOADING until its keyspace is consistent, an abandoned
// full sync that must not pin the backlog, an idle primary that stays provably alive, sync tokens
// that name their history, and staleness measured before an injected delay.
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ManualClock, systemClock } from "../../durable-objects/engine/clock";
import type { FlaredisNode } from "../../durable-objects/node/flaredis-node";
import { call, drainAlarms, inNode, nodeApi, onOneClock, redis, stubOf } from "../support/helpers";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const ALL = [PRIMARY, ...REPLICAS];
const PARIS = { latitude: "48.86", longitude: "2.35", continent: "EU" };
const field = (info: string, name: string) => info.match(new RegExp(`^${name}:(.*)\\r$`, "m"))?.[1];
const catchUpAll = () => Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
const get = (key: string) => ({ mode: "single" as const, commands: [["GET", key]], permission: "admin" as const });
/** The node's private parts, for steps no RPC exposes (a push sent now, and awaited). */
type Internals = { pushTo(replica: string): Promise<void> };
const internals = (node: FlaredisNode) => node.core.role as unknown as Internals;

let clock: ManualClock;

beforeEach(async () => {
  clock = await onOneClock(ALL, REPLICAS);
});

afterEach(async () => {
  for (const name of ALL) await call({ link: "up" }, { path: `/admin/nodes/${name}/faults` });
  for (const name of ALL) await call({ delay: 0 }, { path: `/admin/nodes/${name}/faults` });
  await drainAlarms(PRIMARY, clock);
  for (const name of ALL) await inNode(stubOf(name), (node) => void (node.clock = systemClock));
});

describe("a replica serves no reads until its keyspace is consistent at one offset", () => {
  it("answers LOADING, and leaves reads to the next candidate, below the newest chunk's offset", async () => {
    await redis("SET", "k", "v");
    await catchUpAll();
    const { offset } = await nodeApi(PRIMARY).digest();
    // As if weur had restarted after loading snapshot chunks, the newest read 100 bytes ahead.
    await inNode(stubOf("weur"), (_n, state) =>
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (name, value) VALUES ('consistent_at', ?)", offset + 100),
    );
    await evictDurableObject(stubOf("weur"));
    await inNode(stubOf("weur"), (node) => void (node.clock = clock));
    await nodeApi("weur").catchUp();
    expect(await nodeApi("weur").read(get("k"), { position: null, waitMs: 0, maxStalenessMs: null })).toBeNull();
    const direct = await nodeApi("weur").execute(get("k"));
    expect(direct.result).toMatchObject({ outcomes: [{ error: "LOADING Redis is loading the dataset in memory" }] });
    expect(field(await nodeApi("weur").info(["replication"]), "master_sync_in_progress")).toBe("1");
    // The next nearest replica (SPEC §5), or the primary, answers it.
    const read = await call(["GET", "k"], { cf: PARIS });
    expect(read.headers.get("flaredis-served-by")).not.toBe("replica:weur");
    expect(read.json).toEqual({ result: "v" });
    // Past that offset it is consistent again.
    await redis("SET", "pad", "x".repeat(200));
    await nodeApi("weur").catchUp();
    const served = await nodeApi("weur").read(get("k"), { position: null, waitMs: 0, maxStalenessMs: null });
    expect(served?.servedBy).toBe("replica:weur");
    expect(field(await nodeApi("weur").info(["replication"]), "master_sync_in_progress")).toBe("0");
  });
});

describe("an abandoned full sync does not pin the backlog", () => {
  it("lets the backlog be trimmed repl-timeout after the replica stopped asking for chunks", async () => {
    await redis("CONFIG", "SET", "repl-backlog-size", "16384");
    try {
      // A replica that asked for a full sync and was never heard from again.
      await nodeApi(PRIMARY).psync({ replica: "ghost", replid: "?", offset: 0, handshake: true });
      const histlen = async () => Number(field(await nodeApi(PRIMARY).info(["replication"]), "repl_backlog_histlen"));
      for (let i = 0; i < 20; i++) await call(Array.from({ length: 20 }, (_, j) => ["SET", `b${j}`, "x".repeat(100)]), { path: "/pipeline" });
      expect(await histlen()).toBeGreaterThan(40_000); // kept for the sync in progress
      clock.advance(61_000);
      for (let i = 0; i < 10; i++) await call(Array.from({ length: 20 }, (_, j) => ["SET", `b${j}`, "y".repeat(100)]), { path: "/pipeline" });
      expect(await histlen()).toBeLessThanOrEqual(16384 * 1.5 + 4096);
    } finally {
      await redis("CONFIG", "SET", "repl-backlog-size", "1mb");
    }
  });
});

describe("an idle primary stays provably alive", () => {
  it("pings its replicas while idle, and a replica notices a primary gone silent within repl-timeout", async () => {
    await redis("SET", "k", "v");
    await catchUpAll();
    // The primary goes idle: its heartbeats carry on at the idle period.
    for (let i = 0; i < 2; i++) {
      clock.advance(1500);
      await runDurableObjectAlarm(stubOf(PRIMARY));
    }
    await inNode(stubOf(PRIMARY), (node) => Promise.all(REPLICAS.map((r) => internals(node).pushTo(r))));
    expect(await inNode(stubOf(PRIMARY), (_n, state) => state.storage.getAlarm())).not.toBeNull();
    expect(field(await nodeApi("weur").info(["replication"]), "master_link_status")).toBe("up");
    // The primary falls silent (its link cut): after repl-timeout the replicas say their link is down.
    await call({ link: "down" }, { path: `/admin/nodes/${PRIMARY}/faults` });
    clock.advance(61_000);
    expect(field(await nodeApi("weur").info(["replication"]), "master_link_status")).toBe("down");
    // With replica-serve-stale-data yes (Redis's default) it still serves, and says how stale.
    const read = await call(["GET", "k"], { cf: PARIS });
    if (read.headers.get("flaredis-served-by") === "replica:weur")
      expect(Number(read.headers.get("flaredis-staleness"))).toBeGreaterThanOrEqual(61_000);
    // Back: the next idle ping brings the link up again.
    await call({ link: "up" }, { path: `/admin/nodes/${PRIMARY}/faults` });
    await inNode(stubOf(PRIMARY), (node) => Promise.all(REPLICAS.map((r) => internals(node).pushTo(r))));
    for (const r of REPLICAS) await nodeApi(r).catchUp();
    expect(field(await nodeApi("weur").info(["replication"]), "master_link_status")).toBe("up");
  });
});

describe("an idle primary pings after a restart too", () => {
  it("arms its heartbeat at start-up, so replicas keep their link up through a quiet minute", async () => {
    await redis("SET", "k", "v");
    await catchUpAll();
    await evictDurableObject(stubOf(PRIMARY));
    await inNode(stubOf(PRIMARY), (node) => void (node.clock = clock));
    const timers = await inNode(stubOf(PRIMARY), (node) => node.core.timers.names());
    expect(timers).toContain("heartbeat");
    for (let i = 0; i < 7; i++) {
      clock.advance(10_000);
      await runDurableObjectAlarm(stubOf(PRIMARY));
      await inNode(stubOf(PRIMARY), (node) => Promise.all(REPLICAS.map((r) => internals(node).pushTo(r))));
    }
    for (const r of REPLICAS) expect(field(await nodeApi(r).info(["replication"]), "master_link_status"), r).toBe("up");
  });
});

describe("sync tokens name their history", () => {
  it("carries the replid and the offset; a token of another history is served by the primary", async () => {
    const w = await call(["SET", "t", "1"]);
    const token = w.headers.get("upstash-sync-token")!;
    const replid = field(await nodeApi(PRIMARY).info(["replication"]), "master_replid")!;
    expect(token).toMatch(new RegExp(`^${replid}:\\d+(:\\d+:[0-9a-f.,]+)?$`));
    await catchUpAll();
    const same = await call(["GET", "t"], { cf: PARIS, headers: { "upstash-sync-token": token } });
    expect(same.headers.get("flaredis-served-by")).toBe("replica:weur");
    // A position of another history (a primary that was failed over from), at an offset weur has
    // long passed on its own history: weur cannot know it holds that write, the primary answers.
    const other = `${"f".repeat(40)}:1`;
    const r = await call(["GET", "t"], { cf: PARIS, headers: { "upstash-sync-token": other } });
    expect(r.headers.get("flaredis-served-by")).toBe("primary:enam");
    // Not ours (an older bare offset, garbage): the primary too; empty: no constraint.
    for (const t of ["5", "garbage"]) {
      const x = await call(["GET", "t"], { cf: PARIS, headers: { "upstash-sync-token": t } });
      expect(x.headers.get("flaredis-served-by"), t).toBe("primary:enam");
    }
    const empty = await call(["GET", "t"], { cf: PARIS, headers: { "upstash-sync-token": "" } });
    expect(empty.headers.get("flaredis-served-by")).toBe("replica:weur");
  });
});

describe("staleness is measured from when the master's message arrived", () => {
  it("counts an injected apply delay in Flaredis-Staleness", async () => {
    await call({ delay: 1000 }, { path: "/admin/nodes/weur/faults" });
    await redis("SET", "s", "1");
    await clock.whenSleeping();
    clock.advance(1000);
    const { offset } = await nodeApi(PRIMARY).digest();
    for (let i = 0; i < 1000 && (await nodeApi("weur").digest()).offset < offset; i++) await new Promise((r) => setTimeout(r, 1));
    await call({ delay: 0 }, { path: "/admin/nodes/weur/faults" });
    const reply = await nodeApi("weur").read(get("s"), { position: null, waitMs: 0, maxStalenessMs: null });
    expect(reply?.servedBy).toBe("replica:weur");
    expect(reply?.staleness).toBeGreaterThanOrEqual(1000);
  });
});
