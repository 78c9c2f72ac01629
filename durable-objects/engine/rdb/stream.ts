/**
 * A stream in RDB (Redis's rdbSaveObject and rdbLoadObject for OBJ_STREAM, t_stream.c's layout):
 *
 * - its entries in listpack nodes, each keyed by its master ID (16 bytes, big-endian): a master
 *   entry (valid count, deleted count, the master fields, a 0), then per entry its flags
 *   (1 deleted, 2 same fields as the master), its ID as differences from the master ID, its
 *   field count and fields unless it has the master's, its values, and its element count;
 * - its length, last ID, and from RDB_TYPE_STREAM_LISTPACKS_2 (Redis 7.0) on its first ID, its
 *   largest deleted ID and entries added;
 * - its consumer groups: name, last delivered ID, entries read (from _2; 2^64-1 when invalid),
 *   the pending entries (raw ID, delivery time, delivery count), and the consumers (name, seen
 *   time, from _3 (7.2) the active time, and the IDs of their pending entries).
 *
 * Written as RDB_TYPE_STREAM_LISTPACKS_2 (RDB 10, so Redis 7.0 loads it): a consumer's active
 * time does not go in (Redis 7.2 takes the seen time for it). Read: all three versions, checked as
 * Redis checks one (entries in ID order within their nodes, a consumer's pending entry in its
 * group's list, every pending entry with a consumer).
 */
import { bytesEqual, fromBytes } from "../bytes.ts";
import { RdbError } from "./error.ts";
import { listpackEntries, listpackOf } from "./packed.ts";
import { type RdbReader, type RdbWriter, bigEndian64 } from "./reader.ts";

export interface Id {
  readonly ms: bigint;
  readonly seq: bigint;
}

export interface RdbStream {
  readonly type: "stream";
  readonly entries: readonly { readonly id: Id; readonly pairs: readonly Uint8Array[] }[];
  readonly lastId: Id;
  readonly firstId: Id;
  readonly maxDeletedId: Id;
  readonly entriesAdded: bigint;
  readonly groups: readonly RdbGroup[];
}

export interface RdbGroup {
  readonly name: Uint8Array;
  readonly lastId: Id;
  /** null: invalid (Redis's SCG_INVALID_ENTRIES_READ). */
  readonly entriesRead: bigint | null;
  readonly pending: readonly { readonly id: Id; readonly consumer: Uint8Array; readonly deliveryTime: number; readonly deliveryCount: bigint }[];
  readonly consumers: readonly { readonly name: Uint8Array; readonly seenTime: number; readonly activeTime: number }[];
}

export const STREAM_TYPES = { V1: 15, V2: 19, V3: 21 } as const;

const DELETED = 1n;
const SAME_FIELDS = 2n;
/** Entries per listpack node written (Redis's stream-node-max-entries). */
const NODE_ENTRIES = 100;
const U64_MAX = 2n ** 64n - 1n;

const cmp = (a: Id, b: Id) => (a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0);
const idBytes = (id: Id) => new Uint8Array([...bigEndian64(id.ms), ...bigEndian64(id.seq)]);

function rawId(r: RdbReader): Id {
  const b = r.take(16);
  const v = new DataView(b.buffer, b.byteOffset, 16);
  return { ms: v.getBigUint64(0, false), seq: v.getBigUint64(8, false) };
}

/** A listpack element that must be an integer (the stream's own numbers). */
function integer(b: Uint8Array | undefined): bigint {
  if (b === undefined) throw new RdbError("stream listpack ends early");
  const t = new TextDecoder().decode(b);
  if (!/^-?\d{1,20}$/.test(t)) throw new RdbError("stream listpack: a number expected");
  return BigInt(t);
}

