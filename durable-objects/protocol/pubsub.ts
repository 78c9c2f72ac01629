/**
 * Pub/sub between the worker and the nodes (contracts and the few pure functions both ends share).
 *
 * A subscriber is an SSE response the worker holds, fed by a WebSocket the worker opens to the
 * nearest node (`SUBSCRIBE_PATH`), which accepts it with the hibernation API: an idle
 * subscription keeps no node in memory. PUBLISH runs on the primary, which delivers to its own
 * subscribers and sends the message to every replica on the replication link (a push, never the
 * log's durable rows); each node answers how many of its subscribers got it, and PUBLISH answers
 * the sum. Per channel, a region's subscribers get messages in publish order: each replica's
 * pushes are sent one at a time.
 *
 * Names and messages are binary strings (one code unit per byte), as everywhere in the engine.
 */
import { compileGlob } from "../engine/glob";

/** A message as published: to a channel, or (SPUBLISH) a shard channel. */
export interface PubSubMessage {
  readonly channel: string;
  readonly message: string;
  readonly shard?: boolean;
}

/** What a subscriber listens to: channels, patterns, shard channels. */
export interface Subscription {
  readonly channels: readonly string[];
  readonly patterns: readonly string[];
  readonly shardChannels: readonly string[];
}

/** A node's subscriptions as PUBSUB asks them: each channel with its subscribers, and the patterns. */
export interface SubscriptionCounts {
  readonly channels: readonly (readonly [string, number])[];
  readonly shardChannels: readonly (readonly [string, number])[];
  readonly patterns: readonly string[];
}

/** Where the worker opens a subscriber's WebSocket on a node; the subscription travels in `SUBSCRIPTION_HEADER` (JSON in base64). */
export const SUBSCRIBE_PATH = "/pubsub/subscribe";
export const SUBSCRIPTION_HEADER = "Flaredis-Subscription";

/** Subscribers one node holds at most; one more is refused with `tooManySubscribers`. */
export const MAX_SUBSCRIBERS = 10_000;
export const tooManySubscribers = (node: string) =>
  `ERR max number of subscribers reached: node ${node} holds ${MAX_SUBSCRIBERS} subscribers (subscribe nearer another region, or later)`;

/**
 * One event a node sends a subscriber: Redis's push as an array (`["message", channel, message]`,
 * `["pmessage", pattern, channel, message]`, `["smessage", channel, message]`), names and message
 * as binary strings. A WebSocket text message carries a JSON array of them (a push's, together).
 */
export type PubSubEvent = readonly string[];

/** The events `m` makes for a subscriber listening to `s` (Redis sends one per matching pattern, and one for the channel). */
export function eventsFor(s: Subscription, m: PubSubMessage): PubSubEvent[] {
  if (m.shard) return s.shardChannels.includes(m.channel) ? [["smessage", m.channel, m.message]] : [];
  const out: PubSubEvent[] = [];
  if (s.channels.includes(m.channel)) out.push(["message", m.channel, m.message]);
  for (const p of s.patterns) if (compileGlob(p).test(m.channel)) out.push(["pmessage", p, m.channel, m.message]);
  return out;
}
