// Replication between real node Durable Objects (primary enam; replicas wnam, weur, apac), all on
// one manual clock: convergence after thousands of mixed writes, INFO replication, partial resync
// after a replica or the primary restarts, and a full sync of several chunks.
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock, systemClock } from "../../durable-objects/engine/clock";
import { call, drainAlarms, inNode, nodeApi, redis, stubOf } from "../support/helpers";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const ALL = [PRIMARY, ...REPLICAS];

/** Puts every node on one manual clock. */
async function shareClock(clock: ManualClock) {
  for (const name of ALL) await inNode(stubOf(name), (node) => void (node.clock = clock));
}

const catchUpAll = () => Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
const field = (info: string, name: string) => info.match(new RegExp(`^${name}:(.*)\\r$`, "m"))?.[1];
const stat = async (node: string, name: string) => Number(field(await nodeApi(node).info(["stats"]), name));

async function expectConverged() {
  const acks = await catchUpAll();
  const primary = await nodeApi(PRIMARY).digest();
  for (const [i, replica] of REPLICAS.entries()) {
    expect(acks[i]).toMatchObject({ offset: primary.offset, state: "connected" });
    const d = await nodeApi(replica).digest();
    expect({ offset: d.offset, digest: d.digest }, replica).toEqual({ offset: primary.offset, digest: primary.digest });
  }
  return primary;
}

let clock: ManualClock;

/** Writes `batches` × 500 keys of 1 KB through the HTTP API. */
async function loadBigKeys(batches: number) {
  const value = "v".repeat(1000);
  for (let batch = 0; batch < batches; batch++) {
    const commands = Array.from({ length: 500 }, (_, i) => ["SET", `big:${batch * 500 + i}`, value]);
    expect((await call(commands, { path: "/pipeline" })).status).toBe(200);
  }
}

/** Wipes a replica's storage and evicts it, as if it were a new node. */
async function wipe(replica: string) {
  await inNode(stubOf(replica), async (_n, state) => void (await state.storage.deleteAll()));
  await evictDurableObject(stubOf(replica));
}

beforeEach(async () => {
  clock = new ManualClock(Date.now());
  await shareClock(clock);
  await redis("FLUSHALL");
  await catchUpAll();
});

afterEach(async () => {
  await drainAlarms(PRIMARY, clock);
  for (const name of ALL) await inNode(stubOf(name), (node) => void (node.clock = systemClock));
});

