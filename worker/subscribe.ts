/**
 * Subscriptions over Server-Sent Events, as Upstash serves them (`@upstash/redis`'s `subscribe`
 * and `psubscribe`): `POST /subscribe/<channel>…`, `/psubscribe/<pattern>…`, `/ssubscribe/<channel>…`,
 * or `POST /` with `["SUBSCRIBE", channel …]` and `Accept: text/event-stream`. The response is a
 * stream of `data: subscribe,<channel>,<count>` lines, then `data: message,<channel>,<message>`
 * (`pmessage,<pattern>,<channel>,<message>`, `smessage,…`) for each message published.
 *
 * The worker holds the response and a WebSocket to the nearest healthy node (a replica; the
 * primary when none), which holds the subscription with the hibernation API (protocol/pubsub.ts).
 * When the client goes away (its response is cancelled, or a write fails), the socket is closed,
 * which ends the subscription at the node.
 */
import { concatBytes as concat, toText } from "../durable-objects/engine/bytes";
import { RedisError } from "../durable-objects/engine/errors";
import { type PubSubEvent, SUBSCRIBE_PATH, SUBSCRIPTION_HEADER, type Subscription } from "../durable-objects/protocol/pubsub";
import type { ClientLocation } from "./regions";
import { type Env, nodeStub } from "./env";
import { requestErrors } from "./errors";
import { type Background, routerFor } from "./routing";

const KINDS = { subscribe: "channels", psubscribe: "patterns", ssubscribe: "shardChannels" } as const;
type Kind = keyof typeof KINDS;

/** True when `argv` (a path or body command) is a subscription the SSE form serves. */
export const isSubscribe = (name: string | undefined): name is Kind => name !== undefined && Object.hasOwn(KINDS, name.toLowerCase());

/** The subscription `argv` asks for (`SUBSCRIBE a b`, `PSUBSCRIBE p*`). @throws 400 for none */
export function subscriptionOf(argv: readonly string[]): Subscription {
  const kind = argv[0]!.toLowerCase() as Kind;
  const names = argv.slice(1);
  if (names.length === 0) throw requestErrors.badRequest(`wrong number of arguments for '${kind}' command`);
  const s: Subscription = { channels: [], patterns: [], shardChannels: [] };
  return { ...s, [KINDS[kind]]: [...new Set(names)] };
}

/** `Flaredis-Events: base64` (the proxy's): each event's data is a JSON array of its fields in base64, any bytes, commas included. */
export const EVENTS_HEADER = "Flaredis-Events";

/**
 * One SSE event: `data: ` and Redis's push fields joined by commas, as Upstash writes them (text:
 * a name with a comma, or bytes that are not UTF-8, do not survive), or as base64 in a JSON array.
 */
const sseOf = (base64: boolean) => (fields: readonly string[]) =>
  new TextEncoder().encode(`data: ${base64 ? JSON.stringify(fields.map((f) => btoa(f))) : fields.map(toText).join(",")}\n\n`);

/** Bytes a subscriber's stream may hold unread before it is dropped (Redis's client-output-buffer-limit pubsub is 32 MB). */
export const MAX_UNREAD_BYTES = 8 * 1024 * 1024;

/**
 * Opens the subscription at the first node of the read plan that takes it (the nearest healthy
 * replica first, then the primary, then the others), and answers the SSE stream.
 * @throws RedisError a node's own refusal (too many subscribers) when none took it, or MASTERDOWN when none answered
 */
export async function subscribe(env: Env, s: Subscription, cf: ClientLocation | undefined, background?: Background, base64 = false): Promise<Response> {
  const sse = sseOf(base64);
  const router = routerFor(env);
  const plan = await router.readPlan(cf, background);
  const { primary } = router.currentTopology();
  const candidates = [...new Set([...plan.first, primary, ...plan.then])];
  let refusal: string | null = null;
  let opened: { node: string; ws: WebSocket } | null = null;
  for (const node of candidates) {
    try {
      const stub = nodeStub(env, node) as unknown as { fetch(url: string, init: RequestInit): Promise<Response> };
      // The subscription in base64 (a header is ASCII): names of any bytes.
      const answer = await stub.fetch(`https://node${SUBSCRIBE_PATH}`, { headers: { upgrade: "websocket", [SUBSCRIPTION_HEADER]: btoa(JSON.stringify(s)) } });
      if (answer.status === 101 && answer.webSocket) {
        opened = { node, ws: answer.webSocket };
        break;
      }
      // A node that is full says so (its error is the answer if none takes it); a node down does not count.
      const error = ((await answer.json().catch(() => null)) as { error?: string } | null)?.error;
      if (answer.status === 429 && error) refusal = error;
    } catch {
      // Unreachable: the next node.
    }
  }
  if (opened === null) throw new RedisError(refusal ?? `MASTERDOWN no node can hold a subscription now (the primary, ${primary}, and every replica are unreachable)`);
  const { node, ws } = opened;
  ws.accept();
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>({}, { highWaterMark: MAX_UNREAD_BYTES, size: (chunk) => chunk.byteLength });
  const writer = writable.getWriter();
  const close = () => {
    try {
      ws.close(1000, "client gone");
    } catch {
      // Closed already.
    }
  };
  const write = (bytes: Uint8Array) => {
    // A client that does not read is dropped, as Redis drops a subscriber past its output buffer limit.
    if (writer.desiredSize !== null && writer.desiredSize <= 0) {
      close();
      void writer.abort(new Error("subscriber too slow")).catch(() => {});
      return;
    }
    writer.write(bytes).catch(close);
  };
  // The client went away (its response cancelled): the node forgets the subscription now.
  writer.closed.catch(close);
  // Redis's confirmations: one per name, with the count of this client's subscriptions so far.
  let n = 0;
  for (const [kind, field] of Object.entries(KINDS)) for (const name of s[field]) write(sse([kind, name, String(++n)]));
  ws.addEventListener("message", (e) => {
    if (typeof e.data !== "string") return;
    const events = (JSON.parse(e.data) as PubSubEvent[]).map(sse);
    write(events.length === 1 ? events[0]! : concat(events));
  });
  ws.addEventListener("close", () => void writer.close().catch(() => {}));
  return new Response(readable, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "Flaredis-Served-By": `${node === primary ? "primary" : "replica"}:${node}` },
  });
}
