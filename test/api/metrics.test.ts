// Issue 17 in workerd (primary enam; replicas wnam, weur, apac; no sentinels): INFO tells the
// truth (loading, avg_ttl, connected_slaves without a cut replica) and GET /metrics scrapes
// every node in Prometheus's text format, with redis_exporter's names.
import { evictDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { fixedRandom, run } from "../support/fixtures";
import { TOKENS, call, inNode, nodeApi, redis, stubOf } from "../support/helpers";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const ALL = [PRIMARY, ...REPLICAS];
const METRICS_TOKEN = "dev-metrics-token";
const field = (info: string, name: string) => info.match(new RegExp(`^${name}:(.*)\\r$`, "m"))?.[1];
const catchUpAll = () => Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
const fault = (node: string, body: object) => call(body, { path: `/admin/nodes/${node}/faults` });

/** The primary's private parts: a push sent now, and awaited. */
type Internals = { pushTo(replica: string): Promise<void> };

const scrape = (token: string | null = TOKENS.admin) => call(undefined, { path: "/metrics", method: "GET", token });

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((p) => [p[1], p[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

beforeEach(async () => {
  await redis("FLUSHALL");
  await catchUpAll();
});

afterEach(async () => {
  for (const node of ALL) await fault(node, { down: false });
  for (const node of ALL) await fault(node, { link: "up" });
  await redis("SET", "metrics:settle", "1");
  await catchUpAll();
});

describe("INFO tells the truth", () => {
  it("has the six sections, with the db0 line and avg_ttl estimated from the keys' deadlines", async () => {
    await redis("SET", "plain", "v");
    await redis("SET", "t1", "v", "EX", 100);
    await redis("SET", "t2", "v", "EX", 300);
    const info = await nodeApi(PRIMARY).info([]);
    for (const section of ["Server", "Memory", "Persistence", "Stats", "Replication", "Keyspace"])
      expect(info, section).toContain(`# ${section}\r\n`);
    const db0 = field(info, "db0")!.match(/^keys=(\d+),expires=(\d+),avg_ttl=(\d+)$/);
    expect(db0, field(info, "db0")).not.toBeNull();
    expect(Number(db0![1])).toBe(3);
    expect(Number(db0![2])).toBe(2);
    // The mean of ~100 s and ~300 s, in ms (a few ms may have passed).
    expect(Number(db0![3])).toBeGreaterThan(199_000);
    expect(Number(db0![3])).toBeLessThanOrEqual(200_000);
    // A replica reports its own keyspace the same way once it has the keys.
    await catchUpAll();
    expect(field(await nodeApi("weur").info(["keyspace"]), "db0")).toMatch(/^keys=3,expires=2,avg_ttl=(199|200)\d{3}$/);
  });

  it("estimates avg_ttl from a bounded sample when many keys have a deadline", () => {
    const clock = new ManualClock(1_000_000);
    let r = 0;
    // Random positions that walk the whole key order, so the sample finds keys with a deadline.
    const random = { next: () => (r = (r + 0.37) % 1), hex: fixedRandom.hex };
    const engine = new Engine(new MemoryStorage(), { clock, random, node: "test" });
    for (let i = 0; i < 100; i++) run(engine, "SET", `t${i}`, "v", "PX", "100000");
    for (let i = 0; i < 100; i++) run(engine, "SET", `p${i}`, "v");
    clock.advance(40_000);
    expect(field(engine.info(["keyspace"]), "db0")).toBe("keys=200,expires=100,avg_ttl=60000");
    // Probes that land only on keys without a deadline fall back to the earliest deadlines.
    random.next = () => 0.75;
    expect(field(engine.info(["keyspace"]), "db0")).toBe("keys=200,expires=100,avg_ttl=60000");
    // Keys past their deadline (not yet removed) are left out of the estimate, as Redis does.
    run(engine, "SET", "soon", "v", "PX", "1");
    clock.advance(1);
    expect(field(engine.info(["keyspace"]), "db0")).toBe("keys=201,expires=101,avg_ttl=59999");
  });

  it("shows uptime, and no field it cannot know (process_id, os, connected_clients)", async () => {
    const info = await nodeApi(PRIMARY).info([]);
    expect(field(info, "uptime_in_seconds")).toMatch(/^\d+$/);
    expect(Number(field(info, "server_time_usec"))).toBeGreaterThan(1_600_000_000_000_000);
    for (const name of ["process_id", "os", "connected_clients", "used_cpu_sys"]) expect(field(info, name), name).toBeUndefined();
  });

  it("says loading:1 on a replica that is LOADING, and loading:0 once it is consistent", async () => {
    await redis("SET", "k", "v");
    await catchUpAll();
    expect(field(await nodeApi("weur").info(["persistence"]), "loading")).toBe("0");
    const { offset } = await nodeApi(PRIMARY).digest();
    // As if weur had restarted after loading snapshot chunks, the newest read 100 bytes ahead.
    await inNode(stubOf("weur"), (_n, state) =>
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (name, value) VALUES ('consistent_at', ?)", offset + 100),
    );
    await evictDurableObject(stubOf("weur"));
    await nodeApi("weur").catchUp();
    expect(field(await nodeApi("weur").info(["persistence"]), "loading")).toBe("1");
    const metrics = (await scrape()).text;
    expect(sample(metrics, "redis_loading_dump_file", { node: "weur" })).toBe(1);
    expect(sample(metrics, "redis_master_sync_in_progress", { node: "weur" })).toBe(1);
    await redis("SET", "pad", "x".repeat(200));
    await nodeApi("weur").catchUp();
    expect(field(await nodeApi("weur").info(["persistence"]), "loading")).toBe("0");
    expect(field(await nodeApi(PRIMARY).info(["persistence"]), "loading")).toBe("0");
  });

  it("does not count a replica whose link is cut in connected_slaves nor list it as a slaveN", async () => {
    await redis("SET", "k", "v");
    await catchUpAll();
    expect(field(await nodeApi(PRIMARY).info(["replication"]), "connected_slaves")).toBe("3");
    expect((await fault("weur", { link: "down" })).status).toBe(200);
    // The primary notices at its next push to weur (after a write, or its heartbeat): awaited here.
    await redis("SET", "k", "v2");
    await inNode(stubOf(PRIMARY), (node) => (node.core.role as unknown as Internals).pushTo("weur"));
    const info = await nodeApi(PRIMARY).info(["replication"]);
    expect(field(info, "connected_slaves")).toBe("2");
    expect(info).not.toMatch(/^slave\d+:ip=weur,/m);
    expect(info).toMatch(/^slave\d+:ip=wnam,/m);
    const metrics = (await scrape()).text;
    expect(sample(metrics, "redis_connected_slaves", { node: PRIMARY })).toBe(2);
    expect(sample(metrics, "redis_connected_slave_lag_seconds", { node: PRIMARY, slave_ip: "weur" })).toBeUndefined();
    expect(sample(metrics, "flaredis_replica_link_up", { node: PRIMARY, replica: "weur" })).toBe(0);
    await fault("weur", { link: "up" });
    await redis("SET", "k", "v3");
    await catchUpAll();
    expect(field(await nodeApi(PRIMARY).info(["replication"]), "connected_slaves")).toBe("3");
  });
});

describe("GET /metrics", () => {
  it("is refused without a token or with a token that may not read it, accepted with the admin or the metrics token", async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape("not-a-token")).status).toBe(401);
    expect((await scrape(TOKENS.readwrite)).status).toBe(403);
    expect((await scrape(TOKENS.readonly)).status).toBe(403);
    const admin = await scrape(TOKENS.admin);
    expect(admin.status).toBe(200);
    expect(admin.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await scrape(METRICS_TOKEN)).status).toBe(200);
    // The metrics token runs no command.
    expect((await call(["GET", "k"], { token: METRICS_TOKEN })).status).toBe(401);
    expect((await call(undefined, { path: "/metrics", method: "POST" })).status).toBe(404);
  });

  it("covers every node with redis_exporter's names, HELP and TYPE lines", async () => {
    const { text } = await scrape();
    for (const node of ALL) expect(sample(text, "redis_up", { node, role: node === PRIMARY ? "master" : "slave" }), node).toBe(1);
    for (const name of [
      "redis_up",
      "redis_connected_slaves",
      "redis_master_repl_offset",
      "redis_commands_total",
      "redis_keyspace_hits_total",
      "redis_keyspace_misses_total",
      "redis_db_keys",
    ]) {
      expect(text, name).toContain(`# HELP ${name} `);
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} (gauge|counter)$`, "m"));
    }
    // Every counter's name ends in _total; each family's samples follow its TYPE line.
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) if (type === "counter") expect(name).toMatch(/_total$/);
    expect(sample(text, "redis_connected_slaves", { node: PRIMARY })).toBe(3);
    for (const r of REPLICAS) {
      expect(sample(text, "redis_connected_slave_lag_seconds", { node: PRIMARY, slave_ip: r, slave_state: "online" }), r).toBe(0);
      expect(sample(text, "flaredis_replication_lag_seconds", { node: PRIMARY, replica: r }), r).toBe(0);
      expect(sample(text, "redis_master_link_up", { node: r, master_host: PRIMARY }), r).toBe(1);
    }
    expect(sample(text, "flaredis_storage_rows_written_total", { node: PRIMARY })).toBeGreaterThan(0);
  });

  it("changes after writes: keys, offsets, per-command counts, hits and misses", async () => {
    const before = (await scrape()).text;
    await redis("SET", "a", "1");
    await redis("SET", "b", "2", "EX", 60);
    await redis("GET", "a");
    await redis("GET", "missing");
    await catchUpAll();
    const after = (await scrape()).text;
    const grew = (name: string, labels: Record<string, string>, by = 1) =>
      expect((sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0), `${name} ${JSON.stringify(labels)}`).toBeGreaterThanOrEqual(by);
    expect(sample(after, "redis_db_keys", { node: PRIMARY, db: "db0" })).toBe(2);
    expect(sample(after, "redis_db_keys", { node: "weur", db: "db0" })).toBe(2);
    expect(sample(after, "redis_db_keys_expiring", { node: PRIMARY, db: "db0" })).toBe(1);
    expect(sample(after, "redis_db_avg_ttl_seconds", { node: PRIMARY, db: "db0" })).toBeGreaterThan(59);
    grew("redis_commands_total", { node: PRIMARY, cmd: "set" }, 2);
    grew("redis_commands_total", { node: PRIMARY, cmd: "get" }, 2);
    grew("redis_commands_processed_total", { node: PRIMARY }, 4);
    grew("redis_keyspace_hits_total", { node: PRIMARY });
    grew("redis_keyspace_misses_total", { node: PRIMARY });
    grew("redis_master_repl_offset", { node: PRIMARY });
    grew("redis_master_repl_offset", { node: "weur" });
    grew("flaredis_storage_rows_written_total", { node: PRIMARY });
    grew("flaredis_replica_entries_shipped_total", { node: PRIMARY, replica: "weur" });
  });

  it("gives redis_up 0 for a node that is down, and still scrapes the others", async () => {
    expect((await fault("apac", { down: true })).status).toBe(200);
    const response = await scrape();
    expect(response.status).toBe(200);
    expect(sample(response.text, "redis_up", { node: "apac", role: "slave" })).toBe(0);
    expect(sample(response.text, "redis_db_keys", { node: "apac" })).toBeUndefined();
    for (const node of [PRIMARY, "wnam", "weur"]) expect(sample(response.text, "redis_up", { node }), node).toBe(1);
    expect(sample(response.text, "redis_master_repl_offset", { node: PRIMARY })).toBeGreaterThanOrEqual(0);
    await fault("apac", { down: false });
    expect(sample((await scrape()).text, "redis_up", { node: "apac" })).toBe(1);
  });
});
