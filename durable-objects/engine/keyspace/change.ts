/**
 * What commands write through a change, named by what they do, besides each type's own writes
 * (types/): RENAME and COPY (logged as themselves or as what they wrote), deadlines, and the
 * keyspace's iteration (SCAN, RANDOMKEY). Every write is an effect applied as replicas apply it
 * (`apply`). The overlay they write on is overlay.ts, strings' reads and writes of pages pages.ts.
 */
import { applyKeyEffect, restoreEffects } from "../replication/effects";
import type { EffectCall, KeyEffect } from "../replication/effect";
import { copy, del, persist, pexpireat, rename } from "../generic/effects";
import { SLOTS, slotOf } from "../slot";
import { errors } from "../errors";
import { REQUEST_LIMITS } from "../limits";
import type { Element, ElementRow, Entry, KeyRow } from "../storage";
import { StringPages } from "./pages";

/** Pages of 64 keys RANDOMKEY reads at most once its draws found no live key (a command's cost stays bounded). */
const RANDOM_SCAN = 16;

/** An element as a copy of it is written: its value, score and deadline (a hash field's). */
const copied = (el: Element): Element => (el.expiresAt == null ? { value: el.value, score: el.score } : { value: el.value, score: el.score, expiresAt: el.expiresAt });

/** One command's or MULTI's change (Keyspace.begin): the overlay, and the keyspace's own writes commands make through it. */
export class Change extends StringPages {
  apply<A>(effect: KeyEffect<A>, key: string, args: A): void {
    applyKeyEffect(this, effect, key, args, this.nextPending(), false);
    this.record(effect.of(key, args));
  }

  /** Applies each of `calls` to `key`: a value written whole from its stored elements (restoreEffects). */
  applyAll(key: string, calls: readonly EffectCall[]): void {
    this.asCopies(() => {
      for (const { effect, args } of calls) this.apply(effect, key, args);
    });
  }

  /**
   * RENAME: `to` takes the live entry of `from`, `from` goes. A collection's is the RENAME effect
   * (it keeps its element id: its elements do not move) when `compact` (no full sync in
   * progress, see replication/protocol.ts); else, and for an inline string, what it did: DEL of
   * `from` and the value written whole under `to` (after a DEL of it, unless a SET replaces it).
   */
  rename(from: string, to: string, compact: boolean): void {
    const e = this.get(from);
    if (e === null || from === to) return;
    // A destination past its deadline is deleted as such first (Redis's lookupKeyWrite).
    this.exists(to);
    if (compact && e.eid !== undefined) {
      this.apply(rename, from, to);
      return;
    }
    const elements = e.eid === undefined ? [] : this.wholeElements(e);
    this.apply(del, from, null);
    if (e.eid !== undefined) this.apply(del, to, null);
    this.applyAll(to, restoreEffects(e, elements));
  }

  /**
   * COPY: `to` (absent, or deleted by the caller for REPLACE) gets a copy of the live entry of
   * `from`; a collection's elements are copied under a new id. A collection's is the COPY effect
   * when `compact`, else the value written whole.
   */
  copy(from: string, to: string, compact: boolean): void {
    const e = this.get(from);
    if (e === null) return;
    if (e.eid !== undefined && compact) {
      this.apply(copy, from, to);
      return;
    }
    const elements = e.eid === undefined ? [] : this.wholeElements(e);
    if (e.eid !== undefined) this.apply(del, to, null);
    this.applyAll(to, restoreEffects(e, elements));
  }

  /**
   * The elements (or pages) of `e`, to be logged whole: refused before they are read when they
   * would pass what one request may add to the log (a 100 MB string is not read into memory).
   */
  private wholeElements(e: Entry): ElementRow[] {
    if ((e.bytes ?? 0) > REQUEST_LIMITS.maxLogBytes) throw errors.logTooLarge(REQUEST_LIMITS.maxLogBytes);
    return this.allElements(e.eid!);
  }

  /**
   * Writes under `to` a copy of collection `e` under a new id (the COPY effect's work): copied by
   * the storage (one statement) when its elements are as stored, else element by element; stamped `mod`.
   */
  copyCollection(e: Entry, to: string, mod: number): void {
    const eid = this.newEidFor(e.type);
    if (this.copyStored(e.eid!, eid, mod, e.count ?? 0, e.type === "zset" || e.type === "list")) {
      this.adopt(to, { ...e, eid }, e.bytes ?? 0);
      return;
    }
    this.asCopies(() => {
      for (const el of this.allElements(e.eid!)) this.setElement(eid, el.field, { ...copied(el), mod });
    });
    this.write(to, { ...e, eid });
  }

  /** Sets or clears the deadline of a live key; a past deadline deletes it. */
  setDeadline(key: string, expiresAt: number | null): boolean {
    const e = this.get(key);
    if (e === null) return false;
    if (expiresAt !== null && expiresAt <= this.now) return this.delete(key);
    if (expiresAt === null) this.apply(persist, key, null);
    else this.apply(pexpireat, key, expiresAt);
    return true;
  }

  /**
   * One page of live keys from slot `cursor` on (a SCAN cursor: slot.ts), of at least `limit`
   * stored keys unless the keyspace ends first, and of whole slots; `next` is the slot after the
   * page's last, 0 on the last page. Keys this change created appear on the last page.
   */
  scan(cursor: number, limit: number): { rows: KeyRow[]; next: number } {
    const keys = this.keyspace.storage.keys;
    const stored = this.cleared ? [] : keys.scan(cursor, null, limit);
    let next = 0;
    if (stored.length === limit) {
      // The rest of the last slot: almost always nothing (two keys share a slot rarely).
      const { slot } = stored[stored.length - 1]!;
      for (;;) {
        const more = keys.scan(slot, stored[stored.length - 1]!.key, 8);
        const same = more.filter((r) => r.slot === slot);
        stored.push(...same);
        if (same.length < 8) break;
      }
      next = slot + 1;
    }
    const rows: KeyRow[] = [];
    for (const row of stored) {
      const entry = this.touched.has(row.key) ? this.touched.get(row.key)!.after : row.entry;
      if (entry !== null && (entry.expiresAt === null || entry.expiresAt > this.now)) rows.push({ ...row, entry });
    }
    if (next === 0)
      for (const [key, t] of this.touched)
        if (!t.before && t.after !== null && (t.after.expiresAt === null || t.after.expiresAt > this.now))
          rows.push({ slot: slotOf(key), key, entry: t.after });
    return { rows, next };
  }

  /**
   * A random live key, or null; `random` gives floats in [0, 1). When the draws meet only keys
   * that are gone (deleted by this change, or past their deadline), or miss the few live ones,
   * the first live key from a random slot on, round the keyspace, within RANDOM_SCAN pages.
   */
  randomKey(random: () => number): string | null {
    for (let tries = 0; tries < 100; tries++) {
      const key = this.cleared ? null : this.keyspace.storage.keys.random(random(), random());
      if (key === null) break;
      if (this.get(key) !== null) return key;
    }
    const start = Math.floor(random() * SLOTS);
    for (let cursor = start, wrapped = false, pages = 0; pages < RANDOM_SCAN; pages++) {
      const { rows, next } = this.scan(cursor, 64);
      const live = rows.find((r) => this.get(r.key) !== null);
      if (live) return live.key;
      if (next === 0) {
        if (wrapped || start === 0) return null;
        wrapped = true;
      } else if (wrapped && next > start) return null;
      cursor = next;
    }
    return null;
  }
}