describe("replication between nodes", () => {
  it("every replica's digest and offset equal the primary's after thousands of mixed writes", async () => {
    const commands: (string | number)[][] = [];
    for (let i = 0; i < 3000; i++) {
      const k = `key:${i % 400}`;
      switch (i % 8) {
        case 0: commands.push(["SET", k, `value-${i}`]); break;
        case 1: commands.push(["INCR", `counter:${i % 50}`]); break;
        case 2: commands.push(["EXPIRE", k, 100 + (i % 7)]); break;
        case 3: commands.push(["DEL", `key:${(i * 7) % 400}`]); break;
        case 4: commands.push(["MSET", `m:${i % 30}`, `a${i}`, `n:${i % 30}`, `b${i}`]); break;
        case 5: commands.push(["APPEND", `log:${i % 20}`, `+${i}`]); break;
        case 6: commands.push(["INCRBYFLOAT", `float:${i % 10}`, "0.1"]); break;
        case 7: commands.push(["SET", `short:${i % 60}`, "x", "PX", 1 + (i % 5)]); break;
      }
    }
    for (let i = 0; i < commands.length; i += 500) {
      const r = await call(commands.slice(i, i + 500), { path: "/pipeline" });
      expect(r.status).toBe(200);
    }
    await expectConverged();
    // The short keys expire on the primary; its DELs reach the replicas.
    await inNode(stubOf(PRIMARY), () => clock.advance(10));
    expect(await runDurableObjectAlarm(stubOf(PRIMARY))).toBe(true);
    const after = await expectConverged();
    expect(after.digest).not.toBe("0".repeat(40));
    for (const replica of REPLICAS)
      await inNode(stubOf(replica), (node, state) => {
        node.core.engine.storage.storeDeferred();
        const short = state.storage.sql.exec("SELECT count(*) AS n FROM keyspace WHERE key LIKE 'short:%'").one();
        expect(short.n).toBe(0);
      });
  });

  it("INFO replication carries Redis's fields on the primary and on a replica", async () => {
    await redis("SET", "k", "v");
    await catchUpAll();
    const primary = await nodeApi(PRIMARY).info(["replication"]);
    for (const name of ["role", "connected_slaves", "master_failover_state", "master_replid", "master_replid2",
      "master_repl_offset", "second_repl_offset", "repl_backlog_active", "repl_backlog_size",
      "repl_backlog_first_byte_offset", "repl_backlog_histlen"])
      expect(field(primary, name), name).toBeDefined();
    expect(field(primary, "role")).toBe("master");
    expect(field(primary, "connected_slaves")).toBe("3");
    const replid = field(primary, "master_replid")!;
    expect(replid).toMatch(/^[0-9a-f]{40}$/);
    const offset = field(primary, "master_repl_offset");
    for (const name of REPLICAS) expect(field(primary, `slave${REPLICAS.indexOf(name)}`) ?? "").toMatch(/^ip=\w+,port=0,state=online,offset=\d+,lag=\d+$/);
    const replica = await nodeApi("weur").info(["replication"]);
    expect(field(replica, "role")).toBe("slave");
    expect(field(replica, "master_host")).toBe(PRIMARY);
    expect(field(replica, "master_link_status")).toBe("up");
    expect(field(replica, "master_sync_in_progress")).toBe("0");
    expect(field(replica, "master_replid")).toBe(replid);
    expect(field(replica, "master_repl_offset")).toBe(offset);
    expect(field(replica, "slave_repl_offset")).toBe(offset);
    for (const name of ["master_port", "master_last_io_seconds_ago", "slave_read_repl_offset", "slave_priority", "slave_read_only"])
      expect(field(replica, name), name).toBeDefined();
    // ROLE (admin), in Redis's shape: over the API the primary's; a replica's on its own engine.
    const [role, at, replicas] = (await redis("ROLE")) as [string, number, string[][]];
    expect([role, at]).toEqual(["master", Number(offset)]);
    expect(replicas.map((r) => r[0]).sort()).toEqual([...REPLICAS].sort());
    for (const r of replicas) expect(r).toEqual([r[0], "0", offset]);
    const ofReplica = await inNode(stubOf("weur"), (node) => node.core.engine.run({ mode: "single", commands: [["ROLE"]], permission: "admin" }));
    expect(ofReplica).toMatchObject({ outcomes: [{ result: ["slave", PRIMARY, 0, "connected", Number(offset)].map((x) => (typeof x === "string" ? new TextEncoder().encode(x) : x)) }] });
  });

  it("a restarted replica resumes with a partial resync", async () => {
    await redis("SET", "before", "1");
    await catchUpAll();
    const full = await stat(PRIMARY, "sync_full");
    const partial = await stat(PRIMARY, "sync_partial_ok");
    await evictDurableObject(stubOf("weur"));
    await redis("SET", "while-away", "2");
    await inNode(stubOf("weur"), (node) => void (node.clock = clock));
    await expectConverged();
    expect(await stat(PRIMARY, "sync_full")).toBe(full);
    expect(await stat(PRIMARY, "sync_partial_ok")).toBeGreaterThan(partial);
  });

  it("replicas continue with a partial resync after the primary restarts, which keeps its replid", async () => {
    await redis("SET", "before", "1");
    const replid = field(await nodeApi(PRIMARY).info(["replication"]), "master_replid");
    await catchUpAll();
    await evictDurableObject(stubOf(PRIMARY));
    await inNode(stubOf(PRIMARY), (node) => void (node.clock = clock));
    await redis("SET", "after", "2");
    await expectConverged();
    expect(field(await nodeApi(PRIMARY).info(["replication"]), "master_replid")).toBe(replid);
    expect(await stat(PRIMARY, "sync_full")).toBe(0);
    expect(await stat(PRIMARY, "sync_partial_ok")).toBeGreaterThan(0);
  });

  it("a new replica full-syncs a keyspace of several chunks", async () => {
    await loadBigKeys(6);
    await catchUpAll();
    const full = await stat(PRIMARY, "sync_full");
    await wipe("apac");
    await inNode(stubOf("apac"), (node) => void (node.clock = clock));
    await expectConverged();
    expect(await stat(PRIMARY, "sync_full")).toBe(full + 1);
    expect(Number(field(await nodeApi("apac").info(["keyspace"]), "db0")?.match(/keys=(\d+)/)?.[1])).toBe(3000);
  });
});

