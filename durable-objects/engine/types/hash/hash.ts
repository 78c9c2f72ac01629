/**
 * The hash type (Redis's t_hash.c): a header row (element id, field count, deadline) and one
 * element row per field (field → value), so HSET or HGET of one field touches one row whatever
 * the hash's size. Replicated as HSET (every field's resulting value: HINCRBY and HINCRBYFLOAT
 * too, so replicas never redo arithmetic) and HDEL (replication/effects.ts); an emptied hash is deleted.
 *
 * A field may have a deadline (HEXPIRE, Redis 7.4's hash-field expiry), kept in its row; the
 * header keeps a lower bound of them (`fieldsExpireAt`) for the sweep (`expireDue`). A field past
 * its deadline is gone for every read, as in Redis: the master deletes it when a command reads it
 * or when the sweep reaches it (logged as HDEL); until then HLEN still counts it, as Redis's does.
 */
import type { Bytes } from "../../bytes";
import { toBytes } from "../../bytes";
import { hdel, hpersist, hpexpireat, hset } from "./effects";
import type { Change } from "../../keyspace";
import { Collection, MAX_PICKS, emptyHeader, headerOf, pickPositions } from "../collection";
import { type Element, type ElementRow, type Entry, NO_FIELD_DEADLINE, elementExpired } from "../../storage";

/** HEXPIRE's per-field replies (Redis's HSETEX_*): set, deleted (a deadline already past), condition not met, no field. */
export const FIELD_SET = 1;
export const FIELD_DELETED = 2;
export const FIELD_KEPT = 0;
export const NO_FIELD = -2;
/** HTTL's and HPERSIST's reply for a field without a deadline. */
export const NO_DEADLINE = -1;

export type DeadlineCondition = "NX" | "XX" | "GT" | "LT" | null;

/** Redis's hash-max-listpack-entries / -value: what OBJECT ENCODING reports as `listpack`. */
const LISTPACK_ENTRIES = 128;

export class Hash extends Collection {
  private constructor(db: Change, key: string, header: Entry) {
    super(db, key, header);
  }

  /** The hash at `key`, or null when there is none (`counted`: a keyspace hit or miss). @throws WRONGTYPE */
  static find(db: Change, key: string, counted = true): Hash | null {
    const header = headerOf(db, key, "hash", counted);
    return header && new Hash(db, key, header);
  }

  /** The hash at `key`, created empty when missing (it is stored only once it has a field). @throws WRONGTYPE */
  static findOrCreate(db: Change, key: string): Hash {
    return Hash.find(db, key) ?? new Hash(db, key, emptyHeader(db, "hash"));
  }

  /** The value of a live field, or null; a field past its deadline is deleted by the master here. */
  get(field: string): Bytes | null {
    return this.live(field)?.value ?? null;
  }

  /** The live element of `field`, or null (see `get`). */
  live(field: string): Element | null {
    const e = this.db.element(this.eid, field);
    if (e === null || !elementExpired(e, this.db.now)) return e;
    if (this.db.role === "master") this.expireFields([field]);
    return null;
  }

  /**
   * Deletes fields whose deadline passed (a lazy or active expiry: INFO `expired_subkeys`). Its
   * keyspace notification (engine/notify.ts) is `hexpired`, then `del` if the hash went; HEXPIRE's
   * deletion of fields given a past deadline (`expired` false) is the command's `hdel` instead.
   */
  private expireFields(fields: readonly string[], expired = true): void {
    if (expired) this.db.events.push({ cls: "h", event: "hexpired", key: this.key });
    // Emptied, the hash goes: a field written next starts a new one (Redis's "create new one").
    this.delete(fields);
    this.db.expiredFields += fields.length;
  }

