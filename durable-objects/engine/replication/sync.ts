/**
 * The engine's side of replication (the protocol is described in protocol.ts): what a master
 * answers to PSYNC and snapshot requests, and how a replica applies a full sync and the stream.
 */
import { createHash } from "node:crypto";
import { toBytes } from "../bytes";
import { applyDecoded, decodeEffect } from "./effects";
import type { EffectHost } from "./effect";
import type { Engine } from "../engine";
import type { Change, Role } from "../keyspace";
import { type LogEntry, type PsyncReply, START, type SnapshotChunk, type SnapshotCursor } from "./protocol";
import { groupEnd } from "./framing";
import type { KeyPosition } from "../slot";
import { type Entry, NO_FIELD_DEADLINE, type KeyRow, TYPE_CODES, type ValueType, eachKey, elementExpired } from "../storage";

const TYPE_NAMES = Object.fromEntries(Object.entries(TYPE_CODES).map(([n, c]) => [c, n])) as Record<number, ValueType>;

/** Keys read per storage page while building a snapshot chunk or a digest. */
const PAGE = 256;

/**
 * PSYNC on the master: CONTINUE with the entries after `offset`, or FULLRESYNC, counted in INFO's
 * sync_full, sync_partial_ok and sync_partial_err; `handshake`: a replica's first PSYNC on a link
 * (Redis's PSYNC command), not a pull that follows.
 */
export function psync(engine: Engine, replid: string, offset: number, maxBytes: number, handshake = false): PsyncReply {
  const log = engine.log;
  const stats = engine.stats;
  // As Redis's masterTryPartialResynchronization counts: a handshake that continues is a partial
  // resync; every full resync is one, and a failed partial one when the replica named a history.
  if (!log.canContinue(replid, offset)) {
    stats.syncFull++;
    if (handshake && replid !== "?") stats.syncPartialErr++;
    return { kind: "fullresync", replid: log.replid, offset: log.offset };
  }
  if (handshake) stats.syncPartialOk++;
  return { kind: "continue", replid: log.replid, entries: log.entriesAfter(offset, maxBytes), masterOffset: log.offset };
}

const EMPTY_RUN = new TextEncoder().encode("[]");

/** Keys per snapshot chunk at most (with 100-byte values, about 1.6 MiB of them). */
const CHUNK_KEYS = 16_384;

/**
 * One snapshot chunk on the master: live keys from `cursor` on, about `maxBytes` of them, read in
 * one synchronous step and stamped with the current offset. The strings of the chunk are packed by
 * the storage (a run of the table read and packed in SQL); each collection goes with its elements,
 * and a large one may span chunks (the next chunk goes on with its elements, and the chunk's
 * strings stop at it).
 */
export function snapshotChunk(engine: Engine, cursor: SnapshotCursor, maxBytes: number): SnapshotChunk {
  const chunk = keysChunk(engine, cursor, maxBytes);
  // The first chunk carries the function libraries too, as they are at its offset.
  const first = cursor.slot === START.slot && cursor.key === START.key && cursor.field === START.field;
  return first ? { ...chunk, functions: engine.functions.codes() } : chunk;
}

