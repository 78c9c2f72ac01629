/**
 * What an export in progress (rdb-export.ts) keeps of the keyspace as it was when it began: the
 * value of each key a write was about to change before the export had reached it, saved once
 * (Redis's fork gives BGSAVE the same view by copy-on-write of memory pages).
 */
import type { Bytes } from "../bytes";
import type { KeyPosition } from "../slot";

/** A key saved as it was when the export began (its value: `SavedStore.payload`). */
export interface SavedKey extends KeyPosition {
  /** The key did not exist then. */
  readonly absent: boolean;
  /** Its deadline then (ms since the epoch), or null. */
  readonly expiresAt: number | null;
}

export interface SavedStore {
  /** True when `key`'s value is saved (a later write must not save it again). */
  has(key: string): boolean;
  /** Saves `key`'s DUMP payload (engine/rdb/payload.ts), or null: it did not exist. */
  save(key: string, payload: Bytes | null, expiresAt: number | null): void;
  /** Saved keys in (slot, key) order after `afterKey` of `slot` (null: from `slot` on), at most `limit`; their values are not read. */
  scan(slot: number, afterKey: string | null, limit: number): SavedKey[];
  /** The DUMP payload saved for `key` (empty for one saved absent, or none). */
  payload(key: string): Bytes;
  /** Forgets every saved value (the export ended). */
  clear(): void;
}
