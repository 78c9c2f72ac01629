/**
 * A key's slot: a 52-bit hash of its name, the first half of its storage position (slot, key).
 *
 * The keyspace is stored in (slot, key) order, one B-tree and no second index, so a write of a
 * key is one row written (rows written are what a write costs). The order serves three readers:
 * - SCAN: the cursor is a slot (a safe integer, as clients parse Redis's cursors), and a page
 *   ends on a whole slot, so a key present for the whole iteration is returned exactly once;
 * - a full sync: the master reads chunks in this order and the replica inserts them in the same
 *   order, at the end of its B-tree (no page splits in the middle of it), in time linear in the
 *   keyspace;
 * - random sampling (eviction, RANDOMKEY): a random slot is a uniformly random point of the keys.
 * A key's slot depends on its name only, so every node of a deployment agrees on it.
 */

/** Slots are in [0, SLOTS): 2^52, so a slot + 1 is still a safe integer. */
export const SLOTS = 2 ** 52;

/** The slot of `key`: two 32-bit multiplicative hashes of its UTF-16 code units, mixed (cyrb53's scheme), 52 bits of them. */
export function slotOf(key: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 & 0xfffff) * 2 ** 32 + (h1 >>> 0);
}

/** A key's storage position. */
export interface KeyPosition {
  readonly slot: number;
  readonly key: string;
}