/** Reads a stream of RDB type `type` (one of STREAM_TYPES). @throws RdbError */
export function readStream(type: number, r: RdbReader): RdbStream {
  const entries: { id: Id; pairs: Uint8Array[] }[] = [];
  for (let nodes = r.length(); nodes > 0; nodes--) {
    const key = r.string();
    if (key.length !== 16) throw new RdbError("stream node key is not 16 bytes");
    const v = new DataView(key.buffer, key.byteOffset, 16);
    const master = { ms: v.getBigUint64(0, false), seq: v.getBigUint64(8, false) };
    const items = listpackEntries(r.string(), r.elementsAllowed);
    r.elements(items.length);
    if (items.length === 0) throw new RdbError("empty listpack in a stream");
    let i = 0;
    const next = () => items[i++];
    const count = integer(next());
    const deleted = integer(next());
    const masterFields = Number(integer(next()));
    const fields = items.slice(i, i + masterFields);
    i += masterFields;
    if (fields.length !== masterFields || integer(next()) !== 0n) throw new RdbError("stream master entry malformed");
    let seen = 0n;
    while (i < items.length) {
      const flags = integer(next());
      const id = { ms: BigInt.asUintN(64, master.ms + integer(next())), seq: BigInt.asUintN(64, master.seq + integer(next())) };
      const pairs: Uint8Array[] = [];
      if (flags & SAME_FIELDS) for (const f of fields) pairs.push(f, items[i++] ?? fail());
      else for (let n = Number(integer(next())); n > 0; n--) pairs.push(next() ?? fail(), next() ?? fail());
      integer(next()); // the entry's element count, for walking back
      seen++;
      if (entries.length > 0 && cmp(entries[entries.length - 1]!.id, id) >= 0) throw new RdbError("stream entries out of order");
      if (!(flags & DELETED)) entries.push({ id, pairs });
    }
    if (seen !== count + deleted) throw new RdbError("stream node count mismatch");
  }
  const length = r.lengthBig();
  const lastId = { ms: r.lengthBig(), seq: r.lengthBig() };
  let firstId = entries[0]?.id ?? { ms: 0n, seq: 0n };
  let maxDeletedId = { ms: 0n, seq: 0n };
  let entriesAdded = length;
  if (type !== STREAM_TYPES.V1) {
    firstId = { ms: r.lengthBig(), seq: r.lengthBig() };
    maxDeletedId = { ms: r.lengthBig(), seq: r.lengthBig() };
    entriesAdded = r.lengthBig();
  }
  if (length !== BigInt(entries.length)) throw new RdbError("stream length mismatch");
  if (entries.length > 0 && cmp(entries[entries.length - 1]!.id, lastId) > 0) throw new RdbError("stream last ID before its last entry");
  const groups: RdbGroup[] = [];
  for (let n = r.length(); n > 0; n--) {
    const name = r.string();
    if (groups.some((g) => bytesEqual(g.name, name))) throw new RdbError("duplicate consumer group name");
    const groupLast = { ms: r.lengthBig(), seq: r.lengthBig() };
    let entriesRead: bigint | null = null;
    if (type !== STREAM_TYPES.V1) {
      const read = r.lengthBig();
      entriesRead = read === U64_MAX ? null : read;
    }
    const nacks = new Map<string, { id: Id; deliveryTime: number; deliveryCount: bigint; consumer: Uint8Array | null }>();
    for (let p = r.length(); p > 0; p--) {
      r.elements(1);
      const id = rawId(r);
      const deliveryTime = r.u64le();
      const deliveryCount = r.lengthBig();
      const k = fromBytes(idBytes(id));
      if (nacks.has(k)) throw new RdbError("duplicate pending entry in a group");
      nacks.set(k, { id, deliveryTime, deliveryCount, consumer: null });
    }
    const consumers: { name: Uint8Array; seenTime: number; activeTime: number }[] = [];
    for (let c = r.length(); c > 0; c--) {
      r.elements(1);
      const consumer = r.string();
      const seenTime = r.u64le();
      // Redis 7.2 writes -1 for a consumer that never read anything.
      const activeTime = type === STREAM_TYPES.V3 ? r.i64le() : seenTime;
      if (consumers.some((x) => bytesEqual(x.name, consumer))) throw new RdbError("duplicate consumer in a group");
      consumers.push({ name: consumer, seenTime, activeTime });
      for (let p = r.length(); p > 0; p--) {
        const nack = nacks.get(fromBytes(r.take(16)));
        if (nack === undefined) throw new RdbError("a consumer's pending entry is not in its group's");
        if (nack.consumer !== null) throw new RdbError("a pending entry with two consumers");
        nack.consumer = consumer;
      }
    }
    const pending = [...nacks.values()].map((x) => {
      if (x.consumer === null) throw new RdbError("a pending entry without a consumer");
      return { id: x.id, consumer: x.consumer, deliveryTime: x.deliveryTime, deliveryCount: x.deliveryCount };
    });
    groups.push({ name, lastId: groupLast, entriesRead, pending, consumers });
  }
  return { type: "stream", entries, lastId, firstId, maxDeletedId, entriesAdded, groups };
}

