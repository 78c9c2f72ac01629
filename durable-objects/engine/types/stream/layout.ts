/**
 * How a stream is stored: a header (its metadata in the header's value, `StreamMeta`) and element
 * rows under the stream's one element id, each kind under a prefix of its own, so that one ordered
 * read of the element store walks one kind in order and reads only what it returns:
 *
 * - `e` + ID (16 bytes): an entry; value: its field-value pairs (`encodePairs`).
 * - `g` + group: a consumer group (`GroupMeta`).
 * - `p` + lp(group) + ID: the group's pending entries list (PEL) (`Nack`).
 * - `c` + lp(group) + consumer: a consumer (`ConsumerMeta`).
 * - `q` + lp(group) + lp(consumer) + ID: the consumer's own PEL (an index of `p`; empty value).
 *
 * lp(name) is the name's length in 4 bytes, big-endian, then the name: a group's rows are then
 * together, whatever the names. Names and IDs are binary strings (one code unit per byte).
 * Metadata are JSON (bigints as decimal text) in the bytes of the row's value.
 */
import { type Bytes, fromBytes, toBytes } from "../../bytes";
import { type StreamId, ZERO_ID, formatId, idKey, parseId } from "./id";

export const ENTRY = "e";
export const GROUP = "g";
export const PEL = "p";
export const CONSUMER = "c";
export const CONSUMER_PEL = "q";

/** A name prefixed by its length (4 bytes, big-endian), as a binary string. */
export function lp(name: string): string {
  const n = name.length;
  return String.fromCharCode((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff) + name;
}

export const entryKey = (id: StreamId): string => ENTRY + idKey(id);
export const groupKey = (group: string): string => GROUP + group;
export const pelPrefix = (group: string): string => PEL + lp(group);
export const consumerPrefix = (group: string): string => CONSUMER + lp(group);
export const consumerPelPrefix = (group: string, consumer: string): string => CONSUMER_PEL + lp(group) + lp(consumer);

/** The stream's own state (Redis's `stream` struct without its entries and groups). */
export interface StreamMeta {
  /** Entries (XLEN). */
  readonly length: number;
  readonly lastId: StreamId;
  /** The first entry's ID as recorded (XINFO's recorded-first-entry-id); 0-0 when empty. */
  readonly firstId: StreamId;
  readonly maxDeletedId: StreamId;
  readonly entriesAdded: bigint;
  readonly groups: number;
}

export const EMPTY_META: StreamMeta = { length: 0, lastId: ZERO_ID, firstId: ZERO_ID, maxDeletedId: ZERO_ID, entriesAdded: 0n, groups: 0 };

export interface GroupMeta {
  readonly lastId: StreamId;
  /** The group's entries_read; null where Redis's is invalid (SCG_INVALID_ENTRIES_READ). */
  readonly entriesRead: bigint | null;
  /** Entries in its PEL, and its consumers. */
  readonly pending: number;
  readonly consumers: number;
}

export interface ConsumerMeta {
  /** Last time it was seen (any read or claim), and last time it got something (-1: never). */
  readonly seenTime: number;
  readonly activeTime: number;
  readonly pending: number;
}

/** A pending entry: who has it, when it was last delivered, how many times. */
export interface Nack {
  readonly consumer: string;
  readonly deliveryTime: number;
  readonly deliveryCount: number;
}

const json = (value: unknown): Bytes => toBytes(JSON.stringify(value));
const parse = (bytes: Bytes): Record<string, unknown> => JSON.parse(fromBytes(bytes)) as Record<string, unknown>;
const id = (v: unknown): StreamId => (typeof v === "string" ? parseId(v) : ZERO_ID);

export function encodeMeta(m: StreamMeta): Bytes {
  return json({ n: m.length, l: formatId(m.lastId), f: formatId(m.firstId), d: formatId(m.maxDeletedId), a: String(m.entriesAdded), g: m.groups });
}

/** A header's metadata; empty bytes (a header a replica made before its XMETA came) read as a new stream's. */
export function decodeMeta(bytes: Bytes): StreamMeta {
  if (bytes.length === 0) return EMPTY_META;
  const o = parse(bytes);
  return { length: Number(o.n), lastId: id(o.l), firstId: id(o.f), maxDeletedId: id(o.d), entriesAdded: BigInt(o.a as string), groups: Number(o.g) };
}

export const encodeGroup = (g: GroupMeta): Bytes =>
  json({ l: formatId(g.lastId), r: g.entriesRead === null ? null : String(g.entriesRead), p: g.pending, c: g.consumers });

export function decodeGroup(bytes: Bytes): GroupMeta {
  const o = parse(bytes);
  return { lastId: id(o.l), entriesRead: o.r === null ? null : BigInt(o.r as string), pending: Number(o.p), consumers: Number(o.c) };
}

export const encodeConsumer = (c: ConsumerMeta): Bytes => json({ s: c.seenTime, a: c.activeTime, p: c.pending });

export function decodeConsumer(bytes: Bytes): ConsumerMeta {
  const o = parse(bytes);
  return { seenTime: Number(o.s), activeTime: Number(o.a), pending: Number(o.p) };
}

export const encodeNack = (n: Nack): Bytes => json({ c: n.consumer, t: n.deliveryTime, n: n.deliveryCount });

export function decodeNack(bytes: Bytes): Nack {
  const o = parse(bytes);
  return { consumer: o.c as string, deliveryTime: Number(o.t), deliveryCount: Number(o.n) };
}

/** An entry's field-value pairs: each as its length (4 bytes, big-endian) and its bytes. */
export function encodePairs(items: readonly string[]): Bytes {
  let size = 0;
  for (const s of items) size += 4 + s.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const s of items) {
    const n = s.length;
    out[at++] = (n >>> 24) & 0xff;
    out[at++] = (n >>> 16) & 0xff;
    out[at++] = (n >>> 8) & 0xff;
    out[at++] = n & 0xff;
    for (let i = 0; i < n; i++) out[at++] = s.charCodeAt(i);
  }
  return out;
}

export function decodePairs(bytes: Bytes): Bytes[] {
  const out: Bytes[] = [];
  for (let at = 0; at + 4 <= bytes.length; ) {
    const n = ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!;
    at += 4;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}
