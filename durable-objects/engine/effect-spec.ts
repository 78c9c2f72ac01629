/**
 * The shape of a replicated effect (effects.ts has the keyspace's own, each type module its own),
 * and what element-level effects share.
 */
import type { Bytes } from "./bytes";
import type { Change } from "./keyspace";
import type { ElementRow, Entry, ValueType } from "./storage";

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

/** Splits elements into batches of about `maxBytes` (a collection written whole, as several effects). */
export function batches<T extends ElementRow>(elements: readonly T[], maxBytes: number): T[][] {
  const out: T[][] = [];
  let batch: T[] = [];
  let size = 0;
  for (const el of elements) {
    batch.push(el);
    size += el.field.length + el.value.length;
    if (size >= maxBytes) {
      out.push(batch);
      batch = [];
      size = 0;
    }
  }
  if (batch.length > 0) out.push(batch);
  return out;
}
