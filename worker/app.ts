/**
 * The HTTP API (Upstash REST compatible). This layer authenticates, parses, picks the node and
 * forwards; all command logic lives in the node's engine.
 */
import { type Context, Hono } from "hono";
import { RegExpRouter } from "hono/router/reg-exp-router";
import type { Batch, Mode } from "../durable-objects/engine/engine";
import type { ExecReply } from "../durable-objects/protocol/node-api";
import { admin } from "./admin";
import { authenticate } from "./auth";
import { type Env, nodeStub } from "./env";
import { errorResponse, requestErrors, statusOf } from "./errors";
import type { ClientLocation } from "./regions";
import { stringify, toJsonOutcome } from "./reply";
import { formatSyncToken, parseSyncToken } from "./sync-token";
import { parseCommand, parseCommands, parsePathCommand, readBody } from "./request";
import { currentTopology, forgetHealth, learnTopology, needsPrimary, readReplica, refreshTopology } from "./routing";
import { RedisError } from "../durable-objects/engine/errors";

const SYNC_TOKEN = "upstash-sync-token";
const SERVED_BY = "Flaredis-Served-By";
const MAX_STALENESS = "Flaredis-Max-Staleness";
const STALENESS = "Flaredis-Staleness";

type Vars = { permission: Batch["permission"] };

export const app = new Hono<{ Bindings: Env; Variables: Vars }>({ router: new RegExpRouter() });

/** How long a replica may take to catch up to a client's sync token before the primary serves it. */
const READ_YOUR_WRITES_WAIT_MS = 200;

/** `Flaredis-Max-Staleness: N` (ms): the oldest data the client accepts; null when absent. */
function maxStalenessOf(request: Request): number | null {
  const header = request.headers.get(MAX_STALENESS);
  if (header === null) return null;
  if (!/^\d{1,12}$/.test(header.trim())) throw requestErrors.badRequest(`${MAX_STALENESS} must be a number of milliseconds`);
  return Number(header.trim());
}

/**
 * Runs a batch where it belongs: on the nearest healthy replica when it only reads and the
 * replica has the client's position (else the primary), on the primary otherwise.
 */
async function run(env: Env, request: Request, batch: Batch, background?: Background): Promise<ExecReply> {
  const maxStalenessMs = maxStalenessOf(request);
  const write = needsPrimary(batch.mode, batch.commands);
  // Max staleness 0 means "the primary only".
  if (!write && maxStalenessMs !== 0) {
    const replica = await readReplica(env, request.cf as ClientLocation | undefined, background);
    if (replica) {
      // A replica that is behind, too stale, cut off or failing leaves the read to the primary.
      const policy = { position: parseSyncToken(request.headers.get(SYNC_TOKEN)), waitMs: READ_YOUR_WRITES_WAIT_MS, maxStalenessMs };
      const reply = await nodeStub(env, replica)
        .read(batch, policy)
        .catch(() => null);
      if (reply) return reply;
      forgetHealth();
    }
  }
  return onPrimary(env, batch, write);
}

/**
 * Runs a batch on the primary. A node that answers it is not the primary (a failover happened)
 * names the newer topology: the batch, which it did not run, goes once to the new primary. A
 * failed call makes the worker ask every node for the topology; a read is then tried once more,
 * but a write is not, as it may have run: its error goes back to the client, never a silent loss.
 */
async function onPrimary(env: Env, batch: Batch, write: boolean): Promise<ExecReply> {
  for (let retried = false; ; retried = true) {
    const primary = currentTopology(env).primary;
    let reply: ExecReply;
    try {
      reply = await nodeStub(env, primary).execute(batch, true);
    } catch (e) {
      await refreshTopology(env).catch(() => undefined);
      if (write || retried) throw e;
      continue;
    }
    if (!reply.notPrimary) return reply;
    learnTopology(env, reply.notPrimary);
    // Still the same node, or a second refusal: the client gets its READONLY error.
    if (retried || currentTopology(env).primary === primary) return reply;
  }
}

