// Lists (issue 15): random LPUSH/RPUSH/LPOP/RPOP/LINSERT/LREM/LTRIM/LSET/LMOVE against an array
// model (replies and contents after every step, positions always in list order); lists at the
// edge of the position space; and lists through replication: a full sync in small chunks while
// lists change (LMOVE between them, RENAME, COPY, respaced windows), every delivery duplicated,
// ending with the master's digest and exact counts on both sides.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBytes, fromText } from "../../durable-objects/engine/bytes";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { ELEMENT_OVERHEAD, datasetSize } from "../../durable-objects/engine/sizes";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { digest } from "../../durable-objects/engine/replication/sync";
import { MAX_POSITION, MIN_POSITION, fieldOf } from "../../durable-objects/engine/types/list/positions";
import { toJsonOutcome } from "../../worker/reply";
import { sizesExact } from "../support/dataset";
import { catchUp, enginePair, fullSync, writesAroundFullSync } from "../support/engine-pair";
import { newEngine } from "../support/fixtures";

type Model = Map<string, string[]>;

/** Runs one command; its reply in JSON form, or `{ error }`. */
function call(engine: Engine, argv: readonly (string | number)[]): unknown {
  const result = engine.run({ mode: "single", commands: [argv.map(String).map(fromText)], permission: "admin" });
  if (!("outcomes" in result)) throw new Error(result.error);
  const o = toJsonOutcome(result.outcomes[0]!, false) as { result?: unknown; error?: string };
  return o.error !== undefined ? { error: o.error } : o.result;
}

/** Every list's element rows are in position order, each field naming its score, the header's count and size exact. */
function wellFormed(engine: Engine) {
  for (const row of engine.storage.keys.scan(0, null, 1_000_000)) {
    if (row.entry.type !== "list") continue;
    const rows = engine.storage.elements.page(row.entry.eid!, null, 1_000_000);
    expect(rows.length, row.key).toBe(row.entry.count);
    expect(rows.length, row.key).toBeGreaterThan(0);
    for (const [i, el] of rows.entries()) {
      expect(el.field).toBe(fieldOf(el.score!));
      expect(el.score! >= MIN_POSITION && el.score! <= MAX_POSITION).toBe(true);
      if (i > 0) expect(el.score!).toBeGreaterThan(rows[i - 1]!.score!);
    }
  }
  sizesExact(engine);
}

/** Redis's index normalization for LRANGE/LTRIM: [start, stop] clamped, or null when empty. */
function span(n: number, start: number, stop: number): [number, number] | null {
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (start < 0) start = 0;
  if (start > stop || start >= n) return null;
  return [start, Math.min(stop, n - 1)];
}

const lkey = fc.constantFrom("a", "b");
const value = fc.constantFrom("p", "q", "r", "s");
const index = fc.integer({ min: -8, max: 8 });
const end = fc.constantFrom("LEFT", "RIGHT");
type Op = (string | number)[];
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"), lkey, fc.array(value, { minLength: 1, maxLength: 4 })).map(([c, k, vs]) => [c, k, ...vs]) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom("LPOP", "RPOP"), lkey).map(([c, k]) => [c, k]) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom("LPOP", "RPOP"), lkey, fc.integer({ min: 0, max: 5 })).map(([c, k, n]) => [c, k, n]) },
  { weight: 4, arbitrary: fc.tuple(lkey, fc.constantFrom("BEFORE", "AFTER"), value, value).map(([k, w, p, v]) => ["LINSERT", k, w, p, v]) },
  { weight: 2, arbitrary: fc.tuple(lkey, fc.integer({ min: -3, max: 3 }), value).map(([k, n, v]) => ["LREM", k, n, v]) },
  { weight: 1, arbitrary: fc.tuple(lkey, index, index).map(([k, a, b]) => ["LTRIM", k, a, b]) },
  { weight: 2, arbitrary: fc.tuple(lkey, index, value).map(([k, i, v]) => ["LSET", k, i, v]) },
  { weight: 2, arbitrary: fc.tuple(lkey, lkey, end, end).map(([s, d, f, t]) => ["LMOVE", s, d, f, t]) },
  { weight: 1, arbitrary: fc.tuple(lkey, value).map(([k, v]) => ["LINSERT*", k, v]) },
);