function keysChunk(engine: Engine, cursor: SnapshotCursor, maxBytes: number): SnapshotChunk {
  const keys = engine.storage.keys;
  const snapshot = engine.storage.snapshot;
  const now = engine.options.clock.now();
  const rows: SnapshotChunk["rows"][number][] = [];
  const elements: SnapshotChunk["elements"][number][] = [];
  const offset = engine.log.offset;
  const none = { packed: EMPTY_RUN, count: 0, bytes: 0 };
  let size = 0;
  /** Adds the elements of `key` after `field`; the field to go on from when the chunk is full, else null. */
  const addElements = (key: string, eid: number, field: string | null): string | null => {
    // A paged string's elements are 64 KiB pages: read a few at a time, not 256 (16 MiB).
    const limit = eid < 0 ? 4 : PAGE;
    for (let after = field; ; ) {
      const page = engine.storage.elements.page(eid, after, limit);
      for (const [i, el] of page.entries()) {
        elements.push(el.expiresAt == null ? { key, field: el.field, value: el.value, score: el.score } : { key, field: el.field, value: el.value, score: el.score, expiresAt: el.expiresAt });
        size += el.field.length + el.value.length + 16;
        if (size >= maxBytes && (i < page.length - 1 || page.length === limit)) return el.field;
      }
      if (page.length < limit) return null;
      after = page[page.length - 1]!.field;
    }
  };
  const live = (e: Entry) => e.expiresAt === null || e.expiresAt > now;
  if (cursor.field !== null && cursor.key !== null) {
    // The same collection: the key may have been deleted and written again since.
    const e = keys.get(cursor.key);
    if (e?.eid !== undefined && e.eid === cursor.eid && live(e)) {
      const more = addElements(cursor.key, e.eid, cursor.field);
      if (more !== null) return { strings: none, rows, elements, next: { ...cursor, field: more }, offset };
    }
  }
  const end = snapshot.runEnd(cursor.slot, cursor.key, Math.max(1, maxBytes - size), CHUNK_KEYS);
  if (end === null) return { strings: none, rows, elements, next: null, offset };
  let last: KeyPosition = end;
  let next: SnapshotCursor = { slot: end.slot, key: end.key, field: null };
  for (const row of snapshot.collectionsUntil(cursor.slot, cursor.key, end)) {
    const e = row.entry;
    if (!live(e)) continue;
    const header = { key: row.key, type: TYPE_CODES[e.type], value: e.value, expiresAt: e.expiresAt, count: e.count ?? 0 };
    rows.push(e.fieldsExpireAt === undefined ? header : { ...header, fieldsExpireAt: e.fieldsExpireAt });
    size += row.key.length + 16;
    const more = addElements(row.key, e.eid!, null);
    if (more !== null) {
      last = row;
      next = { slot: row.slot, key: row.key, field: more, eid: e.eid! };
      break;
    }
  }
  return { strings: snapshot.packStrings(cursor.slot, cursor.key, last, now), rows, elements, next, offset };
}

/** The live keys (not past their deadline) after position (slot, afterKey), read a page at a time. */
function* liveRows(engine: Engine, slot: number, afterKey: string | null): Generator<KeyRow> {
  const now = engine.options.clock.now();
  for (let at = slot, after = afterKey; ; ) {
    const page = engine.storage.keys.scan(at, after, PAGE);
    for (const row of page) {
      ({ slot: at, key: after } = row);
      if (row.entry.expiresAt === null || row.entry.expiresAt > now) yield row;
    }
    if (page.length < PAGE) return;
  }
}

/**
 * FULLRESYNC on a replica: an empty keyspace and backlog, the master's (replid, offset), and the
 * node marked as not synced, all at once, so a restart in the middle asks for a full sync again.
 */
export function beginFullSync(engine: Engine, replid: string, offset: number): void {
  engine.transaction(() => {
    engine.storage.keys.clear();
    engine.storage.elements.clear();
    engine.log.adopt(replid, offset);
    engine.keyspace.recount();
    engine.storage.meta.set("synced", 0);
    engine.storage.meta.set("consistent_at", offset);
    engine.storage.meta.set("recount", 1);
  });
}

/** The last snapshot chunk is in: from now on the node continues its history with PSYNC. */
export function endFullSync(engine: Engine): void {
  engine.storage.meta.set("synced", 1);
  recountWhenConsistent(engine);
}

/**
 * What a node's change of role does to its history, in the caller's transaction: a replica made
 * master starts a new history, `replid()` (Redis's shiftReplicationId), under which the old
 * master's replicas continue with a partial sync; a master made replica continues its own
 * history with PSYNC, as a synced replica does.
 */
export function changeRole(engine: Engine, was: Role, now: Role, replid: () => string): void {
  if (was === "slave" && now === "master") engine.log.shiftReplid(replid());
  if (was === "master" && now === "slave") endFullSync(engine);
}

/**
 * A replica's master answered its PSYNC on the history before a promotion with CONTINUE under
 * the new one, `replid`: the replica's history goes on under that replid.
 */
export function followHistory(engine: Engine, replid: string): void {
  engine.transaction(() => engine.log.shiftReplid(replid));
}

/**
 * Once a full-synced replica is consistent, its collections' counts and sizes are made exact, and
 * the dataset's size with them: while its keyspace mixed chunks read at different offsets,
 * replayed element effects could not know them (effects.ts). An emptied collection goes. One
 * pass over the keyspace, once per full sync.
 */
function recountWhenConsistent(engine: Engine): void {
  const meta = engine.storage.meta;
  if (meta.get("recount") !== 1 || engine.log.offset < consistentAt(engine)) return;
  engine.transaction(() => {
    const { keys } = engine.storage;
    for (const { key, entry } of eachKey(keys, PAGE, true)) {
      if (entry.eid === undefined) continue;
      const { count, bytes } = engine.keyspace.measureCollection(entry.eid);
      // An emptied stream stays (a stream goes only by DEL, as in Redis).
      if (count === 0 && entry.type !== "stream") keys.delete(key);
      else if (count !== entry.count || bytes !== entry.bytes) keys.put(key, { ...entry, count, bytes });
      // Chunks are not settled as they come (a collection spanning them would be indexed again each time).
      if (count > 0 && entry.type !== "stream") engine.storage.indexes.order.settle(entry.eid, count, entry.type === "zset" || entry.type === "list");
    }
    meta.set("recount", 0);
    engine.keyspace.recount();
  });
}

