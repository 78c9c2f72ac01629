/**
 * A replicated effect, declared once (`defineEffect`): its name, how the master encodes it, how a
 * replica decodes it, how it is applied, and an example of its arguments. A command changes a key
 * only by applying an effect (`Change.apply`), which records `effect.of(key, args)`; a replica
 * decodes each frame once into the same arguments and applies them with the same `apply`
 * (replication/effects.ts holds the table; each type module declares its own effects,
 * types/<type>/effects.ts; the rules of applying are in effects.ts).
 */
import { type Bytes, fromBytes } from "../bytes";
import type { Change, Effect } from "../keyspace";
import type { Element, Entry, ValueType } from "../storage";

/** One argument of an effect's frame. */
export type EffectArg = string | Bytes;

interface Declared<A> {
  /** The frame's first word, upper case. */
  readonly name: string;
  /** The effect's arguments after its key (or after its name, for a global effect). */
  encode(args: A): EffectArg[];
  /**
   * The arguments back from a frame.
   * @throws Error for arguments this code never writes (a newer master: the replica resyncs)
   */
  decode(args: readonly Bytes[]): A;
  /** Arguments to try it with: the effects' shared test encodes, decodes and applies them (test/replication/effects.test.ts). */
  readonly example: A;
  /**
   * The rows a replica writes applying `example` to a keyspace without the key, its log's row
   * aside, as SQLite counts them (an index's entry is a row; a new collection's element id
   * reservation, a meta row once per 1,024 collections, is counted too): what the effect costs on
   * each replica at Cloudflare's price per row written. Checked by test/replication/effect-rows.test.ts.
   */
  readonly rows: number;
}

/** An effect on one key. */
export interface KeyEffectDefinition<A> extends Declared<A> {
  /**
   * "key": applied only where the key does not already reflect it (its `mod` is below the
   * effect's end offset); "element": judged element by element (a collection's HSET, HDEL...),
   * by each element's own `mod`.
   */
  readonly scope: "key" | "element";
  /**
   * Encoded arguments per element (HSET: field value, 2; SREM: member, 1): a large effect is
   * logged as several of the same, each of a bounded size (effects.ts `splitEffect`).
   */
  readonly group?: number;
  /** Keys it writes besides its own (RENAME's and COPY's destination): WATCH's check. */
  alsoWrites?(args: A): string[];
  /**
   * Applies the effect ending at offset `at` to `key`, whose record is `current` (or null): on the
   * master that made it (at an offset past every stored one) and on every replica.
   */
  apply(change: Change, key: string, args: A, at: number, current: Entry | null, fuzzy: boolean): void;
}

export interface KeyEffect<A> extends KeyEffectDefinition<A> {
  readonly kind: "key";
  /** The effect's frame for `key`: `NAME key ...encode(args)`. */
  of(key: string, args: A): Effect;
}

/** What a global effect changes: the node's whole keyspace, its function libraries. */
export interface EffectHost {
  /** Deletes every key last written before offset `at` (a FLUSHALL ending there). */
  flush(at: number): void;
  /** Applies a change of the function libraries. */
  functions(change: FunctionChange): void;
}

/** A change of the function libraries as the master logs it (scripting/functions.ts). */
export type FunctionChange = { readonly op: "flush" } | { readonly op: "delete"; readonly name: string } | { readonly op: "load"; readonly code: string };

/** An effect that is not about one key (FLUSHALL, FUNCTION). */
export interface GlobalEffectDefinition<A> extends Declared<A> {
  /** Every key is written by it (FLUSHALL), or none (FUNCTION): WATCH's check. */
  readonly writesEveryKey: boolean;
  apply(host: EffectHost, args: A, at: number): void;
}

export interface GlobalEffect<A> extends GlobalEffectDefinition<A> {
  readonly kind: "global";
  of(args: A): Effect;
}

export type AnyEffect = KeyEffect<any> | GlobalEffect<any>;

/** An effect on a key with its arguments, to apply (`Change.apply`): how a value is written whole (TypeModule.restore). */
export interface EffectCall<A = any> {
  readonly effect: KeyEffect<A>;
  readonly args: A;
}

export const call = <A>(effect: KeyEffect<A>, args: A): EffectCall<A> => ({ effect, args });

export function defineEffect<A>(definition: KeyEffectDefinition<A>): KeyEffect<A> {
  return { ...definition, kind: "key", of: (key, args) => [definition.name, key, ...definition.encode(args)] };
}

export function defineGlobalEffect<A>(definition: GlobalEffectDefinition<A>): GlobalEffect<A> {
  return { ...definition, kind: "global", of: (args) => [definition.name, ...definition.encode(args)] };
}

export const EMPTY = new Uint8Array(0);

