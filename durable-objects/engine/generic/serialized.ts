/**
 * A key's value as RDB holds it (engine/rdb/value.ts), read from the keyspace and written into it:
 * what DUMP serializes and RESTORE creates. Reading is bounded by what it answers (the whole
 * value); writing goes through each type's own writes, so the value is replicated by the same
 * effects and held to the same bounds (an element's size, a string's) as the commands' writes.
 */
import { fromBytes, toBytes } from "../bytes";
import type { Change } from "../keyspace";
import type { RdbStream } from "../rdb/stream";
import type { RdbValue } from "../rdb/value";
import { Group } from "../types/stream/groups";
import { MAX_ID, ZERO_ID } from "../types/stream/id";
import { encodePairs, entryKey } from "../types/stream/layout";
import { Stream } from "../types/stream/stream";
import { Hash } from "../types/hash/hash";
import { List } from "../types/list/list";
import { RedisSet } from "../types/set/set";
import { Zset } from "../types/zset/zset";
import { setString } from "../types/string/writes";

/** The value at `key` (a read: counted as a hit or a miss), or null without one. */
export function serializedValue(db: Change, key: string): RdbValue | null {
  const entry = db.lookup(key);
  if (entry === null) return null;
  switch (entry.type) {
    case "string":
      return { type: "string", value: db.getString(key)! };
    case "list":
      return { type: "list", items: List.find(db, key)!.range(0, -1) };
    case "set":
      return { type: "set", members: RedisSet.find(db, key)!.members().map(toBytes) };
    case "zset":
      return { type: "zset", entries: Zset.find(db, key)!.all().map((m) => ({ member: toBytes(m.field), score: m.score })) };
    case "hash":
      return { type: "hash", fields: Hash.find(db, key)!.all().map((f) => ({ field: toBytes(f.field), value: f.value, expiresAt: f.expiresAt ?? null })) };
    case "stream": {
      const stream = Stream.find(db, key)!;
      const m = stream.meta;
      return {
        type: "stream",
        entries: stream.range(ZERO_ID, MAX_ID, false, -1),
        lastId: m.lastId,
        firstId: m.firstId,
        maxDeletedId: m.maxDeletedId,
        entriesAdded: m.entriesAdded,
        groups: [...Group.all(stream)].map((g) => ({
          name: toBytes(g.name),
          lastId: g.meta.lastId,
          entriesRead: g.meta.entriesRead,
          pending: [...g.pending(ZERO_ID)].map(([id, n]) => ({ id, consumer: toBytes(n.consumer), deliveryTime: n.deliveryTime, deliveryCount: BigInt(n.deliveryCount) })),
          consumers: [...g.consumers()].map(([name, c]) => ({ name: toBytes(name), seenTime: c.seenTime, activeTime: c.activeTime })),
        })),
      };
    }
  }
}

/** Creates `value` at `key` (which holds nothing) with deadline `expiresAt`. */
export function createValue(db: Change, key: string, value: RdbValue, expiresAt: number | null): void {
  switch (value.type) {
    case "string":
      setString(db, key, value.value, expiresAt);
      return;
    case "list":
      List.create(db, key).push(value.items, "right");
      break;
    case "set":
      RedisSet.findOrCreate(db, key).add(value.members.map(fromBytes));
      break;
    case "zset":
      Zset.store(
        db,
        key,
        value.entries.map((e) => ({ field: fromBytes(e.member), score: e.score })),
      );
      break;
    case "hash": {
      const hash = Hash.findOrCreate(db, key);
      hash.set(value.fields.map((f) => [fromBytes(f.field), f.value] as const));
      const byDeadline = new Map<number, string[]>();
      for (const f of value.fields) if (f.expiresAt !== null) byDeadline.get(f.expiresAt)?.push(fromBytes(f.field)) ?? byDeadline.set(f.expiresAt, [fromBytes(f.field)]);
      // A field past its deadline is deleted at once, as Redis's RESTORE drops it.
      for (const [at, fields] of byDeadline) Hash.find(db, key)?.expire(fields, at, null);
      break;
    }
    case "stream":
      createStream(db, key, value);
      break;
  }
  if (expiresAt !== null && db.exists(key)) db.setDeadline(key, expiresAt);
}

/** A stream as RDB holds it, created row by row (replicated as XPUT and XMETA). */
function createStream(db: Change, key: string, value: RdbStream): void {
  const stream = Stream.create(db, key);
  for (const e of value.entries) stream.put(entryKey(e.id), encodePairs(e.pairs.map(fromBytes)));
  const { lastId, firstId, maxDeletedId, entriesAdded } = value;
  stream.setMeta({ length: value.entries.length, lastId, firstId, maxDeletedId, entriesAdded });
  for (const g of value.groups) {
    const group = Group.create(stream, fromBytes(g.name), g.lastId, g.entriesRead)!;
    for (const c of g.consumers) {
      const name = fromBytes(c.name);
      group.createConsumer(name, c.seenTime);
      group.putConsumer(name, { seenTime: c.seenTime, activeTime: c.activeTime, pending: 0 });
    }
    for (const p of g.pending) group.assign(p.id, fromBytes(p.consumer), p.deliveryTime, Number(p.deliveryCount), db.now);
    group.save();
  }
  stream.save();
}