  /**
   * Sets fields to values: one HSET. `keepTtl` (HINCRBY, HSETEX KEEPTTL): a field that had a
   * deadline keeps it (an HPEXPIREAT after the HSET, which clears deadlines); else it loses it.
   * @returns how many fields were new
   */
  set(pairs: readonly (readonly [string, Bytes])[], keepTtl = false): number {
    let added = 0;
    const last = new Map<string, Bytes>();
    for (const [field, value] of pairs) last.set(field, value);
    const kept = new Map<number, string[]>(); // deadline → the fields that keep it
    for (const field of last.keys()) {
      const before = this.db.element(this.eid, field);
      if (before === null) added++;
      const at = keepTtl ? (before?.expiresAt ?? null) : null;
      if (at !== null) kept.get(at)?.push(field) ?? kept.set(at, [field]);
    }
    this.apply(hset, [...last]);
    for (const [at, fields] of kept) this.apply(hpexpireat, { at, fields });
    return added;
  }

  /**
   * HEXPIRE and its kin: gives each field the deadline `at` (ms) where `condition` allows, as
   * Redis's hashTypeSetEx judges it (on the field as stored, expired or not). A deadline not after
   * now deletes the field: an HPEXPIREAT of the fields set and an HDEL of those deleted.
   * @returns per field: FIELD_SET, FIELD_DELETED, FIELD_KEPT or NO_FIELD
   */
  expire(fields: readonly string[], at: number, condition: DeadlineCondition): number[] {
    // Sets (a field may repeat: each reply is its own, seeing the ones before it; the field is
    // written once), insertion-ordered.
    const set = new Set<string>();
    const gone = new Set<string>();
    const replies = fields.map((field) => {
      const e = this.db.element(this.eid, field);
      if (e === null || gone.has(field)) return NO_FIELD;
      const before = set.has(field) ? at : (e.expiresAt ?? null);
      if (before === null ? condition === "XX" || condition === "GT" : condition === "NX" || (condition === "GT" && before >= at) || (condition === "LT" && before <= at))
        return FIELD_KEPT;
      if (at <= this.db.now) {
        gone.add(field);
        return FIELD_DELETED;
      }
      set.add(field);
      return FIELD_SET;
    });
    if (set.size > 0) this.apply(hpexpireat, { at, fields: [...set] });
    else this.readyForDeadlines();
    if (gone.size > 0) this.expireFields([...gone], false); // counted, as Redis counts them (expired_subkeys)
    return replies;
  }

  /**
   * Readies a stored hash for field deadlines (Redis's conversion to listpackex, whatever the
   * fields: OBJECT ENCODING tells it). The master's own, as in Redis: a command that set no
   * deadline replicates nothing and touches no key for WATCH or keyspace events (a replica's hash
   * is readied by the first deadline it is told of).
   */
  readyForDeadlines(): void {
    if (this.length === 0 || this.header.fieldsExpireAt !== undefined) return;
    this.header = { ...this.header, fieldsExpireAt: NO_FIELD_DEADLINE };
    this.db.putHeader(this.key, this.header);
  }

  /**
   * HPERSIST: the live fields' deadlines removed: an HPERSIST of those that had one.
   * @returns per field: 1, NO_DEADLINE, or NO_FIELD (missing or expired)
   */
  persist(fields: readonly string[]): number[] {
    const done = new Set<string>();
    const replies = fields.map((field) => {
      const e = this.db.element(this.eid, field);
      if (e === null) return NO_FIELD;
      if (e.expiresAt == null || done.has(field)) return NO_DEADLINE;
      if (e.expiresAt < this.db.now) return NO_FIELD;
      done.add(field);
      return 1;
    });
    if (done.size > 0) this.apply(hpersist, [...done]);
    return replies;
  }

  /** The fields' deadlines (ms): NO_DEADLINE for a field without one, NO_FIELD for one missing or past it. */
  deadlines(fields: readonly string[]): number[] {
    return fields.map((field) => {
      const e = this.db.element(this.eid, field);
      if (e === null) return NO_FIELD;
      if (e.expiresAt == null) return NO_DEADLINE;
      return elementExpired(e, this.db.now) ? NO_FIELD : e.expiresAt;
    });
  }

