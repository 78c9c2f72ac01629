/**
 * The write-behind of keys (sqlite/write-behind.ts) alone, on a host that keeps its table, marker
 * and log in memory: its invariant, that a restart replaying the log from the marker gives back
 * every key a committed transaction wrote, under random transactions that defer, store, roll back
 * and trim.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Entry } from "../../durable-objects/engine/storage";
import { DEFER_KEYS, WriteBehind, type WriteBehindHost } from "../../durable-objects/sqlite/write-behind";

const entry = (v: string): Entry => ({ type: "string", value: new TextEncoder().encode(v), expiresAt: null });
const text = (e: Entry | null | undefined) => (e ? new TextDecoder().decode(e.value) : e);

/** A database in memory: keys, the marker and log runs (each the keys its effects wrote), with rollback. */
class FakeDb implements WriteBehindHost {
  table = new Map<string, Entry | null>();
  marker: number | null = null;
  log: { offset: number; writes: [string, Entry | null][] }[] = [];
  offset = 0;
  wb = new WriteBehind(this);

  store(writes: Map<string, Entry | null>): void {
    for (const [k, e] of writes) this.table.set(k, e);
    writes.clear();
  }
  mark(offset: number | null): void {
    this.marker = offset;
  }
  transaction(fn: () => void): void {
    const saved = { table: new Map(this.table), marker: this.marker, log: [...this.log], offset: this.offset };
    const level = this.wb.begin();
    try {
      fn();
      const defer = this.wb.finish(level);
      this.wb.committed(level, defer);
    } catch (e) {
      Object.assign(this, saved);
      this.wb.rolledBack(level);
      throw e;
    }
  }
  /** Keys written and logged as one run, as a commit does. */
  commit(writes: [string, Entry | null][]): void {
    for (const [k, e] of writes) this.wb.write(k, e);
    const start = this.offset;
    this.offset += 10 * writes.length + 1;
    this.log.push({ offset: start, writes });
    this.wb.logAppended(start, this.offset);
  }
  trim(offset: number): void {
    this.wb.beforeTrim(offset);
    this.log = this.log.filter((r) => r.offset >= offset);
  }
  /** What a restart finds: the table, with the log replayed from the marker. */
  restarted(): Map<string, Entry | null> {
    const table = new Map(this.table);
    if (this.marker !== null) for (const run of this.log) if (run.offset >= this.marker) for (const [k, e] of run.writes) table.set(k, e);
    return table;
  }
}

describe("the write-behind of keys", () => {
  it("keeps a keys-only transaction's keys in memory, with the marker at its log; stores them all on another write", () => {
    const db = new FakeDb();
    db.transaction(() => db.commit([["a", entry("1")], ["b", entry("2")]]));
    expect(db.table.size).toBe(0);
    expect(db.marker).toBe(0);
    expect(db.wb.deferred).toBe(2);
    expect(text(db.wb.read("a"))).toBe("1");
    db.transaction(() => {
      db.commit([["c", entry("3")]]);
      db.wb.otherWrite();
    });
    expect([...db.table.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(db.marker).toBeNull();
    expect(db.wb.deferred).toBe(0);
  });

  it("defers again the keys a rolled-back transaction had stored, and restores the marker", () => {
    const db = new FakeDb();
    db.transaction(() => db.commit([["a", entry("1")]]));
    expect(() =>
      db.transaction(() => {
        db.wb.otherWrite();
        db.wb.storeAll();
        throw new Error("dies");
      }),
    ).toThrow("dies");
    expect(db.table.size).toBe(0);
    expect(db.marker).toBe(0);
    expect(text(db.wb.read("a"))).toBe("1");
  });

  it("stores the deferred keys before the log is trimmed past the marker", () => {
    const db = new FakeDb();
    db.transaction(() => db.commit([["a", entry("1")]]));
    db.transaction(() => db.commit([["b", entry("2")]]));
    db.trim(db.offset);
    expect(db.marker).toBeNull();
    expect(db.restarted()).toEqual(new Map([["a", entry("1")], ["b", entry("2")]]));
  });

  it("stores rather than defers past DEFER_KEYS", () => {
    const db = new FakeDb();
    db.transaction(() => db.commit(Array.from({ length: DEFER_KEYS + 1 }, (_, i) => [`k${i}`, entry("v")] as [string, Entry])));
    expect(db.wb.deferred).toBe(0);
    expect(db.table.size).toBe(DEFER_KEYS + 1);
  });

  it("a restart that replays the log from the marker finds every key a committed transaction wrote", () => {
    type Op = { kind: "tx"; keys: [number, number | null][]; other: boolean; fails: boolean; nested: boolean } | { kind: "trim" };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant("tx" as const), keys: fc.array(fc.tuple(fc.nat(7), fc.option(fc.nat(99), { nil: null })), { maxLength: 4 }), other: fc.boolean(), fails: fc.boolean(), nested: fc.boolean() }) },
      { weight: 1, arbitrary: fc.constant({ kind: "trim" as const }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const db = new FakeDb();
        const model = new Map<string, Entry | null>();
        for (const o of ops) {
          if (o.kind === "trim") {
            db.trim(db.offset);
            continue;
          }
          const writes = o.keys.map(([k, v]) => [`k${k}`, v === null ? null : entry(String(v))] as [string, Entry | null]);
          try {
            db.transaction(() => {
              if (o.nested) db.transaction(() => db.commit(writes.slice(0, 1)));
              db.commit(o.nested ? writes.slice(1) : writes);
              if (o.other) db.wb.otherWrite();
              if (o.fails) throw new Error("dies");
            });
            for (const [k, e] of writes) model.set(k, e);
          } catch {
            // rolled back: the model keeps what was before
          }
          // Reads see every committed write.
          for (const [k, e] of model) expect(text(db.wb.read(k) !== undefined ? db.wb.read(k) : (db.table.get(k) ?? null)), k).toBe(text(e));
          // The invariant: a restart gives back every committed write.
          const after = db.restarted();
          for (const [k, e] of model) expect(text(after.get(k) ?? null), k).toBe(text(e));
        }
      }),
      { numRuns: 300 },
    );
  });
});
