/**
 * The admin API (admin token only): topology, a coordinated failover, per-node INFO and digest,
 * and fault injection for tests when FLAREDIS_ALLOW_FAULTS is on. Each route asks the nodes.
 */
import { Hono } from "hono";
import type { Permission } from "../durable-objects/engine/engine";
import { type Fault, RESTART_REASON } from "../durable-objects/node";
import { promoted, topologyOf } from "../durable-objects/topology";
import { type Env, nodeStub } from "./env";
import { RequestError, requestErrors } from "./errors";
import { readBody } from "./request";
import { learnTopology, refreshTopology } from "./routing";

export const admin = new Hono<{ Bindings: Env; Variables: { permission: Permission } }>();

admin.use("*", async (c, next) => {
  if (c.get("permission") !== "admin") throw new RequestError("NOPERM this user has no permissions to use the admin API", 403);
  await next();
});

/** The node a path names; 404 for a region that holds no node. */
function nodeNamed(env: Env, name: string) {
  const { primary, replicas } = topologyOf(env);
  if (name !== primary && !replicas.includes(name)) throw requestErrors.notFound(`/admin/nodes/${name}`);
  return nodeStub(env, name);
}

admin.get("/topology", async (c) => {
  const { epoch, primary } = await refreshTopology(c.env);
  const status = await nodeStub(c.env, primary).status();
  return c.json({
    epoch,
    primary: { node: status.node, offset: status.offset },
    replicas: status.replicas,
  });
});

/** How long a coordinated failover may hold writes while the new primary catches up. */
const FAILOVER_PAUSE_MS = 5000;

/**
 * POST /admin/failover {"to": node}: a coordinated switch (as Redis's FAILOVER): the primary holds
 * writes, the replica catches up to its exact offset, the replica is promoted under the next
 * epoch, the old primary becomes its replica (the writes it held are sent on to the new primary),
 * and the other replicas follow with a partial sync. No acknowledged write is lost. If the replica
 * cannot catch up in time, nothing changes and writes resume.
 */
admin.post("/failover", async (c) => {
  let to: unknown;
  try {
    to = (JSON.parse(await readBody(c.req.raw)) as { to?: unknown }).to;
  } catch {
    to = undefined;
  }
  const current = await refreshTopology(c.env);
  if (typeof to !== "string" || !current.replicas.includes(to))
    throw requestErrors.badRequest(`a failover is {"to": <a replica: ${current.replicas.join(", ")}>}`);
  const primary = nodeStub(c.env, current.primary);
  const target = nodeStub(c.env, to);
  const { offset } = await primary.pauseWrites(FAILOVER_PAUSE_MS);
  const deadline = Date.now() + FAILOVER_PAUSE_MS;
  let reached = -1;
  try {
    while ((reached = (await target.catchUp()).offset) < offset && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
  } catch {
    // Counted as not caught up.
  }
  if (reached !== offset) {
    await primary.resumeWrites();
    throw new RequestError(`ERR failover: ${to} reached offset ${reached}, not the primary's ${offset}; nothing changed`, 409);
  }
  const next = promoted(current, to);
  await target.adopt(next);
  // The old primary and the other replicas also learn it from the new primary's pushes.
  await Promise.allSettled(next.replicas.map((n) => nodeStub(c.env, n).adopt(next)));
  learnTopology(c.env, next);
  return c.json({ epoch: next.epoch, primary: next.primary, replicas: next.replicas, offset });
});

admin.get("/nodes/:node/info", async (c) => {
  const section = c.req.query("section");
  const text = await nodeNamed(c.env, c.req.param("node")).info(section ? section.split(/[\s,]+/) : []);
  return c.text(text);
});

admin.get("/nodes/:node/digest", async (c) => c.json(await nodeNamed(c.env, c.req.param("node")).digest()));

admin.get("/nodes/:node/storage", async (c) => c.json(await nodeNamed(c.env, c.req.param("node")).storageUsage()));

admin.post("/nodes/:node/faults", async (c) => {
  if (!["1", "true", "on", "yes"].includes((c.env.FLAREDIS_ALLOW_FAULTS ?? "").toLowerCase()))
    throw new RequestError("ERR fault injection is off (set FLAREDIS_ALLOW_FAULTS)", 403);
  let fault: Fault;
  try {
    const body = JSON.parse(await readBody(c.req.raw)) as Record<string, unknown>;
    if (body.link === "down" || body.link === "up") fault = { link: body.link };
    else if (body.restart === true) fault = { restart: true };
    else if (typeof body.delay === "number" && body.delay >= 0 && body.delay <= 60_000) fault = { delay: body.delay };
    else throw new Error();
  } catch {
    throw requestErrors.badRequest('a fault is {"link":"down"|"up"}, {"restart":true} or {"delay":<ms, 0-60000>}');
  }
  try {
    await nodeNamed(c.env, c.req.param("node")).fault(fault);
  } catch (e) {
    // An injected restart aborts the node, and with it the call that asked for it.
    if (!("restart" in fault && String(e).includes(RESTART_REASON))) throw e;
  }
  return c.json({ result: "OK" });
});
