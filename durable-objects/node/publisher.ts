/**
 * PUBLISH on the primary (protocol/pubsub.ts): the message goes to the primary's own subscribers
 * at once and into each replica's outbox, which the push loop sends with its next push (one push
 * in flight per replica, so a region gets a channel's messages in publish order). Each replica's
 * ACK says how many of its subscribers got each message; PUBLISH answers the sum once every
 * replica has answered, failed, or PUBLISH_WAIT_MS passed (a region that did not answer counts 0).
 */
import type { Clock } from "../engine/clock";
import type { PubSubMessage, SubscriptionCounts } from "../protocol/pubsub";
import type { Subscribers } from "./subscribers";

/** The longest a PUBLISH waits for the replicas' counts. */
export const PUBLISH_WAIT_MS = 2_000;
/**
 * Keyspace notifications kept for a replica that does not take them (down), in bytes: past it the
 * oldest go, as Redis drops a subscriber past its output buffer limit. PUBLISH's own wait their time.
 */
export const NOTICES_MAX_BYTES = 4 * 1024 * 1024;

export interface Pending {
  readonly message: PubSubMessage;
  readonly done: (received: number) => void;
  /** A keyspace notification's size (no one waits for its count). */
  readonly notice?: number;
}

export class Publisher {
  private readonly outboxes = new Map<string, Pending[]>();
  /** The bytes of the keyspace notifications in each replica's outbox. */
  private readonly noticeBytes = new Map<string, number>();

  constructor(
    private readonly subscribers: Subscribers,
    private readonly clock: Clock,
  ) {}

  /**
   * Publishes `m` to this node's subscribers and to `replicas`' (whose pushes `kick` starts).
   * @returns how many subscribers got it, over every region that answered in time
   */
  async publish(m: PubSubMessage, replicas: readonly string[], kick: () => void): Promise<number> {
    const local = this.subscribers.deliver([m])[0]!;
    if (replicas.length === 0) return local;
    const queued: [string, Pending][] = [];
    const counts = replicas.map(
      (replica) =>
        new Promise<number>((done) => {
          const pending = { message: m, done };
          const box = this.outboxes.get(replica) ?? [];
          box.push(pending);
          this.outboxes.set(replica, box);
          queued.push([replica, pending]);
        }),
    );
    kick();
    const timer = new AbortController();
    const late = this.clock.sleep(PUBLISH_WAIT_MS, timer.signal).then(() => 0);
    const remote = await Promise.all(counts.map((c) => Promise.race([c, late])));
    timer.abort();
    // Not sent in time (a replica that is down): it is not sent later either.
    for (const [replica, pending] of queued) {
      const box = this.outboxes.get(replica)?.filter((p) => p !== pending);
      if (box && box.length > 0) this.outboxes.set(replica, box);
      else this.outboxes.delete(replica);
    }
    return local + remote.reduce((a, b) => a + b, 0);
  }

  /**
   * Publishes messages no one waits an answer for (keyspace notifications), in order: to this
   * node's subscribers and into each replica's outbox (whose pushes `kick` starts).
   */
  broadcast(messages: readonly PubSubMessage[], replicas: readonly string[], kick: () => void): void {
    if (messages.length === 0) return;
    this.subscribers.deliver(messages);
    const sized = messages.map((message) => ({ message, done: () => {}, notice: message.channel.length + message.message.length + 16 }));
    const added = sized.reduce((n, p) => n + p.notice, 0);
    for (const replica of replicas) {
      let box = [...(this.outboxes.get(replica) ?? []), ...sized];
      let bytes = (this.noticeBytes.get(replica) ?? 0) + added;
      if (bytes > NOTICES_MAX_BYTES) {
        // The oldest notifications go; the PUBLISHes waiting among them stay.
        const kept: Pending[] = [];
        for (const p of box) {
          if (p.notice !== undefined && bytes > NOTICES_MAX_BYTES) bytes -= p.notice;
          else kept.push(p);
        }
        box = kept;
      }
      this.outboxes.set(replica, box);
      this.noticeBytes.set(replica, bytes);
    }
    if (replicas.length > 0) kick();
  }

  /** Whether `replica` has messages waiting (the push loop goes on while it has). */
  waiting(replica: string): boolean {
    return (this.outboxes.get(replica)?.length ?? 0) > 0;
  }

  /** Takes `replica`'s waiting messages for a push. */
  take(replica: string): Pending[] {
    const box = this.outboxes.get(replica) ?? [];
    this.outboxes.delete(replica);
    this.noticeBytes.delete(replica);
    return box;
  }

  /** The push of `sent` was answered (`received`: each message's count) or failed (undefined): each PUBLISH learns its count. */
  settle(sent: readonly Pending[], received: readonly number[] | undefined): void {
    for (const [i, p] of sent.entries()) p.done(received?.[i] ?? 0);
  }

  /** Every waiting PUBLISH gets 0 from the replicas (the node stopped being the primary). */
  release(): void {
    for (const box of this.outboxes.values()) this.settle(box, undefined);
    this.outboxes.clear();
    this.noticeBytes.clear();
  }
}

/** PUBSUB's view of every node's subscriptions together. */
export function mergeCounts(all: readonly SubscriptionCounts[]): SubscriptionCounts {
  const sum = (pick: (c: SubscriptionCounts) => readonly (readonly [string, number])[]) => {
    const m = new Map<string, number>();
    for (const c of all) for (const [name, n] of pick(c)) m.set(name, (m.get(name) ?? 0) + n);
    return [...m];
  };
  return { channels: sum((c) => c.channels), shardChannels: sum((c) => c.shardChannels), patterns: [...new Set(all.flatMap((c) => c.patterns))] };
}