describe("full resync", () => {
  it("a replica cut off for longer than the backlog holds full-syncs", async () => {
    await redis("CONFIG", "SET", "repl-backlog-size", "4kb");
    try {
      await catchUpAll();
      const full = await stat(PRIMARY, "sync_full");
      const err = await stat(PRIMARY, "sync_partial_err");
      await call({ link: "down" }, { path: "/admin/nodes/weur/faults" });
      // Once the master has seen weur's link down, it keeps no backlog for it.
      await redis("SET", "notice", "1");
      for (let i = 0; ; i++) {
        const weur = (await call(undefined, { path: "/admin/topology", method: "GET" })).json.replicas[1];
        if (weur.link === "down") break;
        if (i > 200) throw new Error("weur never seen down");
      }
      const commands = Array.from({ length: 300 }, (_, i) => ["SET", `over:${i}`, "x".repeat(100)]);
      expect((await call(commands, { path: "/pipeline" })).status).toBe(200);
      await call({ link: "up" }, { path: "/admin/nodes/weur/faults" });
      await expectConverged();
      expect(await stat(PRIMARY, "sync_full")).toBe(full + 1);
      expect(await stat(PRIMARY, "sync_partial_err")).toBe(err + 1);
    } finally {
      await redis("CONFIG", "SET", "repl-backlog-size", "1mb");
    }
  });

  it("a full sync of several chunks with writes arriving during it ends equal", async () => {
    await loadBigKeys(4);
    await catchUpAll();
    await wipe("apac");
    const writes = (async () => {
      for (let i = 0; i < 20; i++) {
        const commands = Array.from({ length: 50 }, (_, j) => ["SET", `big:${(i * 97 + j * 13) % 2000}`, `new-${i}-${j}`]);
        commands.push(["DEL", `big:${i * 7}`], ["INCR", "during"]);
        expect((await call(commands, { path: "/pipeline" })).status).toBe(200);
      }
    })();
    await Promise.all([inNode(stubOf("apac"), (node) => void (node.clock = clock)), writes]);
    await expectConverged();
    expect(await redis("GET", "during")).toBe("20");
  });
});

