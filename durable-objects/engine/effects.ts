/**
 * The replicated effects, each declared once: how the master records it (`encode`, called by the
 * keyspace overlay when a command changes a key) and how a replica applies it (`apply`). Effects
 * are deterministic and small: what happened, not the command that asked for it (INCR is logged
 * as the SET of its result, EXPIRE as PEXPIREAT), and no larger than the change where that is
 * deterministic (APPEND as APPEND, SETRANGE as SETRANGE, never the whole resulting value).
 *
 * A key-level effect's `apply` runs only when the key does not already reflect the effect (its
 * `mod` is below the effect's end offset `at`; see replication.ts) and stamps what it writes with
 * `at`. An element-level effect (a collection's HSET, HDEL...) is judged element by element, by
 * each element's own `mod`: one collection may span snapshot chunks read at different offsets.
 * While `fuzzy` (the replica's keyspace mixes chunks read after `at`), a collection's count may be
 * off and is not trusted to delete it; the replica recounts once consistent (sync.ts).
 */
import { type Bytes, fromBytes } from "./bytes";
import { type EffectSpec, FullSyncNeeded } from "./effect-spec";
import type { Change, Effect } from "./keyspace";
import type { ElementRow, Entry, StringEncoding } from "./storage";
import { TYPES, typeNamed } from "./types";
import { storeSpec } from "./types/algebra";
import { PAGE_BYTES, pageNumber } from "./keyspace/page-layout";



const integer = (b: Bytes) => Number(fromBytes(b));

/**
 * SET key value [PXAT ms] [ENCODING raw|text]: the whole value (SET, INCR's result, MSET,
 * RENAME's destination...). ENCODING is Flaredis's own: the string's Entry.encoding, so that
 * OBJECT ENCODING answers on a replica as on the master (INCRBYFLOAT's result is text).
 */
const set: EffectSpec = {
  name: "SET",
  apply: (change, key, [value, ...options], at, current) => {
    let expiresAt: number | null = null;
    let encoding: StringEncoding | undefined;
    for (let i = 0; i + 1 < options.length; i += 2) {
      const name = fromBytes(options[i]!);
      if (name === "PXAT") expiresAt = integer(options[i + 1]!);
      else if (name === "ENCODING") encoding = fromBytes(options[i + 1]!) === "raw" ? "raw" : "text";
    }
    change.setStringAsTold(key, value!, expiresAt, encoding, at);
  },
};

/**
 * DEL key. A key whose record was read after `at` (a later incarnation) stays; while fuzzy, its
 * elements written before `at` (replayed from before the deletion) go.
 */
const del: EffectSpec = {
  name: "DEL",
  elementLevel: true,
  apply: (change, key, _args, at, current, fuzzy) => {
    if (current === null) return;
    if ((current.mod ?? 0) >= at) {
      if (fuzzy && current.eid !== undefined) change.dropElementsWrittenBefore(current.eid, at);
      return;
    }
    if (current.eid !== undefined) change.dropElements(current.eid);
    change.writeAsTold(key, null, at);
  },
};

export { FullSyncNeeded };

/** RENAME from to (a collection's, when no full sync was in progress): the record moves, with its elements. */
const rename: EffectSpec = {
  name: "RENAME",
  elementLevel: true,
  apply: (change, key, [to], at, current, fuzzy) => {
    if (fuzzy) throw new FullSyncNeeded(`RENAME at ${at} in a keyspace still mixing snapshot chunks`);
    if (current === null || (current.mod ?? 0) >= at) return;
    const dest = fromBytes(to!);
    const replaced = change.peek(dest);
    if (replaced?.eid !== undefined && replaced.eid !== current.eid) change.dropElements(replaced.eid);
    change.writeAsTold(key, null, at);
    change.writeAsTold(dest, current, at);
  },
};

/** COPY from to (a collection's, when no full sync was in progress): the elements are copied here. */
const copy: EffectSpec = {
  name: "COPY",
  elementLevel: true,
  apply: (change, key, [to], at, current, fuzzy) => {
    if (fuzzy) throw new FullSyncNeeded(`COPY at ${at} in a keyspace still mixing snapshot chunks`);
    if (current === null || (current.mod ?? 0) >= at) return;
    const dest = fromBytes(to!);
    const replaced = change.peek(dest);
    if (replaced?.eid !== undefined) change.dropElements(replaced.eid);
    if (current.eid === undefined) {
      change.writeAsTold(dest, current, at);
      return;
    }
    change.copyCollection(current, dest, at);
    change.writeAsTold(dest, change.peek(dest), at);
  },
};

const pexpireat: EffectSpec = {
  name: "PEXPIREAT",
  apply: (change, key, [at], stamp, current) => {
    if (current !== null) change.writeAsTold(key, { ...current, expiresAt: integer(at!) }, stamp);
  },
};

const persist: EffectSpec = {
  name: "PERSIST",
  apply: (change, key, _args, at, current) => {
    if (current !== null) change.writeAsTold(key, { ...current, expiresAt: null }, at);
  },
};

/** APPEND key suffix: a missing key starts empty; the deadline stays; an existing string is changed in place (raw). */
const append: EffectSpec = {
  name: "APPEND",
  apply: (change, key, [suffix], at, current) => change.writeStringAsTold(key, current, null, suffix!, at),
};

/** SETRANGE key offset bytes: zero-padded as Redis does; the deadline stays. */
const setrange: EffectSpec = {
  name: "SETRANGE",
  apply: (change, key, [offset, bytes], at, current) => change.writeStringAsTold(key, current, integer(offset!), bytes!, at),
};


