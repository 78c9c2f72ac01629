/**
 * The pending changes of one command or MULTI (see keyspace.ts), as an overlay on the stored
 * keyspace: the keys it wrote, the elements of collections (their reads are in element-view.ts),
 * deletions, savepoints. The work the storage does itself is storage-work.ts; what commands write
 * through it, named by what they do (strings, RENAME and COPY, deadlines), is `Change` (change.ts).
 */
import { splitEffect } from "../replication/effects";
import type { KeyEffect } from "../replication/effect";
import { del, flushall } from "../generic/effects";
import { RedisError, errors } from "../errors";
import { ELEMENT_MAX_BYTES, PROTO_MAX_BULK_LEN } from "../limits";
import { elementSize, keySize } from "../sizes";
import type { Element, Entry, ValueType } from "../storage";
import { ElementView } from "./element-view";
import type { Effect, Keyspace, Role } from "./keyspace";
import type { KeyEvent } from "../notify";

/** A key this change wrote: did it exist before and its size then (0: none), its entry after (null: deleted). */
interface Touched {
  before: boolean;
  was: number;
  after: Entry | null;
}

interface Savepoint {
  readonly touched: Map<string, Touched>;
  readonly grown: Map<number, number>;
  readonly elements: Map<number, Map<string, Element | null>>;
  readonly dropped: Set<number>;
  readonly nextEid: number;
  readonly direct: number;
  readonly effects: number;
  readonly events: number;
  readonly cleared: boolean;
  readonly expired: number;
  readonly expiredFields: number;
  readonly pending: number;
}

/**
 * The pending changes of one command or MULTI. Reads see the changes made so far; nothing is
 * visible to anyone else until `Keyspace.commit`.
 */
export abstract class Overlay extends ElementView {
  /** Per touched key: did it exist before and its size then, and its entry after (null: deleted). */
  readonly touched = new Map<string, Touched>();
  /** Pending element writes per collection id (null: deleted). */
  readonly elements = new Map<number, Map<string, Element | null>>();
  /**
   * How many bytes each collection's elements grew by in this change (sizes.ts): added to its
   * header's `bytes` when the change is committed (`sized`).
   */
  readonly grown = new Map<number, number>();
  /** Keys read or written by commands in this change (LRU/LFU access tracking, eviction.ts). */
  readonly accessed = new Set<string>();
  /** RESTORE's IDLETIME or FREQ for keys it created: their use as it says, after the accesses (eviction.ts). */
  readonly usage = new Map<string, { readonly idleMs?: number; readonly frequency?: number }>();
  /** The collection ids this change has seen, and the key holding each (to write its size). */
  private readonly owners = new Map<number, string>();
  /** Elements read from storage in this change (a write reads the element it replaces again). */
  private readonly storedElements = new Map<number, Map<string, Element | null>>();
  /** The first id this change may allocate: collections from it on are new here. */
  private readonly firstNewEid: number;
  /** Collections whose every element goes (the key was deleted or overwritten). */
  readonly dropped = new Set<number>();
  /** Collections whose elements this change wrote to storage at once (see `combineStored`), in order. */
  protected readonly direct = new Set<number>();
  /** The next collection id this change would allocate. */
  nextEid: number;
  readonly effects: Effect[] = [];
  /** What happened to keys, for keyspace notifications (notify.ts): `expired`, `del`, `evicted` here, each command's own added by the dispatcher. */
  readonly events: KeyEvent[] = [];
  cleared = false;
  /** Keys this change removed because their deadline had passed (INFO `expired_keys`). */
  expired = 0;
  /** Hash fields this change removed because their deadline had passed (INFO `expired_subkeys`). */
  expiredFields = 0;
  hits = 0;
  misses = 0;
  /**
   * Set on a replica by a read that Redis makes write (PFCOUNT storing the count it computed in the
   * value): the master should serve it, so that the write happens and replicates (`BatchResult.forMaster`).
   */
  forMaster = false;
  /**
   * The offset the next of the master's own effects is applied at (`apply`): past the stream's
   * offset at the change's start, so past every offset stored (none of the master's effects is
   * judged overtaken), increasing (each sees the one before it), and below the end of what the
   * change will log: one more per effect applied and kept (a rollback takes back its own), and
   * each effect's frame takes more than a byte. The commit stamps every key and element it wrote
   * with its own offset; the storage's own writes (`copyStored`) keep theirs.
   */
  private pending: number;
  /**
   * Set while the change writes copies of stored elements (a value written whole: RENAME's or
   * COPY's during a full sync, a collection copied element by element, a stream's rows put back):
   * they passed the size check when first written, under the limit of that day.
   */
  protected copying = false;

