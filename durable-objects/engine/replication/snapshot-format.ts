/**
 * What a full sync reads and writes of the keyspace (sync.ts): runs of keys in (slot, key) order,
 * their collections' headers, and their strings packed by the storage itself.
 */
import { type Bytes, fromBytes, toBytes } from "../bytes";
import { ENCODING_CODES, type Entry, type KeyRow, encodingNamed } from "../storage";
import type { KeyPosition } from "../slot";

/**
 * String keys as a full sync ships them: the UTF-8 bytes of a JSON array of `[slot, key, value,
 * expiresAt, encoding]`, the key's bytes and the value in hex (any bytes, NUL included),
 * expiresAt null for none, encoding as ENCODING_CODES (Entry.encoding; 0 or absent: none). Both ends are SQLite's own JSON and hex functions, so a million keys cross
 * without a million objects; bytes rather than a string, so no chunk is a string on the heap.
 */
export type PackedStrings = Bytes;

/** Packs string keys (MemoryStorage; SQLite packs in SQL). */
export function packStrings(rows: readonly KeyRow[]): PackedStrings {
  return toBytes(JSON.stringify(rows.map((r) => [r.slot, toHex(toBytes(r.key)), toHex(r.entry.value), r.entry.expiresAt, r.entry.encoding ? ENCODING_CODES[r.entry.encoding] : 0])));
}

/** Unpacks string keys, each stamped with `mod`. */
export function unpackStrings(packed: PackedStrings, mod: number): { key: string; entry: Entry }[] {
  return (JSON.parse(fromBytes(packed)) as [number, string, string, number | null, number?][]).map(([, key, value, expiresAt, code]) => {
    const encoding = encodingNamed(code);
    const entry: Entry = { type: "string", value: fromHex(value), expiresAt, mod };
    return { key: fromBytes(fromHex(key)), entry: encoding ? { ...entry, encoding } : entry };
  });
}

/** Bytes in hex (upper case, as SQLite's hex() writes them; its unhex() reads them back). */
export const toHex = (b: Bytes): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();
const fromHex = (h: string): Bytes => Uint8Array.from({ length: h.length / 2 }, (_, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16));

/** The storage's side of a full sync (Storage.snapshot). */
export interface SnapshotStore {
  /**
   * A full sync's next run of keys after position (slot, afterKey) (key null: from the first):
   * the position of its last key, the run holding about `maxBytes` of names and values and at
   * most `maxKeys` keys; null when no key follows.
   */
  runEnd(slot: number, afterKey: string | null, maxBytes: number, maxKeys: number): KeyPosition | null;
  /** The collections (their headers) after (slot, afterKey) up to and with position `end`, in order. */
  collectionsUntil(slot: number, afterKey: string | null, end: KeyPosition): KeyRow[];
  /**
   * The strings after (slot, afterKey) up to and with `end` that are live at `now`, packed as a
   * full sync ships them (`PackedStrings`), with how many there are and their names' and
   * values' bytes. The storage packs them itself: no row becomes an object on the way.
   */
  packStrings(slot: number, afterKey: string | null, end: KeyPosition, now: number): { packed: PackedStrings; count: number; bytes: number };
  /** Stores packed strings (new keys, or replacing those of the same names), each stamped with `mod`. */
  loadPacked(packed: PackedStrings, mod: number): void;
}
