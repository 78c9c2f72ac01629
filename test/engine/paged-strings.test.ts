// Strings stored in pages (durable-objects/engine/keyspace/page-layout.ts), on a master and a replica
// engine (in-memory storage): random writes and reads against a byte-array model, the canonical
// layout after each step, the replica equal by PSYNC and by a full sync in small chunks, and the
// effects small (a SETBIT on a 100 MB string is a one-byte SETRANGE). The row counts on SQLite are
// in test/engine/paged-strings-rows.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Engine } from "../../durable-objects/engine/engine";
import { INLINE_MAX, PAGE_BYTES, pageNumber } from "../../durable-objects/engine/keyspace/page-layout";
import { digest } from "../../durable-objects/engine/replication/sync";
import { catchUp, enginePair, fullSync } from "../support/engine-pair";

type Arg = string | number | Uint8Array;

function pair() {
  const p = enginePair();
  // A RENAME of a paged string while a full sync is under way is logged as its whole value (up to
  // 16 MiB here): the backlog must hold it, or the replica's catch-up is (rightly) a full resync.
  p.master.adoptConfig({ ...p.master.config, "repl-backlog-size": 64 * 1024 * 1024 }, p.master.configVersion + 1);
  const run = (engine: Engine, ...argv: Arg[]) => {
    // Arguments are text (bytes past ASCII are #33's): bytes below 0x80 as one character each.
    const out = engine.run({ mode: "single", commands: [argv.map((a) => (a instanceof Uint8Array ? new TextDecoder().decode(a) : String(a)))], permission: "admin" });
    // A request refused whole (past the log's bound) has no outcomes.
    if ("error" in out) throw new Error(out.error);
    const o = out.outcomes[0]! as { result?: unknown; error?: string };
    if (o.error !== undefined) throw new Error(o.error);
    return o.result;
  };
  return { ...p, run: (...argv: Arg[]) => run(p.master, ...argv), runOn: run };
}

/** The key's pages as stored: [page number, length, all zero] in order, or null for an inline string. */
function layout(engine: Engine, key: string): [number, number, boolean][] | null {
  const e = engine.storage.keys.get(key);
  if (e === null || e.eid === undefined) return null;
  expect(e.eid).toBeLessThan(0);
  return engine.storage.elements.page(e.eid, null, 1 << 20).map((r) => [pageNumber(r.field), r.value.length, r.value.every((b) => b === 0)]);
}