/** LINSERT* k v: twenty LINSERTs before the first v (one spot: its neighbours' room runs out and a window is respaced). */
function expand(o: Op): Op[] {
  if (o[0] !== "LINSERT*") return [o];
  return Array.from({ length: 20 }, (_, i) => ["LINSERT", o[1]!, "BEFORE", o[2]!, `${o[2]}${i}`]);
}

/** What Redis answers to `o` on `model` (which it updates). */
function modelRun(model: Model, o: Op): unknown {
  const [cmd, k] = [o[0] as string, o[1] as string];
  const list = model.get(k);
  const save = (l: string[]) => (l.length === 0 ? model.delete(k) : model.set(k, l));
  switch (cmd) {
    case "LPUSH":
    case "RPUSH":
    case "LPUSHX":
    case "RPUSHX": {
      if (!list && cmd.endsWith("X")) return 0;
      const l = list ?? [];
      for (const v of o.slice(2) as string[]) cmd.startsWith("L") ? l.unshift(v) : l.push(v);
      save(l);
      return l.length;
    }
    case "LPOP":
    case "RPOP": {
      if (!list) return null;
      const n = o.length > 2 ? (o[2] as number) : null;
      const take = Math.min(n ?? 1, list.length);
      const out = cmd === "LPOP" ? list.splice(0, take) : list.splice(list.length - take, take).reverse();
      save(list);
      return n === null ? out[0]! : out;
    }
    case "LINSERT": {
      if (!list) return 0;
      const at = list.indexOf(o[3] as string);
      if (at === -1) return -1;
      list.splice(o[2] === "BEFORE" ? at : at + 1, 0, o[4] as string);
      return list.length;
    }
    case "LREM": {
      if (!list) return 0;
      const n = o[2] as number;
      const v = o[3] as string;
      const order = [...list.keys()];
      if (n < 0) order.reverse();
      const doomed = new Set<number>();
      for (const i of order) if (list[i] === v && (n === 0 || doomed.size < Math.abs(n))) doomed.add(i);
      save(list.filter((_, i) => !doomed.has(i)));
      return doomed.size;
    }
    case "LTRIM": {
      if (!list) return "OK";
      const s = span(list.length, o[2] as number, o[3] as number);
      save(s === null ? [] : list.slice(s[0], s[1] + 1));
      return "OK";
    }
    case "LSET": {
      if (!list) return { error: "ERR no such key" };
      const i = (o[2] as number) < 0 ? list.length + (o[2] as number) : (o[2] as number);
      if (i < 0 || i >= list.length) return { error: "ERR index out of range" };
      list[i] = o[3] as string;
      return "OK";
    }
    case "LMOVE": {
      if (!list) return null;
      const v = o[3] === "LEFT" ? list.shift()! : list.pop()!;
      save(list);
      const dst = model.get(o[2] as string) ?? [];
      o[4] === "LEFT" ? dst.unshift(v) : dst.push(v);
      model.set(o[2] as string, dst);
      return v;
    }
  }
  throw new Error(`model: ${cmd}`);
}

