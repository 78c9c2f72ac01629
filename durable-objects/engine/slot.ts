/**
 * A key's slot: its Redis Cluster hash slot (CRC16 of its name or of its `{hash tag}`, 14 bits)
 * followed by 38 bits of a hash of its name, the first half of its storage position (slot, key).
 *
 * The keyspace is stored in (slot, key) order, one B-tree and no second index, so a write of a
 * key is one row written (rows written are what a write costs). The order serves four readers:
 * - SCAN: the cursor is a slot (a safe integer, as clients parse Redis's cursors), and a page
 *   ends on a whole slot, so a key present for the whole iteration is returned exactly once;
 * - a full sync: the master reads chunks in this order and the replica inserts them in the same
 *   order, at the end of its B-tree (no page splits in the middle of it), in time linear in the
 *   keyspace;
 * - a cluster's slots (sharding): the keys of one hash slot, or of a range of them, are one range
 *   of positions (CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT, a slot's move to another shard);
 * - random sampling (eviction, RANDOMKEY): a random point between the first and the last key is
 *   a uniformly random point of the keys of the slots held.
 * A key's slot depends on its name only, so every node of a deployment agrees on it.
 */

/** Slots are in [0, SLOTS): 2^52, so a slot + 1 is still a safe integer. */
export const SLOTS = 2 ** 52;

/** Redis Cluster's hash slots. */
export const HASH_SLOTS = 16_384;

/** A storage slot is a hash slot times this, plus 38 bits of the key's own hash. */
export const SLOT_SPAN = SLOTS / HASH_SLOTS;

/** CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), Redis Cluster's key hash, by table. */
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

function crc16(s: string, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >>> 8) ^ s.charCodeAt(i)) & 0xff]!;
  return crc;
}

/**
 * The Redis Cluster hash slot of `key` (a binary string): CRC16 of the part between its first `{`
 * and the first `}` after it when that part is not empty (the hash tag), else of the whole name,
 * modulo 16384, as Redis's `keyHashSlot`.
 */
export function hashSlot(key: string): number {
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) return crc16(key, open + 1, close) & (HASH_SLOTS - 1);
  }
  return crc16(key, 0, key.length) & (HASH_SLOTS - 1);
}

/** The slot of `key`: its hash slot, then two 32-bit multiplicative hashes of its bytes, mixed (cyrb53's scheme), 38 bits of them. */
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
  return hashSlot(key) * SLOT_SPAN + (h2 & 0x3f) * 2 ** 32 + (h1 >>> 0);
}

/** The hash slot a storage slot (or a SCAN cursor) lies in. */
export const hashSlotAt = (slot: number): number => Math.floor(slot / SLOT_SPAN);

/** The storage slots [from, to) of the hash slot that holds storage slot `slot`. */
export function hashSlotSpan(slot: number): [number, number] {
  const from = hashSlotAt(slot) * SLOT_SPAN;
  return [from, from + SLOT_SPAN];
}

/** The point `r` (in [0, 1)) of the way from `low` to `high`, both included. */
export const randomPoint = (low: number, high: number, r: number): number => low + Math.min(Math.floor(r * (high - low + 1)), high - low);

/** A key's storage position. */
export interface KeyPosition {
  readonly slot: number;
  readonly key: string;
}