/** The canonical layout of a string of `length` bytes (see page-layout.ts). */
function expectCanonical(engine: Engine, key: string, length: number): void {
  const pages = layout(engine, key);
  if (length <= INLINE_MAX) {
    expect(pages).toBeNull();
    return;
  }
  expect(pages).not.toBeNull();
  const last = Math.floor((length - 1) / PAGE_BYTES);
  expect(pages!.at(-1)![0]).toBe(last);
  expect(pages!.at(-1)![1]).toBe(length - last * PAGE_BYTES);
  for (const [n, size, zero] of pages!.slice(0, -1)) {
    expect(n).toBeLessThan(last);
    expect(size).toBe(PAGE_BYTES);
    expect(zero).toBe(false);
  }
  const header = engine.storage.keys.get(key)!;
  expect(header.count).toBe(pages!.length);
  // The size kept in the header (what maxmemory counts) is the pages' own.
  expect(header.bytes).toBe(engine.keyspace.measureCollection(header.eid!).bytes);
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("strings stored in pages", () => {
  it("SETBIT at 2^32-1 and SETRANGE at 100,000,000 on fresh keys store one page and log a few bytes", () => {
    const { master, replica, run, clock } = pair();
    const before = master.log.offset;
    expect(run("SETBIT", "bits", 4294967295, 1)).toBe(0);
    expect(master.log.offset - before).toBeLessThan(100);
    expect(layout(master, "bits")).toEqual([[8191, PAGE_BYTES, false]]);
    expect(run("STRLEN", "bits")).toBe(512 * 1024 * 1024);
    expect(run("GETBIT", "bits", 4294967295)).toBe(1);
    expect(run("GETBIT", "bits", 4294967294)).toBe(0);
    expect(run("BITCOUNT", "bits")).toBe(1);
    expect(run("BITPOS", "bits", 1)).toBe(4294967295);
    expect(run("BITPOS", "bits", 0)).toBe(0);
    expect(run("BITPOS", "bits", 0, -1)).toBe(4294967288);
    expect(run("OBJECT", "ENCODING", "bits")).toEqual(new TextEncoder().encode("raw"));
    expect(run("SETRANGE", "r", 100_000_000, "x")).toBe(100_000_001);
    expect(layout(master, "r")).toEqual([[1525, 100_000_001 - 1525 * PAGE_BYTES, false]]);
    expect(text(run("GETRANGE", "r", -3, -1) as Uint8Array)).toBe("\0\0x");
    // A whole-value read of a string this long is refused, not attempted.
    expect(() => run("GET", "r")).toThrow(/past the 8388608 bytes one command reads at once/);
    fullSync({ master, replica, clock, syncing: { now: false } }, 100).finish();
    expect(digest(replica)).toBe(digest(master));
    expect(layout(replica, "bits")).toEqual(layout(master, "bits"));
  });

  it("a SETBIT on a 100 MB string ships an effect under 100 bytes, applied by the replica", () => {
    const { master, replica, clock, syncing, run } = pair();
    fullSync({ master, replica, clock, syncing }, 1 << 20).finish();
    run("SETRANGE", "big", 100 * 1024 * 1024 - 1, "z");
    catchUp(master, replica, 1 << 20);
    const before = master.log.offset;
    expect(run("SETBIT", "big", 8 * 50_000_000 + 3, 1)).toBe(0);
    expect(master.log.offset - before).toBeLessThan(100);
    catchUp(master, replica, 1 << 20);
    expect(digest(replica)).toBe(digest(master));
    expect(layout(replica, "big")).toEqual(layout(master, "big"));
  });

  it("a value written whole past INLINE_MAX is paged and logged in pieces, on the replica too", () => {
    const { master, replica, clock, syncing, run } = pair();
    const value = new Uint8Array(INLINE_MAX * 2 + 5).map((_, i) => (i % 127) + 1);
    value.fill(0, PAGE_BYTES * 3, PAGE_BYTES * 5);
    expect(run("SET", "v", value, "PX", 100000)).toBe("OK");
    expectCanonical(master, "v", value.length);
    // Pages 3 and 4 are all zeros: not stored.
    expect(layout(master, "v")!.map(([n]) => n)).not.toContain(3);
    expect(run("GET", "v")).toEqual(value);
    expect((run("MGET", "v") as Uint8Array[])[0]).toEqual(value);
    // The log holds the SET as a SET of its first MiB and SETRANGEs of the rest.
    const frames = master.storage.log.read(0, Infinity).map((e) => new TextDecoder().decode(e.frame.subarray(0, 40)));
    expect(frames.filter((f) => f.includes("SETRANGE")).length).toBe(2);
    fullSync({ master, replica, clock, syncing }, 64 * 1024).finish();
    expect(digest(replica)).toBe(digest(master));
    expect(run("APPEND", "v", "tail")).toBe(value.length + 4);
    catchUp(master, replica, 1 << 20);
    expect(digest(replica)).toBe(digest(master));
    expectCanonical(replica, "v", value.length + 4);
    expect(Number(run("PTTL", "v"))).toBeGreaterThan(0);
    expect(() => run("INCR", "v")).toThrow(/not an integer/);
  });

  it("RENAME of a paged string during a full sync is refused before its pages are read when the log could not take them", () => {
    const { master, run, syncing } = pair();
    const chunk = new Uint8Array(8 * 1024 * 1024).fill(7);
    for (let i = 0; i < 5; i++) run("SETRANGE", "huge", i * chunk.length, chunk);
    syncing.now = true;
    // Not one page read: 40 MB of them would be held at once only to be refused.
    const elements = master.storage.elements;
    const page = elements.page.bind(elements);
    let reads = 0;
    elements.page = (...args) => {
      reads++;
      return page(...args);
    };
    expect(() => run("RENAME", "huge", "moved")).toThrow(/replication log/);
    expect(reads).toBe(0);
    expect(run("EXISTS", "huge", "moved")).toBe(1);
    syncing.now = false;
    expect(run("RENAME", "huge", "moved")).toBe("OK");
    expect(run("STRLEN", "moved")).toBe(5 * chunk.length);
    // Far longer than any HyperLogLog: refused as Redis refuses an invalid one, without reading it
    // (it answered the 8 MiB read error before).
    expect(() => run("PFADD", "moved", "x")).toThrow(/^WRONGTYPE Key is not a valid HyperLogLog string value\.$/);
    expect(() => run("PFCOUNT", "moved")).toThrow(/^WRONGTYPE Key is not a valid HyperLogLog string value\.$/);
  });

  it("one request's string reads are held to 32 MiB together: MGET of five 8 MiB strings is refused, of four answered; a pipeline alike", () => {
    const { master, run } = pair();
    const chunk = new Uint8Array(1024 * 1024).fill(66);
    for (let i = 0; i < 8; i++) run("SETRANGE", "eight", i * chunk.length, chunk);
    expect(run("STRLEN", "eight")).toBe(8 * chunk.length);
    expect(() => run("MGET", "eight", "eight", "eight", "eight", "eight")).toThrow(/^ERR this request reads more than 33554432 bytes of string values/);
    expect((run("MGET", "eight", "eight", "eight", "eight") as Uint8Array[]).map((v) => v.length)).toEqual(Array(4).fill(8 * chunk.length));
    // A pipeline's commands share the request's budget: the fifth GET is refused, the others answered.
    const out = master.run({ mode: "pipeline", commands: Array.from({ length: 5 }, () => ["GET", "eight"]), permission: "admin" });
    if (!("outcomes" in out)) throw new Error(out.error);
    expect(out.outcomes.map((o) => ("error" in o ? o.error.slice(0, 30) : (o.result as Uint8Array).length))).toEqual([...Array(4).fill(8 * chunk.length), "ERR this request reads more th"]);
  });

  it("a paged string is counted in used_memory by its pages and evicted whole, its pages dropped", () => {
    const { master, run, clock } = pair();
    const used = () => Number(/used_memory:(\d+)/.exec(master.info(["memory"]))![1]);
    const chunk = new Uint8Array(1024 * 1024).fill(67);
    run("SETRANGE", "paged", 0, chunk);
    run("SETRANGE", "paged", chunk.length, chunk);
    const { eid } = master.storage.keys.get("paged")!;
    expect(master.storage.elements.count(eid!)).toBe(32);
    expect(used()).toBeGreaterThan(2 * chunk.length);
    expect(used()).toBeLessThan(2 * chunk.length + 64 * 1024);
    run("CONFIG", "SET", "maxmemory", "1mb", "maxmemory-policy", "allkeys-lru");
    clock.advance(1000);
    run("SET", "small", "v");
    expect(run("EXISTS", "paged")).toBe(0);
    expect(used()).toBeLessThan(1024 * 1024);
    master.purge();
    expect(master.storage.elements.count(eid!)).toBe(0);
  });

  it("random writes and reads agree with a byte-array model; the layout stays canonical; replicas end equal", () => {
    const spread = [0, INLINE_MAX - 3, INLINE_MAX + PAGE_BYTES * 2 - 1, 3 * INLINE_MAX];
    const offset = fc.tuple(fc.constantFrom(...spread), fc.integer({ min: 0, max: PAGE_BYTES + 9 })).map(([a, b]) => a + b);
    const bytes = fc.uint8Array({ minLength: 1, maxLength: 40, max: 127 });
    const op = fc.oneof(
      fc.record({ kind: fc.constant("setrange" as const), offset, bytes }),
      fc.record({ kind: fc.constant("append" as const), bytes }),
      fc.record({ kind: fc.constant("setbit" as const), offset, on: fc.boolean() }),
      fc.record({ kind: fc.constant("zero" as const), offset }),
      fc.record({ kind: fc.constant("bitfield" as const), offset, n: fc.integer({ min: -200, max: 200 }) }),
      fc.record({ kind: fc.constant("rename" as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 14 }), fc.boolean(), (ops, interleaved) => {
        const { master, replica, clock, run, syncing } = pair();
        // A full sync in 64 KiB chunks, one loaded after each write (a string's pages then span
        // chunks read at different offsets), or done before the first.
        const sync = fullSync({ master, replica, clock, syncing }, 64 * 1024);
        if (!interleaved) sync.finish();
        let model = new Uint8Array(0);
        let key = "s";
        const grow = (n: number) => {
          if (n <= model.length) return;
          const next = new Uint8Array(n);
          next.set(model);
          model = next;
        };
        const bit = (i: number) => (Math.floor(i / 8) < model.length ? (model[Math.floor(i / 8)]! >> (7 - (i % 8))) & 1 : 0);
        for (const o of ops) {
          if (o.kind === "setrange") {
            expect(run("SETRANGE", key, o.offset, o.bytes)).toBe(Math.max(model.length, o.offset + o.bytes.length));
            grow(o.offset + o.bytes.length);
            model.set(o.bytes, o.offset);
          } else if (o.kind === "append") {
            expect(run("APPEND", key, o.bytes)).toBe(model.length + o.bytes.length);
            const at = model.length;
            grow(at + o.bytes.length);
            model.set(o.bytes, at);
          } else if (o.kind === "setbit" || o.kind === "zero") {
            const on = o.kind === "setbit" && o.on ? 1 : 0;
            expect(run("SETBIT", key, o.offset * 8 + 5, on)).toBe(bit(o.offset * 8 + 5));
            grow(o.offset + 1);
            if (on) model[o.offset]! |= 4;
            else model[o.offset]! &= ~4;
            // Zeroing a whole page's worth: the page goes once nothing in it is set.
            if (o.kind === "zero") {
              run("SETRANGE", key, o.offset, new Uint8Array(Math.min(PAGE_BYTES, model.length - o.offset)));
              model.fill(0, o.offset, Math.min(model.length, o.offset + PAGE_BYTES));
            }
          } else if (o.kind === "bitfield") {
            const reply = run("BITFIELD", key, "INCRBY", "i16", o.offset * 8 + 3, o.n, "GET", "u8", o.offset * 8) as number[];
            grow(Math.floor((o.offset * 8 + 3 + 15) / 8) + 1);
            let v = 0;
            for (let b = 0; b < 16; b++) v = (v << 1) | bit(o.offset * 8 + 3 + b);
            const signed = ((v + o.n + 32768) % 65536 + 65536) % 65536 - 32768;
            for (let b = 0; b < 16; b++) {
              const at = o.offset * 8 + 3 + b;
              const mask = 1 << (7 - (at % 8));
              if ((signed >> (15 - b)) & 1) model[Math.floor(at / 8)]! |= mask;
              else model[Math.floor(at / 8)]! &= ~mask;
            }
            expect(reply).toEqual([signed, model[o.offset]!]);
          } else if (model.length > 0) {
            const to = key === "s" ? "t" : "s";
            run("RENAME", key, to);
            key = to;
          }
          expectCanonical(master, key, model.length);
          expect(run("STRLEN", key)).toBe(model.length);
          sync.chunk();
        }
        sync.finish();
        // Reads: ranges around page edges, counts and positions over the whole and parts.
        const n = model.length;
        if (n > 0)
          for (const [a, b] of [[0, -1], [PAGE_BYTES - 2, PAGE_BYTES + 1], [-5, -1], [INLINE_MAX - 1, INLINE_MAX + 1], [n - 3, n + 10]] as const) {
            const start = a < 0 ? Math.max(n + a, 0) : a;
            const end = Math.min(b < 0 ? Math.max(n + b, 0) : b, n - 1);
            if (n <= 8 * 1024 * 1024 || end - start < 1024) expect(run("GETRANGE", key, a, b)).toEqual(start > end ? new Uint8Array(0) : model.slice(start, end + 1));
            const slice = start > end ? new Uint8Array(0) : model.subarray(start, end + 1);
            let ones = 0;
            for (const x of slice) for (let y = x; y; y >>= 1) ones += y & 1;
            expect(run("BITCOUNT", key, a, b)).toBe(ones);
            let first1 = -1;
            let first0 = -1;
            for (let i = start * 8; i <= end * 8 + 7 && i < n * 8 && (first1 < 0 || first0 < 0); i++) {
              if (first1 < 0 && bit(i)) first1 = i;
              if (first0 < 0 && !bit(i)) first0 = i;
            }
            expect(run("BITPOS", key, 1, a, b)).toBe(first1);
            expect(run("BITPOS", key, 0, a, b)).toBe(first0);
          }
        catchUp(master, replica, 256 * 1024);
        expect(digest(replica)).toBe(digest(master));
        expectCanonical(replica, key, model.length);
        syncing.now = false;
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