/** The replica's keyspace cannot continue its history: its next PSYNC asks for a full sync. */
export function forgetSync(engine: Engine): void {
  engine.storage.meta.set("synced", 0);
}

/** True once a replica holds a whole snapshot of its master's history (it may PSYNC with it). */
export function hasSynced(engine: Engine): boolean {
  return engine.storage.meta.get("synced") === 1;
}

/**
 * Stores one snapshot chunk on a replica, each key stamped with the chunk's offset. The keyspace
 * mixes chunks read at different offsets until the stream has been applied up to the newest
 * chunk's: `consistentAt` says from which offset on it may serve reads. Chunks come in the
 * keyspace's (slot, key) order, so a key is in one chunk only (a key deleted and written again
 * keeps its position, which the snapshot has passed): the packed strings are inserted as they are,
 * by the storage, in one statement, without reading anything first.
 */
export function loadChunk(engine: Engine, chunk: SnapshotChunk): void {
  engine.transaction(() => {
    engine.storage.meta.set("consistent_at", chunk.offset);
    if (chunk.functions) engine.functions.replaceAll(chunk.functions);
    engine.keyspace.loadPacked(chunk.strings, chunk.offset);
    const change = engine.keyspace.begin(engine.options.clock.now(), engine.role, engine.log.offset);
    for (const r of chunk.rows) {
      const type = TYPE_NAMES[r.type]!;
      // A paged string (keyspace/page-layout.ts) comes as a header and its pages, raw-encoded.
      const eid = change.newEidFor(type);
      const header: Entry = { type, value: r.value, expiresAt: r.expiresAt, eid, count: r.count ?? 0, ...(type === "string" ? { encoding: "raw" as const } : {}) };
      change.writeAsTold(r.key, r.fieldsExpireAt === undefined ? header : { ...header, fieldsExpireAt: r.fieldsExpireAt }, chunk.offset);
    }
    for (const el of chunk.elements) {
      const header = change.peek(el.key);
      if (header?.eid === undefined) throw new Error(`replication: snapshot element of ${el.key}, which is not a collection here`);
      // Not read first (a row read per element): the size is made exact by the recount once consistent.
      const element = { value: el.value, score: el.score, mod: chunk.offset };
      change.setElement(header.eid, el.field, el.expiresAt === undefined ? element : { ...element, expiresAt: el.expiresAt }, null);
      // A deadline set after the header's chunk was read comes with its field: the bound follows.
      if (el.expiresAt !== undefined && el.expiresAt < (header.fieldsExpireAt ?? NO_FIELD_DEADLINE))
        change.writeAsTold(el.key, { ...header, fieldsExpireAt: el.expiresAt }, header.mod ?? chunk.offset);
    }
    engine.keyspace.commit(change, null, false);
  });
}

/**
 * Applies master entries on a replica, in order, each MULTI group at once, skipping what it
 * already has. Each effect is applied with its own end offset (not its group's), so a FLUSHALL
 * inside a group removes the writes before it in the group and not those after it. Entries that
 * end a batch inside a group are left for the next batch.
 * @returns false when the entries do not continue this node's stream (a gap): resync.
 */
export function applyEntries(engine: Engine, entries: readonly LogEntry[]): boolean {
  const log = engine.log;
  let i = 0;
  while (i < entries.length && entries[i]!.offset < log.offset) i++; // duplicates
  if (i === entries.length) return true;
  if (entries[i]!.offset !== log.offset) return false;
  engine.transaction(() => applyGroups(engine, entries, i, true));
  recountWhenConsistent(engine);
  return true;
}

/**
 * Applies the whole groups of `entries` from `i` on, in the caller's storage transaction, each in
 * a change of its own; with `append`, adds them to the log (a replica's stream), else not (the
 * log's own entries, replayed). Effects up to the consistent offset, and all of them until the
 * counts are recounted, apply as a full sync's may (see protocol.ts).
 */