describe("admin API and faults", () => {
  const admin = (path: string, body?: unknown, token?: string) =>
    call(body, { path: `/admin${path}`, method: body === undefined ? "GET" : "POST", token });

  it("reports the topology, each node's INFO and digest", async () => {
    await redis("SET", "k", "v");
    await catchUpAll();
    const topology = await admin("/topology");
    expect(topology.status).toBe(200);
    const offset = (await nodeApi(PRIMARY).digest()).offset;
    expect(topology.json).toEqual({
      from: "primary",
      epoch: 1,
      sentinels: [],
      primary: { node: PRIMARY, offset },
      replicas: REPLICAS.map((node) => ({ node, link: "up", offset, lag_ms: expect.any(Number), entries_shipped: expect.any(Number) })),
    });
    const info = await admin("/nodes/weur/info?section=replication");
    expect(info.text).toMatch(/^# Replication\r\nrole:slave\r\nmaster_host:enam\r\n/);
    const digests = await Promise.all(ALL.map(async (n) => (await admin(`/nodes/${n}/digest`)).json));
    for (const d of digests) expect(d).toEqual({ node: expect.any(String), offset, digest: digests[0].digest });
    expect((await admin("/nodes/sam/digest")).status).toBe(404);
    const refused = await admin("/topology", undefined, "dev-token");
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatch(/^NOPERM /);
  });

  it("a link cut while the primary is idle shows at the next asks of the admin topology (each one probes)", async () => {
    await redis("SET", "idle", "1");
    await catchUpAll();
    expect((await admin("/nodes/weur/faults", { link: "down" })).json).toEqual({ result: "OK" });
    let link = "up";
    for (let i = 0; i < 20 && link === "up"; i++) link = (await admin("/topology")).json.replicas.find((r: { node: string }) => r.node === "weur").link;
    expect(link).toBe("down");
    await admin("/nodes/weur/faults", { link: "up" });
    await catchUpAll();
  });

  it("a cut link restored resumes with a partial resync", async () => {
    await redis("SET", "before", "1");
    await catchUpAll();
    const full = await stat(PRIMARY, "sync_full");
    const partial = await stat(PRIMARY, "sync_partial_ok");
    expect((await admin("/nodes/weur/faults", { link: "down" })).json).toEqual({ result: "OK" });
    for (let i = 0; i < 20; i++) await redis("INCR", "during-cut");
    const topology = (await admin("/topology")).json;
    expect(topology.replicas.find((r: { node: string }) => r.node === "weur").link).toBe("down");
    expect((await nodeApi("weur").digest()).offset).toBeLessThan(topology.primary.offset);
    expect((await admin("/nodes/weur/faults", { link: "up" })).json).toEqual({ result: "OK" });
    await expectConverged();
    expect(await stat(PRIMARY, "sync_full")).toBe(full);
    expect(await stat(PRIMARY, "sync_partial_ok")).toBeGreaterThan(partial);
  });

  it("a restarted replica (injected) resumes with a partial resync", async () => {
    await redis("SET", "before", "1");
    await catchUpAll();
    await nodeApi("wnam").execute({ mode: "single", commands: [["PING"]], permission: "admin" });
    expect(await stat("wnam", "total_commands_processed")).toBeGreaterThan(0);
    const full = await stat(PRIMARY, "sync_full");
    expect((await admin("/nodes/wnam/faults", { restart: true })).status).toBe(200);
    expect(await stat("wnam", "total_commands_processed")).toBe(0); // its in-memory state is gone
    await redis("SET", "after", "2");
    await inNode(stubOf("wnam"), (node) => void (node.clock = clock));
    await expectConverged();
    expect(await stat(PRIMARY, "sync_full")).toBe(full);
  });

  it("refuses faults unless FLAREDIS_ALLOW_FAULTS is on, and bad fault bodies", async () => {
    expect((await admin("/nodes/weur/faults", { link: "sideways" })).status).toBe(400);
    const { default: worker } = await import("../../worker/index");
    const { env } = await import("cloudflare:workers");
    const request = new Request("http://flaredis.test/admin/nodes/weur/faults", {
      method: "POST",
      body: '{"link":"down"}',
      headers: { authorization: "Bearer dev-admin-token" },
    });
    const r = await worker.fetch(request, { ...env, FLAREDIS_ALLOW_FAULTS: undefined } as never, {} as ExecutionContext);
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({ error: "ERR fault injection is off (set FLAREDIS_ALLOW_FAULTS)" });
  });
});

describe("WAIT, min-replicas, CONFIG and READONLY", () => {
  const fault = (node: string, link: "up" | "down") => call({ link }, { path: `/admin/nodes/${node}/faults` });

  /**
   * Sends a request and, while it is pending, moves the shared clock until it answers. The clock
   * moves inside the primary: a timer's waker belongs to the object that made it.
   */
  async function answerWhileAdvancing(pending: Promise<{ json?: any }>, stepMs: number) {
    let done = false;
    const answer = pending.finally(() => {
      done = true;
    });
    for (let i = 0; !done && i < 100; i++) await inNode(stubOf(PRIMARY), () => clock.advance(stepMs));
    return answer;
  }

  afterEach(async () => {
    for (const r of REPLICAS) await fault(r, "up");
    await redis("CONFIG", "SET", "min-replicas-to-write", 0);
  });

  it("WAIT counts the replicas that acknowledged; one fewer with a link cut", async () => {
    await redis("SET", "k", "v");
    expect(await redis("WAIT", 3, 1000)).toBe(3);
    expect(await redis("WAIT", 0, 0)).toBe(3);
    await fault("weur", "down");
    await redis("SET", "k", "w");
    expect(await redis("WAIT", 2, 1000)).toBe(2);
    const waited = await answerWhileAdvancing(call(["WAIT", 3, 1000]), 250);
    expect(waited.json).toEqual({ result: 2 });
    expect((await call(["WAIT", 1, -1])).json).toEqual({ error: "ERR timeout is negative" });
    expect((await call(["WAIT", 1, 10], { token: "dev-readonly-token" })).json.error).toMatch(/^NOPERM/);
  });

  it("min-replicas-to-write refuses writes with NOREPLICAS while too few replicas are good", async () => {
    expect(await redis("CONFIG", "SET", "min-replicas-to-write", 3, "min-replicas-max-lag", 10)).toBe("OK");
    expect((await call(["SET", "a", "1"])).json).toEqual({ result: "OK" });
    await fault("weur", "down");
    await redis("SET", "b", "1"); // the failed push marks weur down
    const refused = await call(["SET", "c", "1"]);
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ error: "NOREPLICAS Not enough good replicas to write." });
    expect(await redis("EXISTS", "c")).toBe(0);
    expect((await call(["GET", "a"])).json).toEqual({ result: "1" }); // reads go on
    await fault("weur", "up");
    await nodeApi("weur").catchUp();
    expect((await call(["SET", "c", "1"])).json).toEqual({ result: "OK" });
  });

  it("CONFIG SET of a parameter with no effect reaches the replicas with the others", async () => {
    await redis("CONFIG", "SET", "hz", "42", "notify-keyspace-events", "Ex", "maxmemory-samples", "6");
    await catchUpAll();
    for (const r of REPLICAS) {
      const config = await inNode(stubOf(r), (node) => node.core.engine.config);
      expect({ ...config.other, samples: config["maxmemory-samples"] }, r).toEqual({ hz: "42", "notify-keyspace-events": "xE", samples: 6 });
    }
    await redis("CONFIG", "SET", "hz", "10", "notify-keyspace-events", "", "maxmemory-samples", "5");
  });

  it("CONFIG GET and SET: admin only, Redis's texts, all or nothing, kept across a restart", async () => {
    expect((await call(["CONFIG", "GET", "repl-backlog-size"], { token: "dev-token" })).json).toEqual({
      error: "NOPERM this user has no permissions to run the 'config' command",
    });
    expect(await redis("CONFIG", "GET", "repl-[bt]*")).toEqual(["repl-backlog-size", "1048576", "repl-backlog-ttl", "3600", "repl-timeout", "60"]);
    expect(await redis("CONFIG", "SET", "repl-backlog-size", "2mb", "replica-serve-stale-data", "no")).toBe("OK");
    expect((await call(["CONFIG", "SET", "repl-timeout", "30", "no-such-option", "1"])).json).toEqual({
      error: "ERR Unknown option or number of arguments for CONFIG SET - 'no-such-option'",
    });
    expect((await call(["CONFIG", "SET", "repl-timeout", "soon"])).json.error).toMatch(/^ERR CONFIG SET failed \(possibly related to argument 'repl-timeout'\)/);
    expect(await redis("CONFIG", "SET", "maxmemory", "100mb", "maxmemory-samples", "7")).toBe("OK");
    await evictDurableObject(stubOf(PRIMARY));
    await inNode(stubOf(PRIMARY), (node) => void (node.clock = clock));
    expect(await redis("CONFIG", "GET", "repl-backlog-size", "repl-timeout", "replica-serve-stale-data")).toEqual([
      "repl-backlog-size", "2097152", "repl-timeout", "60", "replica-serve-stale-data", "no",
    ]);
    expect(field(await nodeApi(PRIMARY).info(["replication"]), "repl_backlog_size")).toBe("2097152");
    expect(await redis("CONFIG", "GET", "maxmemory", "maxmemory-samples")).toEqual(["maxmemory", "104857600", "maxmemory-samples", "7"]);
    await redis("CONFIG", "SET", "repl-backlog-size", "1mb", "replica-serve-stale-data", "yes", "maxmemory", "0", "maxmemory-samples", "5");
  });

  it("CONFIG SET on the primary applies to the replicas; MASTERDOWN with the link down and stale data off", async () => {
    const run = (...argv: string[]) => nodeApi("weur").execute({ mode: "single", commands: [argv], permission: "admin" });
    await redis("SET", "k", "v");
    expect(await redis("CONFIG", "SET", "replica-serve-stale-data", "no", "repl-timeout", "30")).toBe("OK");
    await redis("SET", "k", "v2"); // a push carries the new settings
    await catchUpAll();
    for (const replica of REPLICAS) {
      const got = await nodeApi(replica).execute({ mode: "single", commands: [["CONFIG", "GET", "replica-serve-stale-data", "repl-timeout"]], permission: "admin" });
      const values = (got.result as { outcomes: { result: Uint8Array[] }[] }).outcomes[0]!.result.map((b) => new TextDecoder().decode(b));
      // Named parameters are answered in the order asked, as Redis answers them.
      expect(values, replica).toEqual(["replica-serve-stale-data", "no", "repl-timeout", "30"]);
    }
    expect((await run("GET", "k")).result).toMatchObject({ outcomes: [{ result: new TextEncoder().encode("v2") }] });
    await fault("weur", "down");
    expect((await run("GET", "k")).result).toMatchObject({
      outcomes: [{ error: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'." }],
    });
    expect((await run("PING")).result).toMatchObject({ outcomes: [{ result: "PONG" }] });
    await fault("weur", "up");
    await catchUpAll();
    expect((await run("GET", "k")).result).toMatchObject({ outcomes: [{ result: new TextEncoder().encode("v2") }] });
    expect(await redis("CONFIG", "SET", "replica-serve-stale-data", "yes", "repl-timeout", "60")).toBe("OK");
    await redis("SET", "k", "v3");
    await catchUpAll();
  });

  it("a write that reaches a replica answers READONLY and changes nothing", async () => {
    const r = await nodeApi("weur").execute({ mode: "single", commands: [["SET", "x", "1"]], permission: "admin" });
    expect(r.result).toMatchObject({ outcomes: [{ error: "READONLY You can't write against a read only replica." }] });
    expect(r.servedBy).toBe("replica:weur");
    const read = await nodeApi("weur").execute({ mode: "single", commands: [["EXISTS", "x"]], permission: "admin" });
    expect(read.result).toMatchObject({ outcomes: [{ result: 0 }] });
    const wait = await nodeApi("weur").execute({ mode: "single", commands: [["WAIT", "1", "0"]], permission: "admin" });
    expect(wait.result).toMatchObject({ outcomes: [{ error: expect.stringMatching(/^ERR WAIT cannot be used with replica instances/) }] });
  });
});

describe("heartbeats and link status", () => {
  const slaveLags = async () =>
    [...(await nodeApi(PRIMARY).info(["replication"])).matchAll(/^slave\d+:.*lag=(\d+)\r$/gm)].map((m) => Number(m[1]));

  /** Polls (no timers) until `check` holds; the pushes a heartbeat starts finish on their own. */
  async function eventually(check: () => Promise<boolean>) {
    for (let i = 0; i < 200; i++) if (await check()) return;
    throw new Error("condition not reached");
  }

  it("ACKs come about once a second while writes go on; then the idle master pings every 10 s", async () => {
    await redis("SET", "k", "v");
    await catchUpAll();
    await inNode(stubOf(PRIMARY), () => clock.advance(1000));
    expect(await runDurableObjectAlarm(stubOf(PRIMARY))).toBe(true); // heartbeat after writes
    await eventually(async () => (await slaveLags()).every((l) => l === 0));
    const alarmIn = async () => (await inNode(stubOf(PRIMARY), (node) => node.alarmAt()))! - clock.now();
    expect(await alarmIn()).toBeLessThanOrEqual(1000);
    await inNode(stubOf(PRIMARY), () => clock.advance(1000));
    expect(await runDurableObjectAlarm(stubOf(PRIMARY))).toBe(true); // no writes since: the first idle beat
    await eventually(async () => (await slaveLags()).every((l) => l === 0));
    // Idle: quiet (one ping per 10 s), but provably alive, so the replicas keep their link up.
    expect(await alarmIn()).toBeGreaterThan(5_000);
    expect(await alarmIn()).toBeLessThanOrEqual(10_000);
    for (let i = 0; i < 12; i++) {
      await inNode(stubOf(PRIMARY), () => clock.advance(10_000));
      expect(await runDurableObjectAlarm(stubOf(PRIMARY))).toBe(true);
      await eventually(async () => (await slaveLags()).every((l) => l === 0));
    }
    for (const r of REPLICAS) expect(field(await nodeApi(r).info(["replication"]), "master_link_status")).toBe("up");
    const topology = await call(undefined, { path: "/admin/topology", method: "GET" });
    for (const r of topology.json.replicas) expect(r).toMatchObject({ link: "up", lag_ms: 0 });
  });

  it("a replica reports master_link_status down after repl-timeout without contact", async () => {
    await redis("SET", "k", "v");
    await catchUpAll();
    expect((await call({ link: "down" }, { path: `/admin/nodes/${PRIMARY}/faults` })).status).toBe(200);
    await redis("SET", "k", "w"); // not pushed: the primary's link is cut
    await inNode(stubOf("weur"), () => clock.advance(59_000));
    expect(field(await nodeApi("weur").info(["replication"]), "master_link_status")).toBe("up");
    await inNode(stubOf("weur"), () => clock.advance(2_000));
    const info = await nodeApi("weur").info(["replication"]);
    expect(field(info, "master_link_status")).toBe("down");
    expect(Number(field(info, "master_last_io_seconds_ago"))).toBeGreaterThanOrEqual(60);
    expect((await call({ link: "up" }, { path: `/admin/nodes/${PRIMARY}/faults` })).status).toBe(200);
    await expectConverged();
    expect(field(await nodeApi("weur").info(["replication"]), "master_link_status")).toBe("up");
  });
});