function fail(): never {
  throw new RdbError("stream listpack ends early");
}

/** Writes `s` as RDB_TYPE_STREAM_LISTPACKS_2 (its type byte included). */
export function writeStream(w: RdbWriter, s: RdbStream): void {
  w.u8(STREAM_TYPES.V2);
  const nodes = Math.ceil(s.entries.length / NODE_ENTRIES);
  w.length(nodes);
  for (let n = 0; n < nodes; n++) {
    const chunk = s.entries.slice(n * NODE_ENTRIES, (n + 1) * NODE_ENTRIES);
    const master = chunk[0]!;
    const fields = master.pairs.filter((_, i) => i % 2 === 0);
    const items: (Uint8Array | bigint)[] = [BigInt(chunk.length), 0n, BigInt(fields.length), ...fields, 0n];
    for (const e of chunk) {
      const own = e.pairs.filter((_, i) => i % 2 === 0);
      const same = own.length === fields.length && own.every((f, i) => bytesEqual(f, fields[i]!));
      // Differences as Redis stores them: unsigned 64-bit subtraction read as a signed integer.
      items.push(same ? SAME_FIELDS : 0n, BigInt.asIntN(64, e.id.ms - master.id.ms), BigInt.asIntN(64, e.id.seq - master.id.seq));
      if (same) items.push(...e.pairs.filter((_, i) => i % 2 === 1));
      else items.push(BigInt(own.length), ...e.pairs);
      items.push(BigInt(same ? own.length + 3 : own.length * 2 + 4));
    }
    w.string(idBytes(master.id)).string(listpackOf(items));
  }
  w.lengthBig(BigInt(s.entries.length)).lengthBig(s.lastId.ms).lengthBig(s.lastId.seq);
  w.lengthBig(s.firstId.ms).lengthBig(s.firstId.seq).lengthBig(s.maxDeletedId.ms).lengthBig(s.maxDeletedId.seq);
  w.lengthBig(s.entriesAdded).length(s.groups.length);
  for (const g of s.groups) {
    w.string(g.name).lengthBig(g.lastId.ms).lengthBig(g.lastId.seq).lengthBig(g.entriesRead ?? U64_MAX);
    w.length(g.pending.length);
    for (const p of g.pending) w.raw(idBytes(p.id)).u64le(p.deliveryTime).lengthBig(p.deliveryCount);
    const owned = new Map<string, Id[]>();
    for (const p of g.pending) owned.get(fromBytes(p.consumer))?.push(p.id) ?? owned.set(fromBytes(p.consumer), [p.id]);
    w.length(g.consumers.length);
    for (const c of g.consumers) {
      const own = owned.get(fromBytes(c.name)) ?? [];
      w.string(c.name).u64le(c.seenTime).length(own.length);
      for (const id of own) w.raw(idBytes(id));
    }
  }
}
