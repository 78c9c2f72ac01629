/**
 * The set type (Redis's t_set.c): a header row (element id, member count, deadline) and one
 * element row per member (an empty value), so SADD or SISMEMBER of one member touches one row.
 * Replicated as SADD and SREM of the members added or removed (SPOP and SMOVE too: what
 * happened, never a random choice to redo); an emptied set is deleted.
 */
import { toBytes } from "../../bytes";
import type { Bytes } from "../../bytes";
import type { Change } from "../../keyspace";
import { Collection, emptyHeader, headerOf } from "../collection";
import { isInt64 } from "../../args";
import type { ElementRow, Entry } from "../../storage";
import { sadd, srem } from "./effects";

/** Redis's set-max-intset-entries and set-max-listpack-entries. */
const INTSET_ENTRIES = 512;
const LISTPACK_ENTRIES = 128;

export class RedisSet extends Collection {
  private constructor(db: Change, key: string, header: Entry) {
    super(db, key, header);
  }

  /** The set at `key`, or null (a keyspace hit or miss). @throws WRONGTYPE */
  static find(db: Change, key: string): RedisSet | null {
    const header = headerOf(db, key, "set");
    return header && new RedisSet(db, key, header);
  }

  /** Like `find`, without counting a hit or miss (a write's destination). @throws WRONGTYPE */
  static peek(db: Change, key: string): RedisSet | null {
    const header = headerOf(db, key, "set", false);
    return header && new RedisSet(db, key, header);
  }

  /** The set at `key`, created empty when missing (stored once it has a member). @throws WRONGTYPE */
  static findOrCreate(db: Change, key: string): RedisSet {
    return RedisSet.find(db, key) ?? RedisSet.empty(db, key);
  }

  /** A new empty set at `key` (the caller has removed what was there). */
  static empty(db: Change, key: string): RedisSet {
    return new RedisSet(db, key, emptyHeader(db, "set"));
  }

  has(member: string): boolean {
    return this.db.element(this.eid, member) !== null;
  }

  /** Adds members: one SADD of those that were new. @returns how many were */
  add(members: Iterable<string>): number {
    const added = [...new Set(members)].filter((m) => !this.has(m));
    if (added.length > 0) this.apply(sadd, added);
    return added.length;
  }

  /** Removes members: one SREM of those that were there. @returns how many were */
  remove(members: Iterable<string>): number {
    return this.removeFields(srem, members);
  }

  page(after: string | null, limit: number): { rows: ElementRow[]; next: string | null } {
    return this.db.elementsPage(this.eid, after, limit);
  }

  members(): string[] {
    return this.db.allElements(this.eid).map((el) => el.field);
  }

  /** One random member. */
  any(random: () => number): string {
    return this.sample(1, random)[0]!.field;
  }
}

/** OBJECT ENCODING of a set: `intset` for up to 512 integers, `listpack` up to 128 members, else `hashtable`. */
export function setEncoding(e: Entry, members: () => string[]): string {
  const count = e.count ?? 0;
  if (count <= INTSET_ENTRIES && members().every(isInt64))
    return "intset";
  return count <= LISTPACK_ENTRIES ? "listpack" : "hashtable";
}

/** A member as a bulk reply. */
export const bulk = (s: string): Bytes => toBytes(s);
