/**
 * The admin API (admin token only): topology, per-node INFO and digest, and fault injection for
 * tests when FLAREDIS_ALLOW_FAULTS is on. Each route asks the nodes; nothing is computed here.
 */
import { Hono } from "hono";
import type { Permission } from "../durable-objects/engine/engine";
import { type Fault, RESTART_REASON } from "../durable-objects/node";
import { topologyOf } from "../durable-objects/topology";
import { type Env, nodeStub } from "./env";
import { RequestError, requestErrors } from "./errors";
import { readBody } from "./request";

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
  const { primary } = topologyOf(c.env);
  const status = await nodeStub(c.env, primary).status();
  return c.json({
    epoch: 1,
    primary: { node: status.node, offset: status.offset },
    replicas: status.replicas,
  });
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
