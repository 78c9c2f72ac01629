/**
 * A change's reads and writes of strings, inline or stored in pages (the layout: page-layout.ts).
 * The writes record no effect: they are how the string type's effects (types/string/effects.ts)
 * apply, on a master (types/string/writes.ts) as on a replica, each stamped with its offset.
 */
import { type Bytes, overwriteBytes } from "../bytes";
import type { Element, Entry, StringEncoding } from "../storage";
import type { Overlay } from "./overlay";
import { StorageWork } from "./storage-work";
import { INLINE_MAX, PAGE_BYTES, READ_BUDGET, READ_MAX, pageField, pageNumber, readTooLarge, readsTooLarge } from "./page-layout";

const EMPTY = new Uint8Array(0);

const allZero = (b: Bytes): boolean => {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
};

/** A change's strings: reads of any part of a value and writes that touch only the pages they change. */
export abstract class StringPages extends StorageWork {
  /**
   * The lengths of paged strings this change has read or written, by element id, so a command
   * reads a string's last page once (`writeStringAt` keeps them; a rollback forgets them).
   */
  private readonly lengths = new Map<number, number>();

  /** The length of string `e`. */
  stringLength(e: Entry): number {
    if (e.eid === undefined) return e.value.length;
    const known = this.lengths.get(e.eid);
    if (known !== undefined) return known;
    for (let before: string | null = null; ; ) {
      const { rows, next } = this.listPageBackward(e.eid, before, 1);
      const last = rows[0];
      if (last) {
        const length = pageNumber(last.field) * PAGE_BYTES + last.value.length;
        this.lengths.set(e.eid, length);
        return length;
      }
      if (next === null) throw new Error(`storage: paged string ${e.eid} has no last page`);
      before = next;
    }
  }

  override rollback(...args: Parameters<Overlay["rollback"]>): void {
    super.rollback(...args);
    this.lengths.clear();
  }

  override dropElementsWrittenBefore(eid: number, offset: number): void {
    super.dropElementsWrittenBefore(eid, offset);
    this.lengths.delete(eid);
  }

  /** Bytes [from, to) of string `e` (within its length), zeros where no page is stored; read-only. @throws ERR past READ_MAX */
  stringBytes(e: Entry, from: number, to: number): Bytes {
    if (to - from > READ_MAX) throw readTooLarge(to - from);
    // Counted for the whole request (its changes share the budget), held to READ_BUDGET.
    this.budget.reads += Math.max(0, to - from);
    if (this.budget.reads > READ_BUDGET) throw readsTooLarge();
    return this.bytesOf(e, from, to);
  }

  /** Bytes [from, to) of string `e` without a command's read bounds (an export's read: its caller bounds it); read-only. */
  bytesOf(e: Entry, from: number, to: number): Bytes {
    if (e.eid === undefined) return e.value.subarray(from, to);
    const out = new Uint8Array(Math.max(0, to - from));
    this.eachPage(e, from, to, (start, bytes) => {
      const a = Math.max(from, start);
      const b = Math.min(to, start + bytes.length);
      out.set(bytes.subarray(a - start, b - start), a - from);
    });
    return out;
  }

  /** The whole value of string `e`. @throws ERR past READ_MAX, or past READ_BUDGET with the request's other reads */
  stringValue(e: Entry): Bytes {
    return this.stringBytes(e, 0, this.stringLength(e));
  }

  /** The string value of `key`, null when missing. @throws WRONGTYPE; ERR past READ_MAX */
  getString(key: string): Bytes | null {
    const e = this.lookupString(key);
    return e === null ? null : this.stringValue(e);
  }

  /**
   * Calls `fn` for each stored part of string `e` holding bytes in [from, to), in order: the
   * offset of its first byte and its bytes, which may reach past the range (an inline string is
   * one part; a paged one's missing pages are zeros and not given). `fn` returns true to stop.
   */
  eachPage(e: Entry, from: number, to: number, fn: (start: number, bytes: Bytes) => boolean | void): void {
    if (from >= to) return;
    if (e.eid === undefined) {
      fn(0, e.value);
      return;
    }
    const last = Math.floor((to - 1) / PAGE_BYTES);
    for (let after = Math.floor(from / PAGE_BYTES) - 1; after < last; ) {
      const { rows, next } = this.elementsPage(e.eid, after < 0 ? null : pageField(after), Math.min(last - after, 64));
      for (const row of rows) {
        const n = pageNumber(row.field);
        if (n > last || fn(n * PAGE_BYTES, row.value) === true) return;
      }
      if (next === null) return;
      after = pageNumber(next);
    }
  }

