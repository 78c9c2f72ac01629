/**
 * The shape of a replicated effect (effects.ts has the keyspace's own, each type module its own),
 * and what element-level effects share.
 */
import { type Bytes, fromBytes } from "./bytes";
import type { Change } from "./keyspace";
import type { Element, Entry, ValueType } from "./storage";

export interface EffectSpec {
  readonly name: string;
  /** Judged per element (the key's own `mod` does not decide). */
  readonly elementLevel?: boolean;
  /**
   * Arguments per element after the key (HSET: field value, 2; SREM: member, 1): a large effect is
   * logged as several of the same, each of a bounded size (effects.ts `splitEffect`).
   */
  readonly group?: number;
  /** Applies the effect's arguments (after the key) to `current`, the key's entry or null. */
  apply(change: Change, key: string, args: readonly Bytes[], at: number, current: Entry | null, fuzzy: boolean): void;
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
 * An element-level effect that removes elements (HDEL, SREM, ZREM): each unless it was written
 * after `at`; an emptied collection goes, but only where counts are exact (not `fuzzy`).
 */
export function removeElements(
  change: Change,
  key: string,
  type: Exclude<ValueType, "string">,
  current: Entry | null,
  at: number,
  fuzzy: boolean,
  fields: Iterable<string>,
): void {
  if (current === null || current.type !== type || current.eid === undefined) return;
  let count = current.count ?? 0;
  for (const field of fields) {
    const before = change.element(current.eid, field);
    if (before === null || (before.mod ?? 0) >= at) continue;
    change.setElement(current.eid, field, null, before);
    count--;
  }
  if (count <= 0 && !fuzzy) {
    change.dropElements(current.eid);
    change.writeAsTold(key, null, at);
  } else change.writeAsTold(key, { ...current, count: Math.max(count, 0) }, Math.max(current.mod ?? 0, at));
}

/**
 * `NAME key field value [field value ...]`: each field's value written into the collection of
 * `type` (HSET; a stream's XPUT), as `putElements` judges them; logged in pieces of field-value pairs.
 */
export const fieldValueEffect = (name: string, type: Exclude<ValueType, "string">): EffectSpec => ({
  name,
  group: 2,
  elementLevel: true,
  apply: (change, key, args, at, current) => putElements(change, key, type, current, at, pairsOf(args, (field, value) => [fromBytes(field), { value, score: null }] as const)),
});