describe("lists against an array model", () => {
  it("random pushes, pops, inserts, removals, trims, sets and moves answer as Redis and keep positions in order (property)", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 80, size: "max" }), (ops) => {
        const engine = newEngine();
        const model: Model = new Map();
        for (const o of ops.flatMap(expand)) {
          expect(call(engine, o), JSON.stringify(o)).toEqual(modelRun(model, o));
          for (const k of ["a", "b"]) {
            const l = model.get(k) ?? [];
            expect(call(engine, ["LRANGE", k, 0, -1]), k).toEqual(l);
            expect(call(engine, ["LLEN", k])).toBe(l.length);
          }
        }
        // Reads from either end and by index agree with the model at the end.
        for (const k of ["a", "b"]) {
          const l = model.get(k) ?? [];
          for (let i = -l.length - 1; i <= l.length; i++) expect(call(engine, ["LINDEX", k, i])).toBe(l.at(i) ?? null);
          for (const [a, b] of [[1, -2], [-3, -1], [0, 2], [2, 100]] as const) {
            const s = span(l.length, a, b);
            expect(call(engine, ["LRANGE", k, a, b])).toEqual(s === null ? [] : l.slice(s[0], s[1] + 1));
          }
          for (const v of ["p", "q"]) {
            const all = [...l.keys()].filter((i) => l[i] === v);
            expect(call(engine, ["LPOS", k, v, "COUNT", 0])).toEqual(all);
            expect(call(engine, ["LPOS", k, v, "RANK", -1])).toBe(all.at(-1) ?? null);
          }
        }
        wellFormed(engine);
      }),
      { numRuns: 150 },
    );
  });

  it("a list at the edge of the position space respaces instead of leaving it", () => {
    const storage = new MemoryStorage();
    storage.meta.set("next_eid", 2);
    const at = [MIN_POSITION, MIN_POSITION + 1, MAX_POSITION - 1, MAX_POSITION];
    at.forEach((p, i) => storage.elements.put(1, fieldOf(p), { value: new TextEncoder().encode(`v${i}`), score: p }));
    const bytes = datasetSize(storage.elements.measure(1), ELEMENT_OVERHEAD);
    storage.keys.put("l", { type: "list", value: new Uint8Array(), expiresAt: null, eid: 1, count: 4, bytes });
    const engine = new Engine(storage, { clock: new ManualClock(), random: { next: () => 0.5, hex: (n) => "ab".repeat(n) } });
    expect(call(engine, ["LPUSH", "l", "first"])).toBe(5);
    expect(call(engine, ["RPUSH", "l", "last"])).toBe(6);
    expect(call(engine, ["LINSERT", "l", "AFTER", "v0", "between"])).toBe(7);
    expect(call(engine, ["LINSERT", "l", "BEFORE", "v3", "between2"])).toBe(8);
    expect(call(engine, ["LRANGE", "l", 0, -1])).toEqual(["first", "v0", "between", "v1", "v2", "between2", "v3", "last"]);
    wellFormed(engine);
    // Each respace was logged as LDEL of the old window and LPUT of its new places.
    const frames = storage.log.read(0, Infinity).map((e) => fromBytes(e.frame));
    expect(frames.filter((f) => f.includes("LDEL")).length).toBeGreaterThanOrEqual(1);
  });
});

// ---- Through replication -------------------------------------------------------------------



const rkey = fc.constantFrom("a", "b", "c");
const write: fc.Arbitrary<Op[]> = fc.oneof(
  { weight: 6, arbitrary: op.filter((o) => o[0] !== "LINSERT*").map((o) => [o]) },
  { weight: 1, arbitrary: op.filter((o) => o[0] === "LINSERT*").map(expand) },
  { weight: 1, arbitrary: fc.tuple(rkey, fc.integer({ min: 5, max: 60 })).map(([k, n]) => [["RPUSH", k, ...Array.from({ length: n }, (_, i) => `e${i}`)]]) },
  { weight: 1, arbitrary: fc.tuple(rkey, rkey).map(([a, b]) => [["RENAME", a, b]]) },
  { weight: 1, arbitrary: fc.tuple(rkey, rkey).map(([a, b]) => [["COPY", a, b, "REPLACE"]]) },
  { weight: 1, arbitrary: fc.tuple(rkey, rkey, end, end).map(([s, d, f, t]) => [["LMOVE", s, d, f, t]]) },
  { weight: 1, arbitrary: fc.tuple(rkey, fc.integer({ min: 1, max: 3 })).map(([k, n]) => [["LMPOP", 2, k, "c", "RIGHT", "COUNT", n]]) },
  { weight: 1, arbitrary: rkey.map((k) => [["DEL", k]]) },
  { weight: 1, arbitrary: rkey.map((k) => [["SET", k, "str"]]) },
  { weight: 1, arbitrary: rkey.map((k) => [["PEXPIRE", k, "100000"]]) },
  { weight: 1, arbitrary: fc.constant<Op[]>([["FLUSHALL"]]) },
);
/** A write alone, or two in a MULTI (effects of one commit, each at its own offset). */
const batch = fc.oneof(
  { weight: 5, arbitrary: write.map((commands) => ({ multi: false, commands })) },
  { weight: 1, arbitrary: fc.tuple(write, write).map(([a, b]) => ({ multi: true, commands: [...a.slice(0, 1), ...b.slice(0, 1)] })) },
);
type Step = { kind: "write"; batch: { multi: boolean; commands: Op[] } } | { kind: "chunk" };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: batch.map((b) => ({ kind: "write" as const, batch: b })) },
  { weight: 2, arbitrary: fc.constant({ kind: "chunk" as const }) },
);