  /**
   * Some field is past its deadline: the header's bound has passed (on a replica it only ever
   * goes down) and the deadline index has such a field (one row read).
   */
  get mayHaveExpired(): boolean {
    if (this.header.fieldsExpireAt === undefined || this.header.fieldsExpireAt > this.db.now) return false;
    return this.db.fieldDeadlines(this.eid, null, this.db.now, 1).length > 0;
  }

  /**
   * Active expiry (the master's sweep): deletes up to `limit` fields past their deadline, then
   * makes the header's bound exact. @returns how many fields were deleted
   */
  expireDue(limit: number): number {
    const due = this.db.fieldDeadlines(this.eid, null, this.db.now, limit).map((r) => r.field);
    if (due.length > 0) this.expireFields(due);
    if (due.length === limit || this.db.get(this.key) === null) return due.length;
    const next = this.db.fieldDeadlines(this.eid, this.db.now, null, 1)[0]?.expiresAt ?? NO_FIELD_DEADLINE;
    this.header = { ...this.db.get(this.key)!, fieldsExpireAt: next };
    this.db.putHeader(this.key, this.header);
    return due.length;
  }

  /**
   * Master only: deletes every field past its deadline (HRANDFIELD's first step, as in Redis),
   * a sweep's batch at a time. @returns false when the hash went with them
   */
  expireAll(): boolean {
    while (this.mayHaveExpired && this.db.get(this.key) !== null) if (this.expireDue(1024) < 1024) break;
    return this.db.get(this.key) !== null;
  }

  /** Deletes fields: one HDEL of those that were there. @returns how many were */
  delete(fields: readonly string[]): number {
    return this.removeFields(hdel, fields);
  }

  /**
   * One page of fields after `after` (null: from the first), in field order, fields past their
   * deadline left out; `last` is the last field read (live or not), null for none.
   */
  page(after: string | null, limit: number): { rows: ElementRow[]; next: string | null; last: string | null } {
    const page = this.db.elementsPage(this.eid, after, limit);
    const last = page.rows.length > 0 ? page.rows[page.rows.length - 1]!.field : null;
    return { rows: page.rows.filter((r) => !elementExpired(r, this.db.now)), next: page.next, last };
  }

  /** Every live field. */
  all(): ElementRow[] {
    return this.db.allElements(this.eid).filter((r) => !elementExpired(r, this.db.now));
  }

  /**
   * `sample` among the live fields. Where some may be past their deadline (on a replica, before
   * the master's HDELs arrive) the live ones are read and picked from in memory.
   */
  livePicks(count: number, random: () => number): ElementRow[] {
    if (!this.mayHaveExpired || count < -MAX_PICKS) return this.sample(count, random);
    const live = this.all();
    if (live.length === 0 || count === 0) return [];
    if (count >= live.length) return live;
    return pickPositions(count, live.length, random).map((p) => live[p]!);
  }

  /** The field at `index` (0-based) in field order. */
  at(index: number): ElementRow | null {
    return this.db.elementAt(this.eid, index);
  }

}

/** The sweep's part for hashes: deletes up to `limit` due fields of the hashes at `keys`, in order. @returns how many */
export function expireFieldsOf(db: Change, keys: readonly string[], limit: number): number {
  let removed = 0;
  for (const key of keys) if (removed < limit) removed += Hash.find(db, key, false)?.expireDue(limit - removed) ?? 0;
  return removed;
}

/** OBJECT ENCODING of a hash: small ones are `listpack` in Redis (`listpackex` with field deadlines). */
export const hashEncoding = (e: Entry) => ((e.count ?? 0) > LISTPACK_ENTRIES ? "hashtable" : e.fieldsExpireAt !== undefined ? "listpackex" : "listpack");

/** A field's name as a bulk reply. */
export const bulk = (s: string): Bytes => toBytes(s);