/** Every effect: the keyspace's own, then each type's (types/index.ts). */
const SPECS = new Map([set, del, pexpireat, persist, append, setrange, rename, copy, storeSpec, ...TYPES.flatMap((t) => t.effects)].map((s) => [s.name, s]));

/** How the master records each effect (the overlay calls these; the arguments are the effect's). */
export const encode = {
  set: (key: string, value: Bytes, expiresAt: number | null, encoding?: StringEncoding): Effect => [
    "SET",
    key,
    value,
    ...(expiresAt === null ? [] : ["PXAT", String(expiresAt)]),
    ...(encoding ? ["ENCODING", encoding] : []),
  ],
  del: (key: string): Effect => ["DEL", key],
  deadline: (key: string, expiresAt: number | null): Effect =>
    expiresAt === null ? ["PERSIST", key] : ["PEXPIREAT", key, String(expiresAt)],
  append: (key: string, suffix: Bytes): Effect => ["APPEND", key, suffix],
  setrange: (key: string, offset: number, bytes: Bytes): Effect => ["SETRANGE", key, String(offset), bytes],
  flushall: (): Effect => ["FLUSHALL"],
  rename: (from: string, to: string): Effect => ["RENAME", from, to],
  copy: (from: string, to: string): Effect => ["COPY", from, to],
};

/**
 * The effects that write `entry` whole under `key` (RENAME's and COPY's destination during a full
 * sync, when they are not logged as themselves): its value, or its elements (each type's own
 * effect, split into pieces of a bounded size), then its deadline.
 */
export function restoreEffects(key: string, entry: Entry, elements: readonly ElementRow[]): Effect[] {
  if (entry.type === "string" && entry.eid === undefined) return [encode.set(key, entry.value, entry.expiresAt, entry.encoding)];
  const out =
    entry.type === "string"
      ? // A paged string: its stored pages in order (the last one among them), written at their places.
        elements.map((page) => encode.setrange(key, pageNumber(page.field) * PAGE_BYTES, page.value))
      : typeNamed(entry.type).restore(key, elements, entry).flatMap((effect) => splitEffect(effect));
  if (entry.expiresAt !== null) out.push(encode.deadline(key, entry.expiresAt));
  return out;
}

/** Most bytes of one effect of a splittable kind (see `splitEffect`). */
const EFFECT_BYTES = 64 * 1024;

/**
 * A large element-level effect as several of the same kind, each of about EFFECT_BYTES (never
 * splitting an element's arguments): one command's effect then never makes a backlog row near
 * SQLite's 2 MB row limit. Others are returned as they are.
 */
export function splitEffect(effect: Effect, maxBytes = EFFECT_BYTES): Effect[] {
  const [name, key, ...args] = effect;
  const group = SPECS.get(String(name))?.group;
  if (group === undefined) return [effect];
  const size = (a: string | Bytes) => (typeof a === "string" ? a.length * 3 : a.length);
  let total = 0;
  for (const a of args) total += size(a);
  if (total <= maxBytes) return [effect];
  const out: Effect[] = [];
  let batch: (string | Bytes)[] = [];
  let bytes = 0;
  for (let i = 0; i < args.length; i += group) {
    const element = args.slice(i, i + group);
    batch.push(...element);
    for (const a of element) bytes += size(a);
    if (bytes >= maxBytes) {
      out.push([name!, key!, ...batch]);
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) out.push([name!, key!, ...batch]);
  return out;
}

/** True for the effect that empties the keyspace (it is not about one key). */
/** FLUSHALL, in any case (compared as bytes: every effect of the stream is asked). */
export function isFlush(argv: readonly Bytes[]): boolean {
  const name = argv[0]!;
  if (name.length !== FLUSHALL.length) return false;
  for (let i = 0; i < name.length; i++) if ((name[i]! | 0x20) !== FLUSHALL[i]) return false;
  return true;
}
const FLUSHALL = Uint8Array.from("flushall", (c) => c.charCodeAt(0));

/**
 * The keys an effect writes (WATCH's check): its key, and RENAME's and COPY's destination; none
 * for a change of the function libraries; null for FLUSHALL (every key).
 */
export function keysWrittenBy(argv: readonly Bytes[]): string[] | null {
  if (isFlush(argv)) return null;
  if (isFunctionEffect(argv) || argv.length < 2) return [];
  const name = fromBytes(argv[0]!).toUpperCase();
  const keys = [fromBytes(argv[1]!)];
  if ((name === "RENAME" || name === "COPY") && argv[2] !== undefined) keys.push(fromBytes(argv[2]));
  return keys;
}

/** A change of the function libraries (`FUNCTION LOAD REPLACE <code>`, `DELETE`, `FLUSH`): not about one key (scripting/functions.ts applies it). */
export function isFunctionEffect(argv: readonly Bytes[]): boolean {
  return fromBytes(argv[0]!).toUpperCase() === "FUNCTION";
}

/**
 * Applies one keyed effect that ends at offset `at`, unless the key already reflects it
 * (its `mod` >= `at`: it came in a snapshot chunk read at or after `at`).
 * @throws Error for an effect this code does not know (a newer master: the replica resyncs).
 */
export function applyEffect(change: Change, argv: readonly Bytes[], at: number, fuzzy = false): void {
  const spec = SPECS.get(fromBytes(argv[0]!).toUpperCase());
  if (!spec) throw new Error(`replication: unknown effect ${fromBytes(argv[0]!)}`);
  const key = fromBytes(argv[1]!);
  const current = change.peek(key);
  if (!spec.elementLevel && current !== null && (current.mod ?? 0) >= at) return;
  spec.apply(change, key, argv.slice(2), at, current, fuzzy);
}