  constructor(
    protected readonly keyspace: Keyspace,
    /** The time of this command: one instant for the whole command, as Redis does. */
    readonly now: number,
    readonly role: Role,
    /** The stream's offset when the change begins. */
    offset: number,
    /** What the request this change is part of has read of string values (see READ_BUDGET). */
    readonly budget: { reads: number } = { reads: 0 },
  ) {
    super();
    this.pending = offset + 1;
    this.nextEid = keyspace.nextEid;
    this.firstNewEid = keyspace.nextEid;
  }

  /** The stored entry of `key` as this change sees it, expired or not. */
  peek(key: string): Entry | null {
    return this.raw(key);
  }

  /**
   * The master's write: applies `effect` to `key` as every replica will (its definition's
   * `apply`, through the replica's own path) and records it. A command checks its input first
   * (types, a string's size); an element past the record limit is refused as it is written (the
   * command's savepoint undoes the rest). Change implements it: effects apply to a Change.
   */
  abstract apply<A>(effect: KeyEffect<A>, key: string, args: A): void;

  /** The offset the next of the master's own effects is applied at (see `pending`). */
  protected nextPending(): number {
    return this.pending++;
  }

  /**
   * Writes `key` as an effect's `apply` does (on a master as on a replica) or a snapshot row is
   * loaded: as told, recording no effect, stamped with `mod`, the end offset of what wrote it (see
   * `Keyspace.commit`).
   */
  writeAsTold(key: string, entry: Entry | null, mod: number): void {
    this.write(key, entry && { ...entry, mod });
  }

  protected raw(key: string): Entry | null {
    const t = this.touched.get(key);
    const e = t ? t.after : this.cleared ? null : this.keyspace.read(key);
    if (e?.eid !== undefined) this.owners.set(e.eid, key);
    return e;
  }

  /** Every key whose record or elements committing this change writes (an export saves them first). */
  *writtenKeys(): Generator<string> {
    yield* this.touched.keys();
    for (const eid of this.elements.keys()) {
      const key = this.owners.get(eid);
      if (key !== undefined && !this.touched.has(key)) yield key;
    }
  }

  /** This change will not be committed: what it wrote to storage directly goes. */
  abandon(): void {
    this.forgetDirect(0);
  }

  /** Deletes the directly written collections past the first `keep`. */
  private forgetDirect(keep: number): void {
    const eids = [...this.direct];
    for (const eid of eids.slice(keep)) {
      this.keyspace.storage.elements.deleteWrittenBefore(eid, Number.MAX_SAFE_INTEGER);
      this.direct.delete(eid);
    }
  }

  protected write(key: string, after: Entry | null): void {
    const t = this.touched.get(key);
    if (after !== null) this.accessed.add(key);
    if (after?.eid !== undefined) this.owners.set(after.eid, key);
    if (t) t.after = after;
    else {
      const stored = this.cleared ? null : this.keyspace.read(key);
      this.touched.set(key, { before: stored !== null, was: keySize(key, stored), after });
    }
  }

  /**
   * `e` as it will be stored: a collection's header with its size, its stored size (none for a
   * collection created here) plus what its elements grew by in this change.
   */
  sized(e: Entry | null): Entry | null {
    if (e?.eid === undefined) return e;
    const base = Math.abs(e.eid) < this.firstNewEid ? (e.bytes ?? 0) : 0;
    return { ...e, bytes: base + (this.grown.get(e.eid) ?? 0) };
  }

  /**
   * Writes the header of every collection whose elements changed without it (LSET, a snapshot
   * chunk going on with a collection), so its size is stored with its elements.
   */
  settle(): void {
    for (const [eid, delta] of this.grown) {
      const key = this.owners.get(eid);
      if (delta === 0 || key === undefined || this.touched.has(key)) continue;
      const e = this.raw(key);
      if (e?.eid === eid) this.write(key, e);
    }
  }

  /** The header of collection `eid` as this change leaves it, or null when it is gone or was not seen. */
  headerOf(eid: number): Entry | null {
    const key = this.owners.get(eid);
    const e = key === undefined ? null : this.raw(key);
    return e?.eid === eid ? e : null;
  }

  /** The dataset's estimated size if this change were committed now (sizes.ts). */
  get usedBytes(): number {
    this.settle();
    let n = this.cleared ? 0 : this.keyspace.usedBytes;
    for (const [key, t] of this.touched) n += keySize(key, this.sized(t.after)) - t.was;
    return n;
  }

  /**
   * The live entry of `key`, or null. A key past its deadline is missing: the master deletes it
   * (and replicates a DEL, as Redis does); a replica leaves it for the master's DEL.
   */
  get(key: string): Entry | null {
    const e = this.raw(key);
    if (e !== null && (e.expiresAt === null || e.expiresAt > this.now)) this.accessed.add(key);
    if (e === null || e.expiresAt === null || e.expiresAt > this.now) return e;
    if (this.role === "master") {
      this.apply(del, key, null);
      this.events.push({ cls: "x", event: "expired", key });
      this.expired++;
    }
    return null;
  }

