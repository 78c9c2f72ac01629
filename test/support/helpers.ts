/** Helpers for tests that go through the worker's HTTP API inside workerd. */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { ManualClock } from "../../durable-objects/engine/clock";
import { env, exports } from "cloudflare:workers";
import type { FlaredisNode } from "../../durable-objects/node/flaredis-node";
import type { NodeApi } from "../../durable-objects/protocol/node-api";

/** The worker under test (the main module's default export). */
export const worker = (exports as unknown as { default: Fetcher }).default;

export const TOKENS = { readwrite: "dev-token", readonly: "dev-readonly-token", admin: "dev-admin-token" } as const;
export const BASE = "http://flaredis.test";

/** JSON.parse keeping integers beyond 2^53 exact (as bigint). */
export function parseJson(text: string): any {
  return JSON.parse(text, (_k, v, context?: { source?: string }) =>
    typeof v === "number" && !Number.isSafeInteger(v) && context?.source && /^-?\d+$/.test(context.source)
      ? BigInt(context.source)
      : v,
  );
}

export interface CallOptions {
  token?: string | null;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  /** `request.cf`: where the request comes from. */
  cf?: Record<string, unknown>;
}

/** Sends a request to the worker; `body` is JSON-encoded unless it is a string already. */
export async function call(body: unknown, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? TOKENS.admin : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await worker.fetch(`${BASE}${options.path ?? "/"}`, {
    method: options.method ?? "POST",
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    ...(options.cf ? { cf: options.cf } : {}),
  } as RequestInit);
  const text = await response.text();
  const json = text && response.headers.get("content-type")?.includes("json") ? parseJson(text) : undefined;
  return { status: response.status, headers: response.headers, text, json };
}

/** Runs one command with the admin token and returns its `result`, failing on an error. */
export async function redis(...argv: (string | number)[]): Promise<any> {
  const r = await call(argv);
  if (r.status !== 200) throw new Error(`${argv.join(" ")}: ${r.status} ${r.text}`);
  return r.json.result;
}

/** runInDurableObject, typed for our node (its RPC types are too deep for the generic overloads). */
export function inNode<R>(stub: DurableObjectStub, fn: (node: FlaredisNode, state: DurableObjectState) => R | Promise<R>) {
  return runInDurableObject(stub, fn as unknown as (node: DurableObject, state: DurableObjectState) => R | Promise<R>);
}

/** A node's stub by region name. */
export const stubOf = (name: string) => env.NODE.get(env.NODE.idFromName(name));
/** A node's RPC API by region name. */
export const nodeApi = (name: string) => stubOf(name) as unknown as NodeApi;

/**
 * Runs a node's alarm until nothing is left to run but an idle master's pings (they go on for
 * ever), moving `clock` (inside the node, where its timers live) past each timer first.
 */
export async function drainAlarms(name: string, clock: ManualClock, stepMs = 60_000) {
  const onlyIdlePings = () =>
    inNode(stubOf(name), (node) => {
      const { timers, role } = node.core;
      return (!("idle" in role) || role.idle) && timers.names().every((t) => t === "heartbeat");
    });
  for (let i = 0; i < 50; i++) {
    await inNode(stubOf(name), () => clock.advance(stepMs));
    if (!(await runDurableObjectAlarm(stubOf(name))) || (await onlyIdlePings())) return;
  }
  throw new Error(`${name}: alarms still pending after 50 runs`);
}

/** A test's start between nodes: all of `nodes` on one new manual clock, the keyspace empty, `replicas` caught up. */
export async function onOneClock(nodes: readonly string[], replicas: readonly string[]): Promise<ManualClock> {
  const clock = new ManualClock(Date.now());
  for (const name of nodes) await inNode(stubOf(name), (node) => void (node.clock = clock));
  await redis("FLUSHALL");
  await Promise.all(replicas.map((r) => nodeApi(r).catchUp()));
  return clock;
}

/** Clients the primary `node` holds blocked now (BLPOP, XREAD BLOCK...). */
export const blockedNow = (node = "enam") => inNode(stubOf(node), (n) => (n.core.role as unknown as { blockedClients: number }).blockedClients);

/** Waits (in RPC round trips, never a timer) until the primary holds `n` blocked clients. */
export async function untilBlocked(n: number, node = "enam"): Promise<void> {
  for (let i = 0; i < 500; i++) if ((await blockedNow(node)) === n) return;
  throw new Error(`the primary holds ${await blockedNow(node)} blocked clients, not ${n}`);
}