/** Work that may finish after the response (the request's waitUntil). */
type Background = (work: Promise<unknown>) => void;

/** Forwards a batch to a node and writes the Upstash-shaped answer. */
async function forward(c: Context<{ Bindings: Env; Variables: Vars }>, mode: Mode, commands: string[][]) {
  const { env } = c;
  const request = c.req.raw;
  const base64 = request.headers.get("upstash-encoding")?.toLowerCase() === "base64";
  let background: Background | undefined;
  try {
    const ctx = c.executionCtx;
    background = (work) => ctx.waitUntil(work);
  } catch {
    // No execution context (a direct call in tests): refresh in the foreground.
  }
  const { result, replid, servedBy, staleness } = await run(env, request, { mode, commands, permission: c.get("permission") }, background);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    [SERVED_BY]: servedBy,
    [SYNC_TOKEN]: formatSyncToken(replid, result.offset),
  };
  if (staleness !== undefined) headers[STALENESS] = String(staleness);
  if ("error" in result) {
    const error = new RedisError(result.error);
    return new Response(stringify({ error: result.error }), { status: statusOf(error), headers });
  }
  const outcomes = result.outcomes.map((o) => toJsonOutcome(o, base64));
  if (mode !== "single") return new Response(stringify(outcomes), { headers });
  const single = result.outcomes[0]!;
  const status = "error" in single ? statusOf(new RedisError(single.error)) : 200;
  return new Response(stringify(outcomes[0]), { status, headers });
}

app.onError((err, c) => {
  const { body, status } = errorResponse(err);
  return c.json(body, status as 400);
});

app.notFound((c) => {
  const { body, status } = errorResponse(requestErrors.notFound(new URL(c.req.url).pathname));
  return c.json(body, status as 404);
});

// Every response says who served it and which replication position it reflects: a request
// refused here, before any node, was served by the edge and has seen what it carried.
app.use("*", async (c, next) => {
  await next();
  if (!c.res.headers.has(SERVED_BY)) {
    c.res.headers.set(SERVED_BY, "edge");
    c.res.headers.set(SYNC_TOKEN, c.req.header(SYNC_TOKEN) ?? "");
  }
});

// Only GET and POST reach a route, checked here once, before auth and every route: Hono routes
// HEAD as GET (dropping the body), so `HEAD /flushall` would run FLUSHALL. Any other method is
// an unknown route (404, as PUT and DELETE always were).
app.use("*", async (c, next) => {
  const method = c.req.raw.method;
  if (method !== "GET" && method !== "POST") return c.notFound();
  await next();
});

app.use("*", async (c, next) => {
  c.set("permission", await authenticate(c.req.raw, c.env));
  await next();
});

app.route("/admin", admin);

// Reserved for metrics and the dashboard (later issues), and the admin API's other paths:
// never commands.
app.all("/admin/*", (c) => c.notFound());
app.all("/metrics", (c) => c.notFound());
app.all("/dashboard", (c) => c.notFound());

app.post("/pipeline", async (c) => forward(c, "pipeline", parseCommands(await readBody(c.req.raw))));

app.post("/multi-exec", async (c) => forward(c, "multi", parseCommands(await readBody(c.req.raw))));

app.post("/", async (c) => forward(c, "single", [parseCommand(await readBody(c.req.raw))]));

// GET / names no command.
app.get("/", (c) => c.notFound());

// Any other path is a command in the path form (`/get/key`); "*" keeps the router on its fast
// regular-expression form, which a pattern such as "/:command{.+}" would turn off.
app.on(["GET", "POST"], "*", async (c) => {
  const body = c.req.method === "POST" ? await readBody(c.req.raw) : "";
  const pathname = new URL(c.req.url).pathname;
  return forward(c, "single", [parsePathCommand(pathname, body)]);
});