describe("lists through replication", () => {
  it("a full sync in chunks while lists change ends equal to the master, counts exact (property)", () => {
    fc.assert(
      fc.property(
        fc.array(batch, { maxLength: 25, size: "max" }),
        fc.array(step, { maxLength: 50, size: "max" }),
        fc.array(batch, { maxLength: 15, size: "max" }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 400 }),
        (before, during, after, chunkBytes, pullBytes) => {
          const p = enginePair();
          const { master, replica, syncing } = p;
          const run = (b: { multi: boolean; commands: Op[] }) => {
            const commands = b.commands.map((c) => c.map(String));
            if (b.multi) master.run({ mode: "multi", commands, permission: "admin" });
            else for (const c of commands) master.run({ mode: "single", commands: [c], permission: "admin" });
          };
          writesAroundFullSync(p, run, { before, during, after, chunkBytes, pullBytes }, (o: { batch: { multi: boolean; commands: Op[] } }) => o.batch);
          expect(digest(replica)).toBe(digest(master));
          expect(replica.log.offset).toBe(master.log.offset);
          wellFormed(master);
          wellFormed(replica);
          expect(replica.keyspace.usedBytes).toBe(master.keyspace.usedBytes);
          for (const k of ["a", "b", "c"]) expect(call(replica, ["LRANGE", k, 0, -1]), k).toEqual(call(master, ["LRANGE", k, 0, -1]));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a big list spanning many chunks, popped, pushed, trimmed and moved between every chunk", () => {
    const p = enginePair();
    const { master, replica, syncing } = p;
    const run = (...argv: (string | number)[]) => call(master, argv);
    run("RPUSH", "big", ...Array.from({ length: 500 }, (_, i) => `v${i}`));
    const sync = fullSync(p, 300);
    for (let i = 0; !sync.done; i++) {
      sync.chunk();
      // Elements already sent, not yet sent, and the list whole.
      run("LPOP", "big");
      run("RPUSH", "big", `new${i}`);
      run("LSET", "big", 250 - i, `set${i}`);
      run("LINSERT", "big", "BEFORE", `v${300 + i}`, `ins${i}`);
      run("LMOVE", "big", "other", "RIGHT", "LEFT");
      if (i % 5 === 0) run("LTRIM", "big", 1, -2);
      if (i === 20) run("RENAME", "big", "big2"); // logged as the list written whole (a full sync is in progress)
      // Bursts at one spot, so windows are respaced, in parts sent (v60) and not yet sent (v450).
      if (i === 24) for (let j = 0; j < 20; j++) run("LINSERT", "big", "BEFORE", "v450", `burst${j}`);
      if (i === 26) for (let j = 0; j < 20; j++) run("LINSERT", "big", "AFTER", "v60", `burst${j}`);
      if (i === 21) run("RENAME", "big2", "big");
    }
    const chunks = sync.chunks;
    expect(chunks).toBeGreaterThan(10);
    sync.finish();
    catchUp(master, replica, 500);
    syncing.now = false;
    expect(digest(replica)).toBe(digest(master));
    wellFormed(replica);
    wellFormed(master);
    expect(replica.keyspace.usedBytes).toBe(master.keyspace.usedBytes);
    expect(call(replica, ["LRANGE", "big", 0, -1])).toEqual(call(master, ["LRANGE", "big", 0, -1]));
    expect(call(replica, ["LLEN", "other"])).toBe(chunks);
  });
});