function applyGroups(engine: Engine, entries: readonly LogEntry[], i: number, append: boolean): void {
  // A master replaying its own log applies it as it ran: never as a full sync's (its `consistent_at`
  // and `recount` may be left over from when it was a replica).
  const asSync = append || engine.role === "slave";
  const consistent = asSync ? consistentAt(engine) : -1;
  // Counts are exact only once recounted (after the batch that reaches `consistent`): until then
  // no effect may trust a count to delete an emptied collection, even one past `consistent`.
  const recountPending = asSync && engine.storage.meta.get("recount") === 1;
  // As a replica applies the stream: a key found expired is kept (the master's DEL comes in the log).
  const role = append ? engine.role : "slave";
  let change: Change;
  // FLUSHALL commits the group's change so far, deletes what was written before it, and goes on in a new one.
  const host: EffectHost = {
    flush: (at) => {
      engine.keyspace.commit(change, null);
      engine.keyspace.deleteWrittenBefore(at);
      change = engine.keyspace.begin(engine.options.clock.now(), role, engine.log.offset);
    },
    functions: (c) => engine.functions.apply(c),
  };
  while (i < entries.length) {
    const group = groupEnd(entries, i);
    if (group === null) break;
    change = engine.keyspace.begin(engine.options.clock.now(), role, engine.log.offset);
    for (let j = i; j < group; j++) {
      const { offset, frame } = entries[j]!;
      const at = offset + frame.length;
      applyDecoded(decodeEffect(frame), change, host, at, recountPending || at <= consistent);
    }
    engine.keyspace.commit(change, null);
    if (append) engine.log.appendVerbatim(entries.slice(i, group));
    i = group;
  }
}

/**
 * After a restart: applies the log's entries from the storage's `replayFrom` on, the writes it
 * had kept in memory (see `Storage.replayFrom`), so the keyspace is what it was before the restart.
 * The storage keeps the log from there; the replay stores every key at its end.
 */
export function replayDeferred(engine: Engine): void {
  const from = engine.storage.replayFrom;
  if (from === null) return;
  const log = engine.log;
  if (!log.canContinue(log.replid, from)) throw new Error(`storage: the keyspace needs the log from ${from}, which it does not hold`);
  const entries = log.entriesAfter(from, Number.MAX_SAFE_INTEGER);
  engine.transaction(() => {
    applyGroups(engine, entries, 0, false);
    engine.storage.storeDeferred();
  });
}

/**
 * A digest of the logical keyspace (keys, types, values, deadlines; logically expired keys are
 * absent) and the function libraries, equal on any two nodes that hold the same data whatever
 * their storage order: the XOR of a SHA-1 per key (as Redis's DEBUG DIGEST) and per library.
 * Reads the keyspace in pages.
 */
export function digest(engine: Engine): string {
  const acc = new Uint8Array(20);
  let any = false;
  const now = engine.options.clock.now();
  for (const { key, entry: e } of liveRows(engine, 0, null)) {
    // Names as their bytes (a binary string hashed as a string would be its UTF-8).
    const hash = createHash("sha1")
      .update(toBytes(key))
      .update("\0")
      .update(e.type)
      .update("\0")
      .update(e.value)
      .update(`\0${e.expiresAt ?? -1}`);
    // A collection's elements in field order (the same on every node: byte order).
    if (e.eid !== undefined)
      for (let after: string | null = null; ; ) {
        const page = engine.storage.elements.page(e.eid, after, PAGE);
        for (const el of page) {
          // A field past its deadline is gone (the master's HDEL may still be on its way).
          if (elementExpired(el, now)) continue;
          hash.update("\0").update(toBytes(el.field)).update("\0").update(el.value).update(`\0${el.score ?? ""}`);
          if (el.expiresAt != null) hash.update(`\0${el.expiresAt}`);
        }
        if (page.length < PAGE) break;
        after = page[page.length - 1]!.field;
      }
    const h = hash.digest();
    for (let i = 0; i < 20; i++) acc[i]! ^= h[i]!;
    any = true;
  }
  for (const code of engine.functions.codes()) {
    const h = createHash("sha1").update("\0function\0").update(toBytes(code)).digest();
    for (let i = 0; i < 20; i++) acc[i]! ^= h[i]!;
    any = true;
  }
  return any ? [...acc].map((b) => b.toString(16).padStart(2, "0")).join("") : "0".repeat(40);
}

/**
 * The offset from which a replica's keyspace is consistent: the newest snapshot chunk's offset
 * after a full sync (0 for a node that never full-synced). Below it, reads could see half of a
 * MULTI, an MSET or a RENAME: the replica answers LOADING.
 */
export function consistentAt(engine: Engine): number {
  return Number(engine.storage.meta.get("consistent_at") ?? 0);
}
