/**
 * The dataset's memory estimate (INFO `used_memory`, MEMORY USAGE, what `maxmemory` bounds), per
 * key: the key's bytes, its value's bytes and an overhead, as Redis counts a dictEntry, robj and
 * SDS headers; a collection counts the sum over its elements instead of a value (each element its
 * field, its value and an overhead). The same rule on every node, applied to the same effects,
 * gives the same figure: a replica's estimate equals its master's.
 *
 * A collection's header carries `bytes`, the sum over its elements, kept by `Change.setElement`
 * from each element's size before and after (no type module computes it), so neither a write nor
 * a DEL ever reads a collection whole to know its size.
 */
import type { Element, Entry } from "./storage";

/** Per-key overhead (dictEntry, robj, SDS headers), roughly Redis's. */
export const KEY_OVERHEAD = 56;
/** Per-element overhead of a collection (its node, its SDS headers, a score). */
export const ELEMENT_OVERHEAD = 24;

/** The estimated bytes of `key` holding `e` (0 for none). */
export function keySize(key: string, e: Entry | null): number {
  if (e === null) return 0;
  return KEY_OVERHEAD + key.length + (e.eid === undefined ? e.value.length : (e.bytes ?? 0));
}

/** The estimated bytes of one element of a collection (0 for none). */
export function elementSize(field: string, e: Element | null): number {
  return e === null ? 0 : ELEMENT_OVERHEAD + field.length + e.value.length;
}

/** The dataset's size from the storage's sums (see `KeyStore.measure`, `ElementStore.measure`). */
export const datasetSize = (m: { count: number; bytes: number }, overhead: number) => m.count * overhead + m.bytes;
