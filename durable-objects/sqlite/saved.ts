/**
 * The values an export keeps (engine/export/saved.ts): one row per part of a key's DUMP payload
 * (a part at most SAVED_PART_BYTES, within a row's 2 MB), in (slot, key, part) order; a key that
 * did not exist has one part with a NULL payload.
 */
import type { SavedStore, SavedValue } from "../engine/export/saved";
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
    scan: (slot, afterKey, limit) => {
      const rows = sql.exec<{ slot: number; key: ArrayBuffer; part: number; payload: ArrayBuffer | null; expires_at: number | null }>(
        `SELECT slot, key, part, payload, expires_at FROM saved WHERE ${afterKey === null ? "slot >= ?" : "(slot, key) > (?, ?)"} ORDER BY slot, key, part`,
        ...(afterKey === null ? [slot] : [slot, bin(afterKey)]),
      );
      const out: SavedValue[] = [];
      let parts: Uint8Array[] = [];
      let current: { slot: number; key: string; expiresAt: number | null; absent: boolean } | null = null;
      const close = () => {
        if (current === null) return;
        out.push({ slot: current.slot, key: current.key, expiresAt: current.expiresAt, payload: current.absent ? null : concatBytes(parts) });
        parts = [];
      };
      // The cursor reads no further than the loop asks: up to the first part of the key after the last.
      for (const row of rows) {
        if (row.part === 0) {
          close();
          if (out.length === limit) return out;
          current = { slot: row.slot, key: str(row.key), expiresAt: row.expires_at, absent: row.payload === null };
        }
        if (row.payload !== null) parts.push(new Uint8Array(row.payload));
      }
      close();
      return out;
    },
    clear: () => void sql.exec("DELETE FROM saved"),
  };
}
