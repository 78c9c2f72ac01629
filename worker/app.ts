/**
 * The HTTP API (Upstash REST compatible). This layer authenticates, parses, picks the node and
 * forwards; all command logic lives in the node's engine.
 */
import { type Context, Hono } from "hono";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { systemClock } from "../durable-objects/engine/clock";
import type { Batch, Mode, Watch } from "../durable-objects/engine/engine";
import { admin } from "./admin";
import { dashboard } from "./dashboard";
import { type Caller, callerOf, checkAuth } from "./auth";
import { freshEdgeDenial, logDenial } from "./acl";
import { noPermission } from "../durable-objects/engine/acl/users";
import type { Env } from "./env";
import { errorResponse, requestErrors, statusOf } from "./errors";
import { scrape } from "./metrics";
import type { ClientLocation } from "./regions";
import { stringify, toJsonOutcome } from "./reply";
import { echoedSyncToken } from "./sync-token";
import { runBatch, watchToken } from "./cluster";
import { type ArgEncoding, parseCommand, parseCommands, parsePathCommand, readBody, readBodyBytes } from "./request";
import type { Background } from "./routing";
import { EVENTS_HEADER, isSubscribe, subscribe, subscriptionOf } from "./subscribe";
import { RedisError, errors } from "../durable-objects/engine/errors";
import { isSaveCommand, saveCommand } from "./backups";
import { failoverCommand } from "./failover";
import { toText } from "../durable-objects/engine/bytes";

const SYNC_TOKEN = "upstash-sync-token";
const SERVED_BY = "Flaredis-Served-By";
const MAX_STALENESS = "Flaredis-Max-Staleness";
const WATCH_POSITION = "Flaredis-Watch-Position";
const STALENESS = "Flaredis-Staleness";
const REQUEST_ENCODING = "Flaredis-Request-Encoding";

type Vars = { permission: Batch["permission"]; acl?: Caller["acl"] };

export const app = new Hono<{ Bindings: Env; Variables: Vars }>({ router: new RegExpRouter() });

/** `Flaredis-Max-Staleness: N` (ms): the oldest data the client accepts; null when absent. */
function maxStalenessOf(request: Request): number | null {
  const header = request.headers.get(MAX_STALENESS);
  if (header === null) return null;
  if (!/^\d{1,12}$/.test(header.trim())) throw requestErrors.badRequest(`${MAX_STALENESS} must be a number of milliseconds`);
  return Number(header.trim());
}

/** `Flaredis-Request-Encoding: base64`: the JSON body's string arguments are base64 of their bytes. */
function argEncodingOf(request: Request): ArgEncoding {
  const header = request.headers.get(REQUEST_ENCODING);
  if (header === null) return "text";
  if (header.trim().toLowerCase() === "base64") return "base64";
  throw requestErrors.badRequest(`${REQUEST_ENCODING} must be base64 (or absent, for UTF-8 text)`);
}

/**
 * A `/multi-exec` that begins with `["WATCH", key ...]`: the transaction's commands after it, and
 * the watch, whose position is the `Flaredis-Watch-Position` header (the sync token of the WATCH's
 * response). No WATCH: the commands as they are.
 */
function watchOf(env: Env, request: Request, commands: string[][]): { commands: string[][]; watch?: Watch } {
  const first = commands[0];
  if (first === undefined || first[0]?.toUpperCase() !== "WATCH") return { commands };
  if (first.length < 2) throw requestErrors.badRequest("wrong number of arguments for 'watch' command");
  const token = watchToken(env, request.headers.get(WATCH_POSITION), first.slice(1));
  if (token === null || token.position.replid === "")
    throw requestErrors.badRequest(`a /multi-exec that begins with WATCH needs the ${WATCH_POSITION} header: the upstash-sync-token of the WATCH's response`);
  return { commands: commands.slice(1), watch: { ...token.position, keys: first.slice(1) } };
}

/** The request's waitUntil, or undefined without an execution context (a direct call in tests: such work then runs inline). */
function backgroundOf(c: Context<{ Bindings: Env; Variables: Vars }>): Background | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}

