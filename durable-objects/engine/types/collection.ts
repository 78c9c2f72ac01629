/**
 * What every collection type's object shares (Hash, RedisSet, List, Zset): the overlay it works
 * in, its key and header (element id, count, size, deadline), finding it with Redis's WRONGTYPE,
 * and writing its header back, an emptied one removed.
 */
import { EMPTY } from "../effect-spec";
import { errors } from "../errors";
import type { Change } from "../keyspace";
import type { Entry, ValueType } from "../storage";

export type CollectionType = Exclude<ValueType, "string">;

/**
 * The header of the collection of `type` at `key`, or null when there is none: `counted` (a
 * read's lookup) counts a keyspace hit or miss, else not (a write's destination).
 * @throws WRONGTYPE for a key of another type
 */
export function headerOf(db: Change, key: string, type: CollectionType, counted = true): Entry | null {
  const e = counted ? db.lookup(key) : db.get(key);
  if (e === null) return null;
  if (e.type !== type || e.eid === undefined) throw errors.wrongType();
  return e;
}

/** A new, empty collection's header (stored only once the collection has an element). */
export const emptyHeader = (db: Change, type: CollectionType): Entry => ({ type, value: EMPTY, expiresAt: null, eid: db.newEid(), count: 0 });

export abstract class Collection {
  protected constructor(
    protected readonly db: Change,
    readonly key: string,
    protected header: Entry,
  ) {}

  /** The number of elements. */
  get length(): number {
    return this.header.count ?? 0;
  }

  protected get eid(): number {
    return this.header.eid!;
  }

  /** Writes the header with its new count; an emptied collection goes. */
  protected save(count: number): void {
    this.header = { ...this.header, count };
    if (count === 0) this.db.removeEmptied(this.key, this.header);
    else this.db.putHeader(this.key, this.header);
  }
}
