/**
 * The admin API (admin token only): topology, a coordinated failover (run by the sentinels),
 * per-node INFO and digest, the sentinels' view, RDB import (import.ts), and fault injection for tests when
 * FLAREDIS_ALLOW_FAULTS is on. Each route asks the nodes or the sentinels; no failover logic
 * lives here.
 */
import { Hono } from "hono";
import { systemClock } from "../durable-objects/engine/clock";
import type { Permission } from "../durable-objects/engine/engine";
import { type Fault, RESTART_REASON } from "../durable-objects/protocol/node-api";
import type { SentinelStatus } from "../durable-objects/protocol/sentinel-api";
import { sentinelsOf, topologyOf } from "../durable-objects/protocol/topology";
import { type Env, nodeStub, sentinelStub } from "./env";
import { RequestError, requestErrors } from "./errors";
import { backupObject, backupsKept, listBackups, makeBackup, restoreBackup } from "./backups";
import { exportResponse } from "./export";
import { coordinatedFailover } from "./failover";
import { importRdb } from "./import";
import { readBody } from "./request";
import { currentTopology, routerFor } from "./routing";
import { MAX_SHARDS, placeOf } from "../durable-objects/protocol/shards";
import { clusterStub, refreshSlotMap } from "./slot-map";

export const admin = new Hono<{ Bindings: Env; Variables: { permission: Permission } }>();

admin.use("*", async (c, next) => {
  if (c.get("permission") !== "admin") throw new RequestError("NOPERM this user has no permissions to use the admin API", 403);
  await next();
});

/** The node a path names (`enam`, `enam.2` in shard 2: protocol/shards.ts); 404 for one there is not. */
function nodeNamed(env: Env, name: string) {
  const { primary, replicas } = topologyOf(env);
  const { shard, region } = placeOf(name);
  if ((region !== primary && !replicas.includes(region)) || shard > MAX_SHARDS) throw requestErrors.notFound(`/admin/nodes/${name}`);
  return nodeStub(env, region, shard);
}

/** The sentinel a path names (`wnam`, `wnam.2`); 404 for one there is not. */
function sentinelNamed(env: Env, name: string) {
  const { shard, region } = placeOf(name);
  if (!sentinelsOf(env).sentinels.includes(region) || shard > MAX_SHARDS) throw requestErrors.notFound(`/admin/sentinels/${name}`);
  return sentinelStub(env, region, shard);
}

/** The sentinels' views of shard `shard`, from those that answer. */
async function sentinelViews(env: Env, shard = 1): Promise<SentinelStatus[]> {
  const answers = await Promise.allSettled(sentinelsOf(env).sentinels.map((s) => sentinelStub(env, s, shard).status()));
  return answers.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
}

/** A JSON body, or the 400 that says what was expected. */
async function jsonBody(request: Request, expected: string): Promise<Record<string, unknown>> {
  const text = await readBody(request); // its own errors (413, 408, 400) say what went wrong
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === "object" && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw requestErrors.badRequest(expected);
}

/**
 * A shard's topology: its primary's view (its replicas' links, offsets and lag); when the primary
 * cannot be asked, the sentinels' (`"from": "sentinels"`), so the admin sees the outage. Nodes are
 * named within the shard (by region).
 */
async function shardTopology(env: Env, shard: number) {
  const router = routerFor(env, shard);
  const { epoch, primary } = await router.refreshTopology();
  const sentinels = await sentinelViews(env, shard);
  try {
    // Probing: a link cut while the primary is idle shows at the next ask (the dashboard's poll).
    const status = await nodeStub(env, primary, shard).status(true);
    router.learnTopology(status.topology);
    return { from: "primary", epoch, primary: { node: status.node, offset: status.offset }, replicas: status.replicas, sentinels };
  } catch {
    for (const s of sentinels) router.learnTopology(s.topology);
    const t = router.currentTopology();
    const seen = new Map(sentinels.flatMap((s) => s.nodes).map((n) => [n.node, n]));
    return {
      from: "sentinels",
      epoch: t.epoch,
      primary: { node: t.primary, offset: seen.get(t.primary)?.offset ?? 0, down: true },
      replicas: t.replicas.map((node) => ({ node, link: seen.get(node)?.linkUp ? "up" : "down", offset: seen.get(node)?.offset ?? 0, lag_ms: -1 })),
      sentinels,
    };
  }
}

/**
 * GET /admin/topology: shard 1's topology (the whole deployment's without sharding); with shards,
 * `shards` lists each one's, with the hash slots it holds (`slots`: [from, to] ranges).
 */
admin.get("/topology", async (c) => {
  const map = await refreshSlotMap(c.env);
  if (map.shards.length === 1) return c.json(await shardTopology(c.env, 1));
  const shards = await Promise.all(
    map.shards.map(async (shard) => ({ shard, slots: map.ranges.filter((r) => r.shard === shard).map((r) => [r.from, r.to]), ...(await shardTopology(c.env, shard)) })),
  );
  return c.json({ ...shards[0]!, shards });
});

/** The cluster object; 409 without the CLUSTER binding. */
function clusterOf(env: Env) {
  const stub = clusterStub(env);
  if (!stub) throw new RequestError("ERR no CLUSTER binding: the cluster object is not deployed", 409);
  return stub;
}

/**
 * POST /admin/reshard {"from": n, "to": m, "slots": [lo, hi]}: moves hash slots lo..hi from shard
 * n to shard m (a new shard too) while clients write (durable-objects/cluster/mover.ts); answers
 * at once with the move's status. GET /admin/reshard: the map, the move under way, the moves done.
 */