/** Forwards a batch to a node and writes the Upstash-shaped answer. */
async function forward(c: Context<{ Bindings: Env; Variables: Vars }>, mode: Mode, all: string[][]) {
  const { env } = c;
  const request = c.req.raw;
  const base64 = request.headers.get("upstash-encoding")?.toLowerCase() === "base64";
  const background = backgroundOf(c);
  const { commands, watch } = mode === "multi" ? watchOf(env, request, all) : { commands: all };
  const acl = c.get("acl");
  // An ACL user: refused here what it may not run (a single command, a transaction), before any node.
  if (acl && mode !== "pipeline") {
    const denial = await freshEdgeDenial(env, acl.user, watch ? [["WATCH", ...watch.keys], ...commands] : commands);
    if (denial) {
      logDenial(env, acl.user.name, denial, mode === "multi" ? "multi" : "toplevel", background);
      throw mode === "multi" ? errors.execAbort() : noPermission(denial);
    }
  }
  // An ACL user's calls run with the most a token may do, held to the user's rules by the node.
  const batch = { mode, commands, permission: acl ? ("admin" as const) : c.get("permission"), ...(acl ? { user: acl.auth } : {}), ...(watch ? { watch } : {}) };
  const { result, servedBy, staleness, token } = await runBatch(env, batch, request.headers.get(SYNC_TOKEN), {
    cf: request.cf as ClientLocation | undefined,
    maxStalenessMs: maxStalenessOf(request),
    background,
  });
  const headers: Record<string, string> = { "content-type": "application/json", [SERVED_BY]: servedBy, [SYNC_TOKEN]: token };
  if (staleness !== undefined) headers[STALENESS] = String(staleness);
  if ("error" in result) {
    const error = new RedisError(result.error);
    return new Response(stringify({ error: toText(result.error) }), { status: statusOf(error), headers });
  }
  // A transaction whose watched keys were written since: EXEC's nil, nothing ran.
  if (result.aborted) return new Response("null", { headers });
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
// The token is one of ours or nothing: a response never reflects what a client sent (a header
// value written back is a reflection an attacker can aim at someone else's browser or logs).
app.use("*", async (c, next) => {
  await next();
  if (!c.res.headers.has(SERVED_BY)) {
    c.res.headers.set(SERVED_BY, "edge");
    c.res.headers.set(SYNC_TOKEN, echoedSyncToken(c.req.header(SYNC_TOKEN) ?? null));
  }
});

// Only GET and POST reach a route, checked here once, before auth and every route: Hono routes
// HEAD as GET (dropping the body), so `HEAD /flushall` would run FLUSHALL. Any other method is
// refused with 405 and the methods there are. (CONNECT never reaches a Worker: the runtime
// answers it.)
app.use("*", async (c, next) => {
  const method = c.req.raw.method;
  if (method !== "GET" && method !== "POST") {
    const { body, status } = errorResponse(requestErrors.methodNotAllowed());
    return c.json(body, status as 405, { allow: "GET, POST" });
  }
  await next();
});

// Before the tokens' check: /metrics also takes the metrics token, which runs no command.
app.get("/metrics", (c) => scrape(c.req.raw, c.env));
// The dashboard page holds no secret: it loads without a token and asks for the admin token.
app.get("/dashboard", () => dashboard());

app.use("*", async (c, next) => {
  const caller = await callerOf(c.req.raw, c.env, backgroundOf(c));
  c.set("permission", caller.permission);
  if (caller.acl) c.set("acl", caller.acl);
  await next();
});

app.route("/admin", admin);

// POST /dashboard, POST /metrics and the admin API's other paths:
// never commands.
app.all("/admin/*", (c) => c.notFound());
app.all("/metrics", (c) => c.notFound());
app.all("/dashboard", (c) => c.notFound());

app.post("/pipeline", async (c) => forward(c, "pipeline", parseCommands(await readBody(c.req.raw), argEncodingOf(c.req.raw))));

app.post("/multi-exec", async (c) => forward(c, "multi", parseCommands(await readBody(c.req.raw), argEncodingOf(c.req.raw))));

/** A SUBSCRIBE's Server-Sent Events (worker/subscribe.ts). */
async function subscribeTo(c: Context<{ Bindings: Env; Variables: Vars }>, argv: readonly string[]) {
  // A subscription never reaches a node's dispatcher: an ACL user's channels are checked here only.
  const acl = c.get("acl");
  const denial = acl ? await freshEdgeDenial(c.env, acl.user, [argv]) : null;
  if (acl && denial) {
    logDenial(c.env, acl.user.name, denial, "toplevel", backgroundOf(c));
    throw noPermission(denial);
  }
  const base64 = c.req.header(EVENTS_HEADER)?.toLowerCase() === "base64";
  return subscribe(c.env, subscriptionOf(argv), c.req.raw.cf as ClientLocation | undefined, backgroundOf(c), base64);
}

/**
 * SAVE, BGSAVE and LASTSAVE alone in a request: backups (worker/backups.ts), the admin token's.
 * In a pipeline or a transaction the engine refuses them, saying so.
 */
async function save(c: Context<{ Bindings: Env; Variables: Vars }>, argv: readonly string[]) {
  if (c.get("permission") !== "admin") throw errors.noPermission(argv[0]!);
  const background = backgroundOf(c) ?? ((work: Promise<unknown>) => void work);
  const base64 = c.req.header("upstash-encoding")?.toLowerCase() === "base64";
  const outcome = toJsonOutcome({ result: await saveCommand(c.env, argv, systemClock.now(), background) }, base64);
  return new Response(stringify(outcome), { headers: { "content-type": "application/json" } });
}

app.post("/", async (c) => {
  const argv = parseCommand(await readBody(c.req.raw), argEncodingOf(c.req.raw));
  if (isSubscribe(argv[0]) && c.req.header("accept") === "text/event-stream") return subscribeTo(c, argv);
  if (isSaveCommand(argv[0])) return save(c, argv);
  if (argv[0]?.toUpperCase() === "FAILOVER") {
    if (c.get("permission") !== "admin" || c.get("acl")) throw errors.noPermission(argv[0]);
    return c.json({ result: await failoverCommand(c.env, argv) });
  }
  // AUTH alone: its credentials checked here (the proxy's AUTH user password); in a pipeline the engine refuses it.
  if (argv[0]?.toUpperCase() === "AUTH") return c.json({ result: await checkAuth(argv, c.env, backgroundOf(c)) });
  return forward(c, "single", [argv]);
});

// GET / names no command.
app.get("/", (c) => c.notFound());

// Any other path is a command in the path form (`/get/key`); "*" keeps the router on its fast
// regular-expression form, which a pattern such as "/:command{.+}" would turn off.
app.on(["GET", "POST"], "*", async (c) => {
  const pathname = new URL(c.req.url).pathname;
  // Upstash's form: POST /subscribe/<channel> (its body, `[]`, is no argument).
  if (isSubscribe(pathname.split("/")[1])) return subscribeTo(c, parsePathCommand(pathname, new Uint8Array(0)));
  const body = c.req.method === "POST" ? await readBodyBytes(c.req.raw) : new Uint8Array(0);
  const argv = parsePathCommand(pathname, body);
  if (isSaveCommand(argv[0])) return save(c, argv);
  return forward(c, "single", [argv]);
});
