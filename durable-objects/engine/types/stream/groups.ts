/**
 * Consumer groups of a stream (Redis's streamCG): the group's last delivered ID and read counter,
 * its consumers, and its pending entries list (PEL), kept both by ID (`p` rows) and per consumer
 * (`q` rows), as Redis keeps a NACK in both radix trees. Counts (a group's pending entries and
 * consumers, a consumer's pending entries) are kept in their rows, so XPENDING's summary and
 * XINFO read one row per consumer, never the PEL.
 */
import { EMPTY } from "../../replication/effect";
import { RedisError, cArg } from "../../errors";
import { MAX_ID, type StreamId, compareIds, idFromKey, idKey } from "./id";
import {
  CONSUMER_PEL,
  type ConsumerMeta,
  GROUP,
  type GroupMeta,
  type Nack,
  consumerPelPrefix,
  consumerPrefix,
  decodeConsumer,
  decodeGroup,
  decodeNack,
  encodeConsumer,
  encodeGroup,
  encodeNack,
  groupKey,
  lp,
  pelPrefix,
} from "./layout";
import type { Stream } from "./stream";

export class Group {
  private constructor(
    readonly stream: Stream,
    readonly name: string,
    public meta: GroupMeta,
  ) {}

  /** The group `name` of `stream`, or null. */
  static find(stream: Stream, name: string): Group | null {
    const row = stream.row(groupKey(name));
    return row === null ? null : new Group(stream, name, decodeGroup(row));
  }

  /** Creates group `name` unless there is one. @returns null when there was */
  static create(stream: Stream, name: string, lastId: StreamId, entriesRead: bigint | null): Group | null {
    if (stream.row(groupKey(name)) !== null) return null;
    const g = new Group(stream, name, { lastId, entriesRead, pending: 0, consumers: 0 });
    g.save();
    stream.setMeta({ groups: stream.meta.groups + 1 });
    return g;
  }

  /** Every group of `stream`, in name order. */
  static *all(stream: Stream): Generator<Group> {
    for (const row of stream.rows(GROUP, GROUP)) yield new Group(stream, row.field.slice(1), decodeGroup(row.value));
  }

  save(): void {
    this.stream.put(groupKey(this.name), encodeGroup(this.meta));
  }

  /** Removes the group, its consumers and its PEL (XGROUP DESTROY). */
  destroy(): void {
    for (const prefix of [pelPrefix(this.name), consumerPrefix(this.name), CONSUMER_PEL + lp(this.name)]) {
      const fields = [...this.stream.rows(prefix, prefix)].map((r) => r.field);
      for (const f of fields) this.stream.remove(f);
    }
    this.stream.remove(groupKey(this.name));
    this.stream.setMeta({ groups: this.stream.meta.groups - 1 });
  }

  // ---- Consumers -----------------------------------------------------------------------------

  consumer(name: string): ConsumerMeta | null {
    const row = this.stream.row(consumerPrefix(this.name) + name);
    return row === null ? null : decodeConsumer(row);
  }

  /** Creates consumer `name` (seen now, never active) unless it exists. @returns whether it did not */
  createConsumer(name: string, now: number): boolean {
    if (this.consumer(name) !== null) return false;
    this.putConsumer(name, { seenTime: now, activeTime: -1, pending: 0 });
    this.meta = { ...this.meta, consumers: this.meta.consumers + 1 };
    this.save();
    return true;
  }

  /** The consumer, created when missing, marked as seen now. */
  seen(name: string, now: number): void {
    this.createConsumer(name, now);
    this.putConsumer(name, { ...this.consumer(name)!, seenTime: now });
  }

  putConsumer(name: string, c: ConsumerMeta): void {
    this.stream.put(consumerPrefix(this.name) + name, encodeConsumer(c));
  }

  /** Every consumer, in name order. */
  *consumers(): Generator<[string, ConsumerMeta]> {
    const prefix = consumerPrefix(this.name);
    for (const row of this.stream.rows(prefix, prefix)) yield [row.field.slice(prefix.length), decodeConsumer(row.value)];
  }

  /** Deletes a consumer and its pending entries. @returns how many it had, or null when there is no such consumer */
  deleteConsumer(name: string): number | null {
    const c = this.consumer(name);
    if (c === null) return null;
    const prefix = consumerPelPrefix(this.name, name);
    const ids = [...this.stream.rows(prefix, prefix)].map((r) => idFromKey(r.field, prefix.length));
    for (const id of ids) {
      this.stream.remove(prefix + idKey(id));
      this.stream.remove(pelPrefix(this.name) + idKey(id));
    }
    this.stream.remove(consumerPrefix(this.name) + name);
    this.meta = { ...this.meta, consumers: this.meta.consumers - 1, pending: this.meta.pending - ids.length };
    this.save();
    return c.pending;
  }

  // ---- The pending entries list --------------------------------------------------------------

  nack(id: StreamId): Nack | null {
    const row = this.stream.row(pelPrefix(this.name) + idKey(id));
    return row === null ? null : decodeNack(row);
  }

  /** Pending entries from `start` on, in ID order, of the group or of one consumer, at most `limit` (all when negative). */
  *pending(start: StreamId, consumer: string | null = null, limit = -1): Generator<[StreamId, Nack]> {
    if (consumer === null) {
      const prefix = pelPrefix(this.name);
      for (const row of this.stream.rows(prefix, prefix + idKey(start), false, limit)) yield [idFromKey(row.field, prefix.length), decodeNack(row.value)];
      return;
    }
    const prefix = consumerPelPrefix(this.name, consumer);
    for (const row of this.stream.rows(prefix, prefix + idKey(start), false, limit)) {
      const id = idFromKey(row.field, prefix.length);
      yield [id, this.nack(id)!];
    }
  }