  /**
   * Writes `bytes` (not empty) at `offset` of string `e` (live, or null: created zero-padded) under
   * `key`, keeping its deadline, paged once it passes INLINE_MAX; `raw` (for a string that stays
   * inline) marks it changed in place; stamped `mod`. Records no effect. @returns the new length
   */
  writeStringAt(key: string, e: Entry | null, offset: number, bytes: Bytes, raw: boolean, mod: number): number {
    const length = e === null ? 0 : this.stringLength(e);
    const end = Math.max(length, offset + bytes.length);
    const expiresAt = e?.expiresAt ?? null;
    if (end <= INLINE_MAX) {
      const value = e === null && offset === 0 ? bytes : overwriteBytes(e?.value ?? EMPTY, offset, bytes);
      const entry: Entry = raw ? { type: "string", value, expiresAt, encoding: "raw" } : { type: "string", value, expiresAt };
      this.write(key, { ...entry, mod });
      return end;
    }
    const eid = e?.eid ?? this.newEidFor("string");
    let count = e?.eid === undefined ? 0 : (e.count ?? 0);
    const lastPage = Math.floor((end - 1) / PAGE_BYTES);
    /** Writes page `n` as it is with `from` written over it at `at` (past its end: zero-padded), unless the page is all zeros and not the last. */
    const update = (n: number, base: Bytes | null, from: Bytes, at: number) => {
      const size = n === lastPage ? end - n * PAGE_BYTES : PAGE_BYTES;
      const page = new Uint8Array(size);
      if (base !== null) page.set(base.subarray(0, size));
      const start = n * PAGE_BYTES;
      const a = Math.max(at, start);
      const b = Math.min(at + from.length, start + size);
      if (a < b) page.set(from.subarray(a - at, b - at), a - start);
      const keep = n === lastPage || !allZero(page);
      if (keep) this.setPage(eid, n, page, base, mod);
      else if (base !== null) this.setPage(eid, n, null, base, mod);
      count += Number(keep) - Number(base !== null);
    };
    // An inline string becomes pages first (its zero pages left out).
    if (e !== null && e.eid === undefined)
      for (let n = 0; n * PAGE_BYTES < length; n++) update(n, null, e.value, 0);
    const stored = (n: number): Bytes | null => this.element(eid, pageField(n))?.value ?? null;
    // The old last page grows to a whole page when the string grows past it.
    const oldLast = length === 0 ? -1 : Math.floor((length - 1) / PAGE_BYTES);
    const first = Math.floor(offset / PAGE_BYTES);
    const touchedLast = Math.floor((offset + bytes.length - 1) / PAGE_BYTES);
    if (oldLast >= 0 && oldLast < lastPage && oldLast < first) update(oldLast, stored(oldLast), EMPTY, 0);
    for (let n = first; n <= touchedLast; n++) update(n, stored(n), bytes, offset);
    // The header keeps what it had (its size above all: `sized` adds this change's growth to it).
    const header: Entry = e?.eid !== undefined ? { ...e, count } : { type: "string", value: EMPTY, expiresAt, eid, count, encoding: "raw" };
    this.write(key, { ...header, mod });
    this.lengths.set(eid, end);
    return end;
  }

  /**
   * Writes `value` whole as the string at `key` (what was there goes) with `expiresAt` and
   * `encoding`, paged when past INLINE_MAX, stamped `mod`. Records no effect.
   */
  putString(key: string, value: Bytes, expiresAt: number | null, encoding: StringEncoding | undefined, mod: number): void {
    const entry: Entry = encoding ? { type: "string", value, expiresAt, encoding } : { type: "string", value, expiresAt };
    if (value.length <= INLINE_MAX) {
      this.replace(key, { ...entry, mod });
      return;
    }
    this.replace(key, null);
    this.writeStringAt(key, null, 0, value, true, mod);
    if (expiresAt !== null) {
      const e = this.raw(key)!;
      this.write(key, { ...e, expiresAt });
    }
  }

  /**
   * Appends `suffix` to string `current` (null: missing) of `length` under `key`, stamped `mod`.
   * Appended to, even nothing, a string is changed in place (Redis's raw encoding); a
   * new one is not. Records no effect. @returns the new length
   */
  appendAt(key: string, current: Entry | null, length: number, suffix: Bytes, mod: number): number {
    if (suffix.length > 0) return this.writeStringAt(key, current, length, suffix, current !== null, mod);
    const entry: Entry = current === null ? { type: "string", value: suffix, expiresAt: null } : { ...current, encoding: "raw" };
    this.write(key, { ...entry, mod });
    return length;
  }

  /** Writes (null: deletes) page `n` of `eid`, whose stored bytes are `base`. */
  private setPage(eid: number, n: number, bytes: Bytes | null, base: Bytes | null, mod: number): void {
    const page: Element | null = bytes === null ? null : { value: bytes, score: null, mod };
    this.putElement(eid, pageField(n), page, base === null ? null : { value: base, score: null });
  }
}