/** An effect's arguments taken two at a time (HSET's field value, ZADD's score member...), each pair made into a T. */
export const pairsOf = <T>(args: readonly Bytes[], make: (first: Bytes, second: Bytes) => T): T[] =>
  Array.from({ length: Math.floor(args.length / 2) }, (_, i) => make(args[2 * i]!, args[2 * i + 1]!));

/**
 * The effect cannot be applied to a keyspace that mixes snapshot chunks (a RENAME, COPY or set
 * algebra logged as itself while this replica loaded a full sync the master did not know of): the
 * replica must full-sync again rather than diverge.
 */
export class FullSyncNeeded extends Error {
  override readonly name = "FullSyncNeeded";
}

/**
 * The collection of `type` at `key` as an element-level effect at `at` finds it: created when
 * missing; null when the record there is another type read after `at` (the effect is then
 * already overtaken); another type read before `at` is replaced.
 */
export function collectionFor(change: Change, key: string, type: Exclude<ValueType, "string">, current: Entry | null, at: number): Entry | null {
  if (current !== null && current.type === type && current.eid !== undefined) return current;
  if (current !== null) {
    if ((current.mod ?? 0) >= at) return null;
    if (current.eid !== undefined) change.dropElements(current.eid);
  }
  return { type, value: EMPTY, expiresAt: null, eid: change.newEid(), count: 0, mod: 0 };
}

/**
 * An element-level effect that writes elements (HSET, SADD, ZADD): the collection of `type` at
 * `key` (see `collectionFor`) gets each element unless it already holds a newer write of it.
 */
export function putElements(
  change: Change,
  key: string,
  type: Exclude<ValueType, "string">,
  current: Entry | null,
  at: number,
  elements: Iterable<readonly [string, Element]>,
): void {
  const header = collectionFor(change, key, type, current, at);
  if (header === null) return;
  let count = header.count ?? 0;
  for (const [field, element] of elements) {
    const before = change.element(header.eid!, field);
    if (before !== null && (before.mod ?? 0) >= at) continue;
    if (before === null) count++;
    change.setElement(header.eid!, field, { ...element, mod: at }, before);
  }
  change.writeAsTold(key, { ...header, count }, Math.max(header.mod ?? 0, at));
}

/**
 * An element-level effect that removes elements (HDEL, SREM, ZREM, a stream's XREM): each unless
 * it was written after `at`; an emptied collection goes, but only where counts are exact (not
 * `fuzzy`) and its type goes when emptied (`keepsEmpty` false; a stream stays, as in Redis).
 */
export function removeElements(
  change: Change,
  key: string,
  type: Exclude<ValueType, "string">,
  current: Entry | null,
  at: number,
  fuzzy: boolean,
  fields: Iterable<string>,
  keepsEmpty = false,
): void {
  if (current === null || current.type !== type || current.eid === undefined) return;
  let count = current.count ?? 0;
  for (const field of fields) {
    const before = change.element(current.eid, field);
    if (before === null || (before.mod ?? 0) >= at) continue;
    change.setElement(current.eid, field, null, before);
    count--;
  }
  if (count <= 0 && !fuzzy && !keepsEmpty) {
    change.dropElements(current.eid);
    change.writeAsTold(key, null, at);
  } else change.writeAsTold(key, { ...current, count: Math.max(count, 0) }, Math.max(current.mod ?? 0, at));
}

/** Field-value pairs as an effect carries them (HSET's, XPUT's): `field value [field value ...]`. */
export const fieldValues = {
  encode: (pairs: readonly (readonly [string, Bytes])[]): EffectArg[] => pairs.flatMap(([f, v]) => [f, v]),
  decode: (args: readonly Bytes[]): (readonly [string, Bytes])[] => pairsOf(args, (field, value) => [fromBytes(field), value] as const),
};

/** Fields or members as an effect carries them (HDEL's, SREM's...). */
export const fieldNames = {
  encode: (fields: readonly string[]): EffectArg[] => [...fields],
  decode: (args: readonly Bytes[]): string[] => args.map(fromBytes),
};

/** A number an effect carries (a deadline, an offset). */
export const numberArg = (b: Bytes): number => Number(fromBytes(b));

/**
 * `NAME key field value [field value ...]`: each field's value written into the collection of
 * `type` (HSET; a stream's XPUT), as `putElements` judges them; logged in pieces of field-value pairs.
 */
export const fieldValueEffect = (name: string, rows: number, type: Exclude<ValueType, "string">, example: readonly (readonly [string, Bytes])[]): KeyEffect<readonly (readonly [string, Bytes])[]> =>
  defineEffect({
    name,
    rows,
    scope: "element",
    group: 2,
    ...fieldValues,
    example,
    apply: (change, key, pairs, at, current) => putElements(change, key, type, current, at, pairs.map(([field, value]) => [field, { value, score: null }] as const)),
  });
