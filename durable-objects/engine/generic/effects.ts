/**
 * The keyspace's own replicated effects, about a key whatever its type: DEL, its deadline
 * (PEXPIREAT, PERSIST), RENAME and COPY of a collection, and FLUSHALL (see replication/effects.ts
 * for the rules of applying them).
 */
import { fromBytes } from "../bytes";
import { FullSyncNeeded, defineEffect, defineGlobalEffect, numberArg } from "../replication/effect";

/**
 * DEL key. A key whose record was read after `at` (a later incarnation) stays; while fuzzy, its
 * elements written before `at` (replayed from before the deletion) go.
 */
export const del = defineEffect<null>({
  name: "DEL",
  rows: 0,
  scope: "element",
  encode: () => [],
  decode: () => null,
  example: null,
  apply: (change, key, _args, at, current, fuzzy) => {
    if (current === null) return;
    if ((current.mod ?? 0) >= at) {
      if (fuzzy && current.eid !== undefined) change.dropElementsWrittenBefore(current.eid, at);
      return;
    }
    if (current.eid !== undefined) change.dropElements(current.eid);
    change.writeAsTold(key, null, at);
  },
});

/** PEXPIREAT key ms: the key's deadline (EXPIRE and its kin, SET's EX... when the value stays). */
export const pexpireat = defineEffect<number>({
  name: "PEXPIREAT",
  rows: 0,
  scope: "key",
  encode: (ms) => [String(ms)],
  decode: ([ms]) => numberArg(ms!),
  example: 1_700_000_000_000,
  apply: (change, key, expiresAt, at, current) => {
    if (current !== null) change.writeAsTold(key, { ...current, expiresAt }, at);
  },
});

/** PERSIST key: the key's deadline removed. */
export const persist = defineEffect<null>({
  name: "PERSIST",
  rows: 0,
  scope: "key",
  encode: () => [],
  decode: () => null,
  example: null,
  apply: (change, key, _args, at, current) => {
    if (current !== null) change.writeAsTold(key, { ...current, expiresAt: null }, at);
  },
});

/** RENAME from to (a collection's, when no full sync was in progress): the record moves, with its elements. */
export const rename = defineEffect<string>({
  name: "RENAME",
  rows: 0,
  scope: "element",
  encode: (to) => [to],
  decode: ([to]) => fromBytes(to!),
  alsoWrites: (to) => [to],
  example: "renamed",
  apply: (change, key, dest, at, current, fuzzy) => {
    if (fuzzy) throw new FullSyncNeeded(`RENAME at ${at} in a keyspace still mixing snapshot chunks`);
    if (current === null || (current.mod ?? 0) >= at) return;
    const replaced = change.peek(dest);
    if (replaced?.eid !== undefined && replaced.eid !== current.eid) change.dropElements(replaced.eid);
    change.writeAsTold(key, null, at);
    change.writeAsTold(dest, current, at);
  },
});

/** COPY from to (a collection's, when no full sync was in progress): the elements are copied here. */
export const copy = defineEffect<string>({
  name: "COPY",
  rows: 0,
  scope: "element",
  encode: (to) => [to],
  decode: ([to]) => fromBytes(to!),
  alsoWrites: (to) => [to],
  example: "copied",
  apply: (change, key, dest, at, current, fuzzy) => {
    if (fuzzy) throw new FullSyncNeeded(`COPY at ${at} in a keyspace still mixing snapshot chunks`);
    if (current === null || (current.mod ?? 0) >= at) return;
    const replaced = change.peek(dest);
    if (replaced?.eid !== undefined) change.dropElements(replaced.eid);
    if (current.eid === undefined) {
      change.writeAsTold(dest, current, at);
      return;
    }
    change.copyCollection(current, dest, at);
    change.writeAsTold(dest, change.peek(dest), at);
  },
});

/**
 * FLUSHALL: every key last written before its end offset goes (inside a MULTI group, the writes
 * before it in the group, not those after it).
 */
export const flushall = defineGlobalEffect<null>({
  name: "FLUSHALL",
  rows: 0,
  writesEveryKey: true,
  encode: () => [],
  decode: () => null,
  example: null,
  apply: (host, _args, at) => host.flush(at),
});

export const genericEffects = [del, pexpireat, persist, rename, copy];