  /** Like `get`, but no access for eviction's LRU/LFU (OBJECT's lookup: Redis's LOOKUP_NOTOUCH). */
  getUntouched(key: string): Entry | null {
    const seen = this.accessed.has(key);
    const e = this.get(key);
    if (!seen) this.accessed.delete(key);
    return e;
  }

  /** Like `get`, counting a keyspace hit or miss (INFO stats). */
  lookup(key: string): Entry | null {
    const e = this.get(key);
    if (e) this.hits++;
    else this.misses++;
    return e;
  }

  /** The live string entry of `key` (counted as a hit or miss), null when missing. @throws WRONGTYPE */
  lookupString(key: string): Entry | null {
    const e = this.lookup(key);
    if (e !== null && e.type !== "string") throw errors.wrongType();
    return e;
  }

  exists(key: string): boolean {
    return this.get(key) !== null;
  }


  /**
   * Refuses a string of `size` bytes: past Redis's proto-max-bulk-len or Flaredis's value limit.
   * Call it before building a value that large. @throws ERR string exceeds… / ERR max single record size…
   */
  checkSize(size: number): void {
    if (size > PROTO_MAX_BULK_LEN) throw new RedisError("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    const limit = this.keyspace.limits.maxValueBytes;
    if (size > limit) throw errors.valueTooLarge(limit, size);
  }
  /** Deletes `key`; true when a live key was removed. */
  delete(key: string): boolean {
    const e = this.get(key);
    if (e !== null) {
      this.apply(del, key, null);
      this.events.push({ cls: "g", event: "del", key });
    }
    return e !== null;
  }

  /**
   * Evicts `key` (maxmemory): deleted as DEL whether or not its deadline has passed, without
   * counting as an access. @returns the bytes it took (sizes.ts), 0 when there is no such key
   */
  evict(key: string): number {
    const e = this.raw(key);
    if (e === null) return 0;
    this.apply(del, key, null);
    this.events.push({ cls: "e", event: "evicted", key });
    return keySize(key, this.sized(e));
  }

  /** Writes `after` under `key`, dropping the elements of a collection it replaces. */
  protected replace(key: string, after: Entry | null): void {
    const before = this.raw(key);
    if (before?.eid !== undefined && before.eid !== after?.eid) this.dropElements(before.eid);
    this.write(key, after);
  }


  // ---- Collections' elements ---------------------------------------------------------------

  /** A new collection id. */
  newEid(): number {
    return this.nextEid++;
  }

  /** A new element id for a value of `type`: a paged string's is negative (its pages: page-layout.ts). */
  newEidFor(type: ValueType): number {
    return type === "string" ? -this.newEid() : this.newEid();
  }

  /** Writes a collection's header (type, count, deadline) under `key`, recording no effect. */
  putHeader(key: string, entry: Entry): void {
    this.write(key, entry);
  }

  /**
   * Removes an emptied collection, recorded as a DEL too: a replica loading a full sync cannot
   * trust its counts to see that the last HDEL, SREM... emptied it, and would keep the header
   * (its deadline with it) for the next write to the key to find.
   */
  removeEmptied(key: string): void {
    this.apply(del, key, null);
    this.events.push({ cls: "g", event: "del", key });
  }

  /** Runs `write`, which writes copies of stored elements (see `copying`). */
  asCopies(write: () => void): void {
    const was = this.copying;
    this.copying = true;
    try {
      write();
    } finally {
      this.copying = was;
    }
  }

  /** Records an effect of a collection type's operation (a large one as several: `splitEffect`). */
  record(effect: Effect): void {
    this.effects.push(...splitEffect(effect));
  }

  /** The element `field` of collection `eid` as this change sees it. */
  element(eid: number, field: string): Element | null {
    const pending = this.elements.get(eid)?.get(field);
    if (pending !== undefined) return pending;
    // Not stored: dropped, or new here (unless the storage wrote it directly: a COPY's).
    if (!this.stored(eid)) return null;
    let read = this.storedElements.get(eid);
    if (!read) this.storedElements.set(eid, (read = new Map()));
    let e = read.get(field);
    if (e === undefined) read.set(field, (e = this.keyspace.element(eid, field)));
    return e;
  }

  /**
   * Tells the overlay that collection `eid` holds none of `fields` (a list's positions strictly
   * between two adjacent elements), so that writing them reads nothing first.
   */
  knownFree(eid: number, fields: readonly string[]): void {
    if (!this.stored(eid)) return;
    let read = this.storedElements.get(eid);
    if (!read) this.storedElements.set(eid, (read = new Map()));
    for (const field of fields) if (!this.elements.get(eid)?.has(field)) read.set(field, null);
  }

  /**
   * Writes (null: deletes) one element; its collection's size grows by the difference from
   * `previous`, the element there now (read when not given: a caller that knows it passes it).
   */
  setElement(eid: number, field: string, element: Element | null, previous: Element | null = this.element(eid, field)): void {
    // An element the master writes (not one a replica is told of) is one row: its field and value
    // together stay within the record limit, as a string's value does.
    if (element !== null && this.role === "master" && !this.copying) {
      const size = field.length + element.value.length;
      if (size > ELEMENT_MAX_BYTES || size > this.keyspace.limits.maxValueBytes) throw errors.valueTooLarge(Math.min(ELEMENT_MAX_BYTES, this.keyspace.limits.maxValueBytes), size);
    }
    this.putElement(eid, field, element, previous);
  }

  /** `setElement` without the size check (a string's page, which the string's own limit bounds). */
  protected putElement(eid: number, field: string, element: Element | null, previous: Element | null): void {
    let fields = this.elements.get(eid);
    if (!fields) this.elements.set(eid, (fields = new Map()));
    fields.set(field, element);
    const delta = elementSize(field, element) - elementSize(field, previous);
    if (delta !== 0) this.grown.set(eid, (this.grown.get(eid) ?? 0) + delta);
  }

  /** Every element of collection `eid` goes. */
  dropElements(eid: number): void {
    this.dropped.add(eid);
    this.elements.delete(eid);
    this.grown.delete(eid);
  }

  /**
   * The elements of `eid` last written before `offset` go (a DEL replayed on a replica whose
   * keyspace mixes snapshot chunks; see replication/effects.ts). Storage is changed at once: a replica applies
   * inside the transaction that commits this change.
   */
  dropElementsWrittenBefore(eid: number, offset: number): void {
    const pending = this.elements.get(eid);
    if (pending) for (const [field, el] of pending) if (el !== null && (el.mod ?? 0) < offset) pending.delete(field);
    this.keyspace.storage.elements.deleteWrittenBefore(eid, offset);
    this.storedElements.delete(eid);
  }



  /** A point to roll back to (one call inside a MULTI that fails at run time). */
  /** What `savepoint` copies (entries of its maps): the cost of one, which a script's budget counts per command. */
  savepointSize(): number {
    let n = this.touched.size + this.grown.size + this.dropped.size;
    for (const fields of this.elements.values()) n += fields.size;
    return n;
  }

  savepoint(): Savepoint {
    return {
      touched: new Map([...this.touched].map(([k, v]) => [k, { ...v }])),
      grown: new Map(this.grown),
      elements: new Map([...this.elements].map(([eid, fields]) => [eid, new Map(fields)])),
      dropped: new Set(this.dropped),
      nextEid: this.nextEid,
      direct: this.direct.size,
      effects: this.effects.length,
      events: this.events.length,
      cleared: this.cleared,
      expired: this.expired,
      expiredFields: this.expiredFields,
      pending: this.pending,
    };
  }

  rollback(s: Savepoint): void {
    this.touched.clear();
    for (const [k, v] of s.touched) this.touched.set(k, v);
    this.elements.clear();
    for (const [eid, fields] of s.elements) this.elements.set(eid, fields);
    this.grown.clear();
    for (const [eid, n] of s.grown) this.grown.set(eid, n);
    this.dropped.clear();
    for (const eid of s.dropped) this.dropped.add(eid);
    this.forgetDirect(s.direct);
    this.nextEid = s.nextEid;
    this.effects.length = s.effects;
    this.events.length = s.events;
    this.cleared = s.cleared;
    this.expired = s.expired;
    this.expiredFields = s.expiredFields;
    this.pending = s.pending;
  }

  flush(): void {
    // Effects before the FLUSHALL stay: replaying them and then FLUSHALL gives the same result.
    this.touched.clear();
    this.elements.clear();
    this.dropped.clear();
    this.grown.clear();
    this.cleared = true;
    this.effects.push(flushall.of(null));
  }

  /** Number of keys if this change were committed now. */
  get keyCount(): number {
    let n = this.cleared ? 0 : this.keyspace.keyCount;
    for (const { before, after } of this.touched.values()) n += Number(after !== null) - Number(before);
    return n;
  }

  get maxValueBytes(): number {
    return this.keyspace.limits.maxValueBytes;
  }

  /** True when committing would change storage or the log (an effect on no key: FUNCTION LOAD's). */
  get dirty(): boolean {
    return this.touched.size > 0 || this.cleared || this.elements.size > 0 || this.dropped.size > 0 || this.effects.length > 0;
  }
}
