/**
 * The work a change has the storage do itself, in one statement, no element passing through the
 * engine: set algebra (SQLite's INSERT ... SELECT), LPOS's match, COPY's elements. Done only where
 * the collections read are as stored (this change wrote none of their elements). What it writes
 * to storage at once is deleted again on a rollback or when the change is abandoned (overlay.ts).
 */
import type { Bytes } from "../bytes";
import type { ElementRow, Entry } from "../storage";
import type { Combine, Combined } from "../types/algebra";
import type { OrderKey } from "../types/order";
import { Overlay } from "./overlay";

export abstract class StorageWork extends Overlay {
  /** True when the stored elements of `eid` are what this change sees (it wrote none of its own). */
  private clean(eid: number): boolean {
    return this.stored(eid) && !this.elements.has(eid);
  }

  /**
   * Set algebra run by the storage when every input is as stored (else null: the caller computes
   * it). A destination (`spec.into`, a new collection id) is written to storage at once, inside the
   * open transaction; a rollback of this change deletes it again (`rollback`, `abandon`).
   */
  combineStored(spec: Combine): Combined | null {
    if (!spec.inputs.every((i) => i.eid === null || this.clean(i.eid))) return null;
    const { algebra, order } = this.keyspace.storage.indexes;
    const result = algebra.combine(spec);
    if (result !== null && spec.into) {
      this.direct.add(spec.into.eid);
      order.settle(spec.into.eid, result.count, spec.result === "zset");
    }
    return result;
  }

  /** The storage's `match` (LPOS) when the stored elements of `eid` are what this change sees, else null. */
  matchStored(eid: number, value: Bytes, reverse: boolean, skip: number, limit: number, bound: OrderKey | null, byScore: boolean): ElementRow[] | null {
    return this.clean(eid) ? this.keyspace.storage.indexes.order.match(eid, value, reverse, skip, limit, bound, byScore) : null;
  }

  /**
   * Copies the stored elements of `from` (`count` of them, ordered by score when `byScore`) as new
   * collection `into` in the storage, when it can (see `combineStored`).
   */
  copyStored(from: number, into: number, mod: number, count: number, byScore: boolean): boolean {
    const elements = this.keyspace.storage.elements;
    if (!this.clean(from) || !elements.copyElements(from, into, mod)) return false;
    this.direct.add(into);
    this.keyspace.storage.indexes.order.settle(into, count, byScore);
    return true;
  }

  /**
   * Writes under `key` a collection whose elements the storage holds already (`combineStored`),
   * whose elements take `bytes` (else as this change wrote them), replacing what was there (its
   * elements go); null removes the key. Records no effect.
   */
  adopt(key: string, entry: Entry | null, bytes?: number): void {
    if (entry?.eid !== undefined && bytes !== undefined) this.grown.set(entry.eid, bytes);
    this.replace(key, entry);
  }
}
