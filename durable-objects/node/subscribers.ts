/**
 * The subscribers a node holds (protocol/pubsub.ts): one hibernatable WebSocket each, accepted
 * with the Durable Object's hibernation API, its subscription in the socket's attachment, so a
 * node with only idle subscribers can leave memory and find them again when a message comes.
 */
import {
  MAX_SUBSCRIBERS,
  type PubSubEvent,
  type PubSubMessage,
  type Subscription,
  type SubscriptionCounts,
  eventsFor,
  tooManySubscribers,
} from "../protocol/pubsub";

/** What a node does with its subscribers. */
export interface Subscribers {
  /** Sends each message to every subscriber here that listens to it: how many got each. */
  deliver(messages: readonly PubSubMessage[]): number[];
  /** The channels, shard channels and patterns subscribed here. */
  counts(): SubscriptionCounts;
}

/** A node that holds no subscriber (engine-level tests). */
export const NO_SUBSCRIBERS: Subscribers = { deliver: (messages) => messages.map(() => 0), counts: () => ({ channels: [], shardChannels: [], patterns: [] }) };

/** Subscribers on a Durable Object's hibernatable WebSockets. */
export class WebSocketSubscribers implements Subscribers {
  /** Attachments read since the object woke (a socket's never changes). */
  private readonly known = new WeakMap<WebSocket, Subscription>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly node: () => string,
  ) {}

  /**
   * Accepts a subscriber's WebSocket upgrade: the socket's client end, or a refusal (429) when the
   * node holds MAX_SUBSCRIBERS already.
   */
  accept(subscription: Subscription): Response {
    if (this.ctx.getWebSockets().length >= MAX_SUBSCRIBERS) return Response.json({ error: tooManySubscribers(this.node()) }, { status: 429 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment(subscription);
    this.known.set(server, subscription);
    return new Response(null, { status: 101, webSocket: client });
  }

  private subscriptionOf(ws: WebSocket): Subscription | null {
    let s = this.known.get(ws);
    if (s === undefined) {
      s = ws.deserializeAttachment() as Subscription;
      if (s) this.known.set(ws, s);
    }
    return s ?? null;
  }

  /** One WebSocket frame per subscriber for all of `messages` (a push's): a JSON array of its events. */
  deliver(messages: readonly PubSubMessage[]): number[] {
    const received = messages.map(() => 0);
    for (const ws of this.ctx.getWebSockets()) {
      const s = this.subscriptionOf(ws);
      if (s === null) continue;
      const events: PubSubEvent[] = [];
      const counts = messages.map((m) => {
        const e = eventsFor(s, m);
        events.push(...e);
        return e.length;
      });
      if (events.length === 0) continue;
      try {
        ws.send(JSON.stringify(events));
        for (const [i, n] of counts.entries()) received[i]! += n;
      } catch {
        // Gone meanwhile: its close event removes it.
      }
    }
    return received;
  }

  counts(): SubscriptionCounts {
    const channels = new Map<string, number>();
    const shardChannels = new Map<string, number>();
    const patterns = new Set<string>();
    for (const ws of this.ctx.getWebSockets()) {
      const s = this.subscriptionOf(ws);
      if (s === null) continue;
      for (const c of s.channels) channels.set(c, (channels.get(c) ?? 0) + 1);
      for (const c of s.shardChannels) shardChannels.set(c, (shardChannels.get(c) ?? 0) + 1);
      for (const p of s.patterns) patterns.add(p);
    }
    return { channels: [...channels], shardChannels: [...shardChannels], patterns: [...patterns] };
  }
}
