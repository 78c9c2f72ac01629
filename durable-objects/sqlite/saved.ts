/**
 * The values an export keeps (engine/export/saved.ts): one row per part of a key's DUMP payload
 * (a part at most SAVED_PART_BYTES, within a row's 2 MB), in (slot, key, part) order; a key that
 * did not exist has one part with a NULL payload.
 */
import type { SavedKey, SavedStore } from "../engine/export/saved";
import { concatBytes } from "../engine/bytes";
import { slotOf } from "../engine/slot";
import { type Sql, bin, blob, str } from "./sql";

/** Bytes of a payload per row. */
export const SAVED_PART_BYTES = 1024 * 1024;

export function sqlSaved(sql: Sql): SavedStore {
  return {
    has: (key) => sql.first("SELECT 1 AS x FROM saved WHERE slot = ? AND key = ? AND part = 0", slotOf(key), bin(key)) !== null,
    save: (key, payload, expiresAt) => {
      const parts = payload === null ? 1 : Math.max(1, Math.ceil(payload.length / SAVED_PART_BYTES));
      for (let part = 0; part < parts; part++) {
        const bytes = payload === null ? null : blob(payload.subarray(part * SAVED_PART_BYTES, (part + 1) * SAVED_PART_BYTES));
        sql.exec("INSERT INTO saved (slot, key, part, payload, expires_at) VALUES (?, ?, ?, ?, ?)", slotOf(key), bin(key), part, bytes, expiresAt);
      }
    },
    // Part 0 of each key: its position and deadline, and whether it was absent (its payload is
    // not read: `payload` reads it when the walk writes it).
    scan: (slot, afterKey, limit) =>
      sql
        .exec<{ slot: number; key: ArrayBuffer; absent: number; expires_at: number | null }>(
          `SELECT slot, key, payload IS NULL AS absent, expires_at FROM saved
           WHERE part = 0 AND ${afterKey === null ? "slot >= ?" : "(slot, key) > (?, ?)"} ORDER BY slot, key LIMIT ?`,
          ...(afterKey === null ? [slot] : [slot, bin(afterKey)]),
          limit,
        )
        .toArray()
        .map((r): SavedKey => ({ slot: r.slot, key: str(r.key), absent: r.absent === 1, expiresAt: r.expires_at })),
    payload: (key) =>
      concatBytes(
        sql
          .exec<{ payload: ArrayBuffer | null }>("SELECT payload FROM saved WHERE slot = ? AND key = ? ORDER BY part", slotOf(key), bin(key))
          .toArray()
          .flatMap((r) => (r.payload === null ? [] : [new Uint8Array(r.payload)])),
      ),
    clear: () => void sql.exec("DELETE FROM saved"),
  };
}