admin.post("/reshard", async (c) => {
  const expected = 'a move is {"from": <shard>, "to": <shard>, "slots": [<lo>, <hi>]}';
  const stub = clusterOf(c.env);
  const body = await jsonBody(c.req.raw, expected);
  const slots = body.slots;
  if (!Array.isArray(slots) || slots.length !== 2) throw requestErrors.badRequest(expected);
  const answer = await stub.reshard({ from: body.from as number, to: body.to as number, lo: slots[0] as number, hi: slots[1] as number });
  if ("error" in answer) throw new RequestError(`ERR ${answer.error}`, 409);
  return c.json(answer);
});

admin.get("/reshard", async (c) => {
  const stub = clusterOf(c.env);
  return c.json(await stub.status());
});

admin.get("/sentinels", async (c) => c.json(await sentinelViews(c.env, Number(c.req.query("shard") ?? 1) || 1)));

/**
 * POST /admin/failover {"to": node[, "shard": n]}: the sentinels' coordinated switch of shard n's
 * primary (1 by default; Redis's FAILOVER, worker/failover.ts); 409 when it cannot happen.
 */
admin.post("/failover", async (c) => {
  const { top } = await refreshSlotMap(c.env);
  const expected = `a failover is {"to": <a replica: ${currentTopology(c.env).replicas.join(", ")}>} (with "shard": <1-${top}> for another shard's)`;
  const body = await jsonBody(c.req.raw, expected);
  const shard = body.shard ?? 1;
  if (typeof body.to !== "string" || !Number.isSafeInteger(shard) || (shard as number) < 1 || (shard as number) > top) throw requestErrors.badRequest(expected);
  const { topology, offset } = await coordinatedFailover(c.env, body.to, shard as number);
  const { epoch, primary, replicas } = topology;
  return c.json({ epoch, primary, replicas, offset });
});

/** A query flag: `?flush=1`. */
const yes = (v: string | undefined) => ["1", "true", "yes"].includes(v ?? "");

/** POST /admin/import[?flush=1]: an RDB file loaded into the keyspace (worker/import.ts). */
admin.post("/import", async (c) => c.json(await importRdb(c.env, c.req.raw, yes(c.req.query("flush")))));

/** GET /admin/export: the keyspace as an RDB file at one offset, streamed (worker/export.ts). */
admin.get("/export", async (c) => exportResponse(c.env));

/** Backups in R2 (worker/backups.ts): list, make one now, download, restore. */
admin.get("/backups", async (c) => c.json({ kept: backupsKept(c.env), backups: await listBackups(c.env) }));
admin.post("/backups", async (c) => c.json(await makeBackup(c.env, systemClock.now())));
admin.get("/backups/:name", async (c) => {
  const object = await backupObject(c.env, c.req.param("name"));
  return new Response(object.body, { headers: { "content-type": "application/octet-stream", "content-length": String(object.size), "content-disposition": `attachment; filename="${object.key}"` } });
});
admin.post("/backups/:name/restore", async (c) => c.json(await restoreBackup(c.env, c.req.param("name"), yes(c.req.query("flush")))));

admin.get("/nodes/:node/info", async (c) => {
  const section = c.req.query("section");
  const text = await nodeNamed(c.env, c.req.param("node")).info(section ? section.split(/[\s,]+/) : []);
  return c.text(text);
});

admin.get("/nodes/:node/digest", async (c) => c.json(await nodeNamed(c.env, c.req.param("node")).digest()));

admin.get("/nodes/:node/storage", async (c) => c.json(await nodeNamed(c.env, c.req.param("node")).storageUsage()));

function allowFaults(env: Env): void {
  if (!["1", "true", "on", "yes"].includes((env.FLAREDIS_ALLOW_FAULTS ?? "").toLowerCase()))
    throw new RequestError("ERR fault injection is off (set FLAREDIS_ALLOW_FAULTS)", 403);
}

/** Runs a fault call; an injected restart aborts the object, and with it the call that asked for it. */
async function inject(call: () => Promise<void>, restart: boolean): Promise<void> {
  try {
    await call();
  } catch (e) {
    if (!(restart && String(e).includes(RESTART_REASON))) throw e;
  }
}

admin.post("/nodes/:node/faults", async (c) => {
  allowFaults(c.env);
  const expected = 'a fault is {"link":"down"|"up"}, {"restart":true}, {"delay":<ms, 0-60000>} or {"down":true|false}';
  const body = await jsonBody(c.req.raw, expected);
  let fault: Fault;
  if (body.link === "down" || body.link === "up") fault = { link: body.link };
  else if (body.restart === true) fault = { restart: true };
  else if (typeof body.delay === "number" && body.delay >= 0 && body.delay <= 60_000) fault = { delay: body.delay };
  else if (typeof body.down === "boolean") fault = { down: body.down };
  else throw requestErrors.badRequest(expected);
  const node = nodeNamed(c.env, c.req.param("node"));
  await inject(() => node.fault(fault), "restart" in fault);
  return c.json({ result: "OK" });
});

admin.post("/sentinels/:sentinel/faults", async (c) => {
  allowFaults(c.env);
  const expected = 'a sentinel fault is {"restart":true} or {"down":true|false}';
  const body = await jsonBody(c.req.raw, expected);
  let fault: { down: boolean } | { restart: true };
  if (body.restart === true) fault = { restart: true };
  else if (typeof body.down === "boolean") fault = { down: body.down };
  else throw requestErrors.badRequest(expected);
  const sentinel = sentinelNamed(c.env, c.req.param("sentinel"));
  await inject(() => sentinel.fault(fault), "restart" in fault);
  return c.json({ result: "OK" });
});
