/**
 * The hash type (Redis's t_hash.c): a header row (element id, field count, deadline) and one
 * element row per field (field → value), so HSET or HGET of one field touches one row whatever
 * the hash's size. Replicated as HSET (every field's resulting value: HINCRBY and HINCRBYFLOAT
 * too, so replicas never redo arithmetic) and HDEL (effects.ts); an emptied hash is deleted.
 */
import type { Bytes } from "../../bytes";
import { toBytes } from "../../bytes";
import { hashEncode } from "./effects";
import type { Change } from "../../keyspace";
import { Collection, emptyHeader, headerOf } from "../collection";
import type { ElementRow, Entry } from "../../storage";

/** Redis's hash-max-listpack-entries / -value: what OBJECT ENCODING reports as `listpack`. */
const LISTPACK_ENTRIES = 128;

export class Hash extends Collection {
  private constructor(db: Change, key: string, header: Entry) {
    super(db, key, header);
  }

  /** The hash at `key`, or null when there is none (a keyspace hit or miss). @throws WRONGTYPE */
  static find(db: Change, key: string): Hash | null {
    const header = headerOf(db, key, "hash");
    return header && new Hash(db, key, header);
  }

  /** The hash at `key`, created empty when missing (it is stored only once it has a field). @throws WRONGTYPE */
  static findOrCreate(db: Change, key: string): Hash {
    return Hash.find(db, key) ?? new Hash(db, key, emptyHeader(db, "hash"));
  }

  get(field: string): Bytes | null {
    return this.db.element(this.eid, field)?.value ?? null;
  }

  /** Sets fields to values; logged as one HSET. @returns how many fields were new */
  set(pairs: readonly (readonly [string, Bytes])[]): number {
    let added = 0;
    const last = new Map<string, Bytes>();
    for (const [field, value] of pairs) last.set(field, value);
    for (const [field, value] of last) {
      if (this.db.element(this.eid, field) === null) added++;
      this.db.setElement(this.eid, field, { value, score: null });
    }
    this.save(this.length + added);
    this.db.record(hashEncode.hset(this.key, [...last]));
    return added;
  }

  /** Deletes fields; logged as one HDEL of those that were there. @returns how many were */
  delete(fields: readonly string[]): number {
    const removed: string[] = [];
    for (const field of new Set(fields)) {
      if (this.db.element(this.eid, field) === null) continue;
      this.db.setElement(this.eid, field, null);
      removed.push(field);
    }
    if (removed.length === 0) return 0;
    this.save(this.length - removed.length);
    this.db.record(hashEncode.hdel(this.key, removed));
    return removed.length;
  }

  /** One page of fields after `after` (null: from the first), in field order. */
  page(after: string | null, limit: number): { rows: ElementRow[]; next: string | null } {
    return this.db.elementsPage(this.eid, after, limit);
  }

  all(): ElementRow[] {
    return this.db.allElements(this.eid);
  }

  /** The field at `index` (0-based) in field order. */
  at(index: number): ElementRow | null {
    return this.db.elementAt(this.eid, index);
  }

}

/** OBJECT ENCODING of a hash: small ones are `listpack` in Redis. */
export const hashEncoding = (e: Entry) => ((e.count ?? 0) <= LISTPACK_ENTRIES ? "listpack" : "hashtable");

/** A field's name as a bulk reply. */
export const bulk = (s: string): Bytes => toBytes(s);