  /** The first or last pending entry's ID, or null. */
  pendingEdge(last: boolean): StreamId | null {
    const prefix = pelPrefix(this.name);
    const from = last ? prefix + "\xff".repeat(16) : prefix;
    for (const row of this.stream.rows(prefix, from, last, 1)) return idFromKey(row.field, prefix.length);
    return null;
  }

  /**
   * Gives pending entry `id` to `consumer` with `nack`'s time and count (XREADGROUP's delivery,
   * XCLAIM's): moved from the consumer that had it, counts kept.
   */
  assign(id: StreamId, consumer: string, deliveryTime: number, deliveryCount: number, now: number): void {
    const before = this.nack(id);
    if (before !== null && before.consumer !== consumer) this.release(id, before.consumer);
    if (before === null) this.meta = { ...this.meta, pending: this.meta.pending + 1 };
    if (before === null || before.consumer !== consumer) {
      this.stream.put(consumerPelPrefix(this.name, consumer) + idKey(id), EMPTY);
      const c = this.consumer(consumer) ?? { seenTime: now, activeTime: -1, pending: 0 };
      this.putConsumer(consumer, { ...c, pending: c.pending + 1 });
    }
    this.stream.put(pelPrefix(this.name) + idKey(id), encodeNack({ consumer, deliveryTime, deliveryCount }));
  }

  /** Updates a pending entry's delivery time and count, its consumer unchanged. */
  redeliver(id: StreamId, nack: Nack, deliveryTime: number, deliveryCount: number): void {
    this.stream.put(pelPrefix(this.name) + idKey(id), encodeNack({ ...nack, deliveryTime, deliveryCount }));
  }

  /** Removes `id` from the PEL (XACK; a claim of a deleted entry). @returns whether it was pending */
  acknowledge(id: StreamId): boolean {
    const nack = this.nack(id);
    if (nack === null) return false;
    this.release(id, nack.consumer);
    this.stream.remove(pelPrefix(this.name) + idKey(id));
    this.meta = { ...this.meta, pending: this.meta.pending - 1 };
    return true;
  }

  /** Takes `id` out of `consumer`'s own PEL. */
  private release(id: StreamId, consumer: string): void {
    this.stream.remove(consumerPelPrefix(this.name, consumer) + idKey(id));
    const c = this.consumer(consumer);
    if (c !== null) this.putConsumer(consumer, { ...c, pending: c.pending - 1 });
  }

  /**
   * Moves the group past entry `id` as a delivery does (streamReplyWithRange): its last delivered
   * ID, and its read counter while the counter is valid.
   */
  deliveredUpTo(id: StreamId): void {
    if (compareIds(id, this.meta.lastId) <= 0) return;
    const s = this.stream;
    let entriesRead = this.meta.entriesRead;
    if (entriesRead !== null && !s.hasTombstones(this.meta.lastId)) entriesRead += 1n;
    else if (s.meta.entriesAdded !== 0n) entriesRead = s.distanceFromFirst(id);
    this.meta = { ...this.meta, lastId: id, entriesRead };
  }

  /** XINFO GROUPS's lag (streamReplyWithCGLag), or null where it cannot be known. */
  lag(): bigint | null {
    const s = this.stream.meta;
    if (s.entriesAdded === 0n || s.length === 0) return 0n;
    if (compareIds(this.meta.lastId, s.firstId) < 0 && compareIds(s.maxDeletedId, s.firstId) < 0) return BigInt(s.length);
    if (this.meta.entriesRead !== null && !this.stream.hasTombstones(this.meta.lastId)) return s.entriesAdded - this.meta.entriesRead;
    const read = this.stream.distanceFromFirst(this.meta.lastId);
    return read === null ? null : s.entriesAdded - read;
  }
}

/** Redis's NOGROUP for the commands that name key and group together. */
export const noGroup = (key: string, group: string, suffix = "") => new RedisError(`NOGROUP No such key '${cArg(key)}' or consumer group '${cArg(group)}'${suffix}`);

/**
 * Redis 8.2's test for ACKED: whether some group still needs entry `id`, because it has not been
 * delivered it yet (the group's last delivered ID is before it) or holds it in its PEL. A stream
 * without groups needs none.
 */
export function referenced(stream: Stream, id: StreamId): boolean {
  const needed = stillNeeded(stream);
  return compareIds(needed.until, id) < 0 || needed.pending(id);
}

/**
 * ACKED's test for a trim, the groups read once: entries past the lowest last delivered ID are all
 * still needed (`until`), and before it those in a group's PEL (`pending`). No groups: none is.
 */
export function stillNeeded(stream: Stream): { until: StreamId; pending(id: StreamId): boolean } {
  const groups = [...Group.all(stream)];
  const until = groups.reduce((min, g) => (compareIds(g.meta.lastId, min) < 0 ? g.meta.lastId : min), MAX_ID);
  return { until, pending: (id) => groups.some((g) => g.nack(id) !== null) };
}

/** DELREF: entry `id` leaves every group's PEL (and its consumer's). @returns whether any held it */
export function dropReferences(stream: Stream, id: StreamId): boolean {
  let any = false;
  for (const g of [...Group.all(stream)])
    if (g.acknowledge(id)) {
      g.save();
      any = true;
    }
  return any;
}
