/**
 * Subscriptions over Server-Sent Events, as Upstash serves them (`@upstash/redis`'s `subscribe`
 * and `psubscribe`): `POST /subscribe/<channel>…`, `/psubscribe/<pattern>…`, `/ssubscribe/<channel>…`,
 * or `POST /` with `["SUBSCRIBE", channel …]` and `Accept: text/event-stream`. The response is a
 * stream of `data: subscribe,<channel>,<count>` lines, then `data: message,<channel>,<message>`
 * (`pmessage,<pattern>,<channel>,<message>`, `smessage,…`) for each message published.
 *
 * The worker holds the response and a WebSocket to the nearest healthy node (a replica; the
 * primary when none), which holds the subscription with the hibernation API (protocol/pubsub.ts);
 * with shards, shard 1's node, and for keyspace notifications one in each other shard as well.
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
import { slotMapOf } from "./slot-map";

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

/** The node that took the subscription, or the refusal of one (null: none answered); and the shard's primary. */
type Opened = ({ readonly node: string; readonly ws: WebSocket } | { readonly refusal: string | null }) & { readonly primary: string };

/**
 * Opens the subscription at the first node of shard `shard`'s read plan that takes it (the nearest
 * healthy replica first, then the primary, then the others).
 */
async function openIn(env: Env, shard: number, s: Subscription, cf: ClientLocation | undefined, background?: Background): Promise<Opened> {
  const router = routerFor(env, shard);
  const plan = await router.readPlan(cf, background);
  const { primary } = router.currentTopology();
  let refusal: string | null = null;
  for (const node of new Set([...plan.first, primary, ...plan.then])) {
    try {
      const stub = nodeStub(env, node, shard) as unknown as { fetch(url: string, init: RequestInit): Promise<Response> };
      // The subscription in base64 (a header is ASCII): names of any bytes.
      const answer = await stub.fetch(`https://node${SUBSCRIBE_PATH}`, { headers: { upgrade: "websocket", [SUBSCRIPTION_HEADER]: btoa(JSON.stringify(s)) } });
      if (answer.status === 101 && answer.webSocket) return { node, ws: answer.webSocket, primary };
      // A node that is full says so (its error is the answer if none takes it); a node down does not count.
      const error = ((await answer.json().catch(() => null)) as { error?: string } | null)?.error;
      if (answer.status === 429 && error) refusal = error;
    } catch {
      // Unreachable: the next node.
    }
  }
  return { refusal, primary };
}

/**
 * Whether a subscription may receive keyspace notifications (`__keyspace@0__:…`, `__keyevent@0__:…`):
 * a pattern, or a channel of theirs. Each shard publishes its own keys' events.
 */
const mayHearKeyEvents = (s: Subscription) => s.patterns.length > 0 || s.channels.some((c) => c.startsWith("__key"));

/**
 * Opens the subscription in shard 1, where every PUBLISH goes (worker/cluster.ts), and answers the
 * SSE stream. With shards, one that may hear keyspace notifications is opened in every other shard
 * too (each sends only its own keys' events), as far as they answer.
 * @throws RedisError a node's own refusal (too many subscribers) when none took it, or MASTERDOWN when none answered
 */
export async function subscribe(env: Env, s: Subscription, cf: ClientLocation | undefined, background?: Background, base64 = false): Promise<Response> {
  const sse = sseOf(base64);
  const opened = await openIn(env, 1, s, cf, background);
  const { primary } = opened;
  if (!("ws" in opened)) throw new RedisError(opened.refusal ?? `MASTERDOWN no node can hold a subscription now (the primary, ${primary}, and every replica are unreachable)`);
  const others = mayHearKeyEvents(s) ? (await Promise.all(slotMapOf(env).shards.filter((k) => k !== 1).map((k) => openIn(env, k, s, cf, background)))).flatMap((o) => ("ws" in o ? [o.ws] : [])) : [];
  const { node, ws } = opened;
  const sockets = [ws, ...others];
  for (const socket of sockets) socket.accept();
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>({}, { highWaterMark: MAX_UNREAD_BYTES, size: (chunk) => chunk.byteLength });
  const writer = writable.getWriter();
  const close = () => {
    for (const socket of sockets)
      try {
        socket.close(1000, "client gone");
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
  for (const socket of sockets)
    socket.addEventListener("message", (e) => {
      if (typeof e.data !== "string") return;
      const events = (JSON.parse(e.data) as PubSubEvent[]).map(sse);
      write(events.length === 1 ? events[0]! : concat(events));
    });
  // Shard 1's socket ends the stream; another shard's that closes only stops its key events.
  ws.addEventListener("close", () => {
    close();
    void writer.close().catch(() => {});
  });
  return new Response(readable, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "Flaredis-Served-By": `${node === primary ? "primary" : "replica"}:${node}` },
  });
}
