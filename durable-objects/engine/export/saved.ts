/**
 * What an export in progress (rdb-export.ts) keeps of the keyspace as it was when it began: the
 * value of each key a write was about to change before the export had reached it, saved once
 * (Redis's fork gives BGSAVE the same view by copy-on-write of memory pages).
 */
import type { Bytes } from "../bytes";
import type { KeyPosition } from "../slot";

/** A key's value when the export began. */
export interface SavedValue extends KeyPosition {
  /** Its DUMP payload (engine/rdb/payload.ts), or null: the key did not exist then. */
  readonly payload: Bytes | null;
  /** Its deadline then (ms since the epoch), or null. */
  readonly expiresAt: number | null;
}

export interface SavedStore {
  /** True when `key`'s value is saved (a later write must not save it again). */
  has(key: string): boolean;
  save(key: string, payload: Bytes | null, expiresAt: number | null): void;
  /** Saved values in (slot, key) order after `afterKey` of `slot` (null: from `slot` on), at most `limit`. */
  scan(slot: number, afterKey: string | null, limit: number): SavedValue[];
  /** Forgets every saved value (the export ended). */
  clear(): void;
}
