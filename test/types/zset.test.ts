// Sorted sets (issue 15): random writes and queries against a small model (a Map member → score,
// ordered by (score, member bytes)), on the engine alone and, fewer runs, on the real node
// (SQLite, its elements_by_score index); MULTIs put a command's own pending writes into the
// ordered queries. Then replication: a full sync in small chunks while sorted sets change, every
// delivery duplicated, RENAME/COPY, counts exact on both sides and digests equal. Last, the index
// at work on a 20,000-member set: ZRANGE 0 9, a score range, a low rank each read a few rows.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { fromBytes, fromText } from "../../durable-objects/engine/bytes";
import type { Engine } from "../../durable-objects/engine/engine";
import { digest } from "../../durable-objects/engine/replication/sync";
import { catchUp, enginePair, fullSync, writesAroundFullSync } from "../support/engine-pair";
import { formatScore, readScore } from "../../durable-objects/engine/types/zset/score";
import { toJsonOutcome } from "../../worker/reply";
import { sizesExact } from "../support/dataset";
import { newEngine } from "../support/fixtures";
import { call, nodeApi, redis } from "../support/helpers";

// ---- The model ---------------------------------------------------------------------------------

type Zset = Map<string, number>;
type Model = Map<string, Zset>;

const utf8 = new TextEncoder();
function compareBytes(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
const order = (a: [string, number], b: [string, number]) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : compareBytes(a[0], b[0]));
const sorted = (z: Zset | undefined): [string, number][] => [...(z ?? [])].sort(order);
const num = (s: string) => (s === "inf" || s === "+inf" ? Infinity : s === "-inf" ? -Infinity : Number(s));
function bound(s: string): { v: number; ex: boolean } {
  const ex = s.startsWith("(");
  const t = ex ? s.slice(1) : s;
  return { v: t === "+inf" || t === "inf" ? Infinity : t === "-inf" ? -Infinity : Number(t), ex };
}
const inScore = (score: number, min: string, max: string) => {
  const lo = bound(min);
  const hi = bound(max);
  return (lo.ex ? score > lo.v : score >= lo.v) && (hi.ex ? score < hi.v : score <= hi.v);
};
const inLex = (m: string, min: string, max: string) =>
  (min === "-" || (min !== "+" && (min[0] === "(" ? compareBytes(m, min.slice(1)) > 0 : compareBytes(m, min.slice(1)) >= 0))) &&
  (max === "+" || (max !== "-" && (max[0] === "(" ? compareBytes(m, max.slice(1)) < 0 : compareBytes(m, max.slice(1)) <= 0)));
/**
 * The members a lex range covers as Redis walks it in (score, member) order: nothing unless the
 * first member is at most the max and the last at least the min; else from the first member at
 * or past the min, none unless it is at most the max, and on while members are at most the max.
 * (With one score for all, that is every member between min and max.)
 */
function lexWalk(rows: [string, number][], min: string, max: string): [string, number][] {
  const gteMin = (m: string) => inLex(m, min, "+");
  const lteMax = (m: string) => inLex(m, "-", max);
  if (rows.length === 0 || !lteMax(rows[0]![0]) || !gteMin(rows[rows.length - 1]![0])) return [];
  const start = rows.findIndex(([m]) => gteMin(m));
  const out: [string, number][] = [];
  for (const row of rows.slice(start)) {
    if (!lteMax(row[0])) break;
    out.push(row);
  }
  return out;
}
function window(start: number, stop: number, n: number): [number, number] | null {
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (start < 0) start = 0;
  if (start > stop || start >= n) return null;
  return [start, Math.min(stop, n - 1)];
}
/** Flat [member, score, ...] with scores as numbers, for comparing replies. */
const flat = (rows: [string, number][]) => rows.flatMap(([m, s]) => [m, s]);
const parsedScores = (reply: string[]) => reply.map((x, i) => (i % 2 === 1 ? num(x) : x));

/** Applies one command to the model; answers the reply it expects (scores as numbers). */
function expected(model: Model, argv: string[]): unknown {
  const [name, k] = argv as [string, string];
  const z = model.get(k);
  const save = (key: string, zs: Zset) => (zs.size === 0 ? model.delete(key) : model.set(key, zs));
  switch (name) {
    case "ZADD": {
      const flags = argv.slice(2, -2);
      const [score, member] = [num(argv.at(-2)!), argv.at(-1)!];
      const zs = new Map(z);
      const cur = zs.get(member);
      let added = 0;
      let changed = 0;
      if (cur === undefined) {
        if (!flags.includes("XX")) (zs.set(member, score), added++, changed++);
      } else if (!flags.includes("NX") && !(flags.includes("GT") && score <= cur) && !(flags.includes("LT") && score >= cur)) {
        if (score !== cur) changed++;
        zs.set(member, score);
      }
      save(k, zs);
      return flags.includes("CH") ? changed : added;
    }
    case "ZINCRBY": {
      const zs = new Map(z);
      const next = (zs.get(argv[3]!) ?? 0) + num(argv[2]!);
      zs.set(argv[3]!, next);
      model.set(k, zs);
      return next;
    }
    case "ZREM": {
      const zs = new Map(z);
      const n = argv.slice(2).filter((m) => zs.delete(m)).length;
      save(k, zs);
      return n;
    }
    case "ZPOPMIN":
    case "ZPOPMAX": {
      const rows = sorted(z);
      if (name === "ZPOPMAX") rows.reverse();
      const popped = rows.slice(0, Number(argv[2]));
      const zs = new Map(z);
      for (const [m] of popped) zs.delete(m);
      save(k, zs);
      return flat(popped);
    }
    case "ZREMRANGEBYSCORE":
    case "ZREMRANGEBYLEX":
    case "ZREMRANGEBYRANK": {
      const rows = sorted(z);
      let gone: [string, number][];
      if (name === "ZREMRANGEBYRANK") {
        const w = window(Number(argv[2]), Number(argv[3]), rows.length);
        gone = w ? rows.slice(w[0], w[1] + 1) : [];
      } else gone = name === "ZREMRANGEBYSCORE" ? rows.filter(([, s]) => inScore(s, argv[2]!, argv[3]!)) : lexWalk(rows, argv[2]!, argv[3]!);
      const zs = new Map(z);
      for (const [m] of gone) zs.delete(m);
      save(k, zs);
      return gone.length;
    }
    case "ZRANGESTORE": {
      const src = sorted(model.get(argv[2]!));
      const w = window(Number(argv[3]), Number(argv[4]), src.length);
      const rows = w ? src.slice(w[0], w[1] + 1) : [];
      save(k, new Map(rows));
      return rows.length;
    }
    case "ZUNIONSTORE": {
      const out = new Map<string, number>();
      for (const src of argv.slice(3, 3 + Number(argv[2])))
        for (const [m, s] of model.get(src) ?? []) {
          const sum = (out.get(m) ?? 0) + s;
          out.set(m, out.has(m) ? (Number.isNaN(sum) ? 0 : sum) : s);
        }
      save(k, out);
      return out.size;
    }
    case "ZRANGE": {
      const rows = sorted(z);
      if (argv[4] === "BYSCORE") {
        const hits = rows.filter(([, s]) => inScore(s, argv[2]!, argv[3]!));
        return flat(hits.slice(Number(argv[7]), Number(argv[7]) + Number(argv[8])));
      }
      const w = window(Number(argv[2]), Number(argv[3]), rows.length);
      return flat(w ? rows.slice(w[0], w[1] + 1) : []);
    }
    case "ZREVRANGE": {
      const rows = sorted(z).reverse();
      const w = window(Number(argv[2]), Number(argv[3]), rows.length);
      return (w ? rows.slice(w[0], w[1] + 1) : []).map(([m]) => m);
    }
    case "ZRANK":
    case "ZREVRANK": {
      const rows = sorted(z);
      const i = rows.findIndex(([m]) => m === argv[2]);
      return i < 0 ? null : name === "ZRANK" ? i : rows.length - 1 - i;
    }
    case "ZCOUNT":
      return sorted(z).filter(([, s]) => inScore(s, argv[2]!, argv[3]!)).length;
    case "ZLEXCOUNT":
      return lexWalk(sorted(z), argv[2]!, argv[3]!).length;
    case "ZCARD":
      return z?.size ?? 0;
    case "ZSCORE":
      return z?.get(argv[2]!) ?? null;
  }
  throw new Error(`model: ${name}`);
}

/** A reply in the model's terms: scores (every other entry of a WITHSCORES array, ZINCRBY, ZSCORE...) as numbers. */
function normalize(argv: string[], reply: unknown): unknown {
  const name = argv[0]!;
  if (name === "ZINCRBY" || name === "ZSCORE") return reply === null ? null : num(reply as string);
  if (["ZPOPMIN", "ZPOPMAX", "ZRANGE"].includes(name)) return parsedScores(reply as string[]);
  return reply;
}

// ---- Random commands ---------------------------------------------------------------------------

const key = fc.constantFrom("a", "b");
const member = fc.constantFrom("m0", "m1", "m2", "m3", "m4", "m5", "é", "", "M");
const score = fc.constantFrom("-inf", "-2", "-1", "-0.5", "0", "1", "1.5", "2", "3", "+inf");
const increment = fc.constantFrom("-1", "0.5", "2", "0");
const scoreBound = fc.constantFrom("-inf", "(-1", "0", "(1.5", "2", "+inf", "(+inf", "(-inf");
const lexBound = fc.constantFrom("-", "+", "[m1", "(m1", "[m4", "(m", "[");
const index = fc.integer({ min: -7, max: 7 });
const flags = fc.constantFrom<string[]>([], ["CH"], ["NX"], ["XX"], ["GT"], ["LT"], ["XX", "GT", "CH"], ["NX", "CH"], ["LT", "CH"], ["XX", "LT"]);

const write = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(key, flags, score, member).map(([k, f, s, m]) => ["ZADD", k, ...f, s, m]) },
  { weight: 3, arbitrary: fc.tuple(key, increment, member).map(([k, i, m]) => ["ZINCRBY", k, i, m]) },
  { weight: 2, arbitrary: fc.tuple(key, member, member).map(([k, m, n]) => ["ZREM", k, m, n]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("ZPOPMIN", "ZPOPMAX"), key, fc.integer({ min: 1, max: 4 })).map(([c, k, n]) => [c, k, String(n)]) },
  { weight: 1, arbitrary: fc.tuple(key, scoreBound, scoreBound).map(([k, a, b]) => ["ZREMRANGEBYSCORE", k, a, b]) },
  { weight: 1, arbitrary: fc.tuple(key, index, index).map(([k, a, b]) => ["ZREMRANGEBYRANK", k, String(a), String(b)]) },
  { weight: 1, arbitrary: fc.tuple(key, lexBound, lexBound).map(([k, a, b]) => ["ZREMRANGEBYLEX", k, a, b]) },
  { weight: 1, arbitrary: fc.tuple(key, key, index, index).map(([d, s, a, b]) => ["ZRANGESTORE", d, s, String(a), String(b)]) },
  { weight: 1, arbitrary: key.map((d) => ["ZUNIONSTORE", d, "2", "a", "b"]) },
);
const query = fc.oneof(
  fc.tuple(key, index, index).map(([k, a, b]) => ["ZRANGE", k, String(a), String(b), "WITHSCORES"]),
  fc.tuple(key, scoreBound, scoreBound, fc.nat(3), fc.integer({ min: 1, max: 4 })).map(([k, a, b, o, c]) => ["ZRANGE", k, a, b, "BYSCORE", "WITHSCORES", "LIMIT", String(o), String(c)]),
  fc.tuple(key, index, index).map(([k, a, b]) => ["ZREVRANGE", k, String(a), String(b)]),
  fc.tuple(fc.constantFrom("ZRANK", "ZREVRANK"), key, member).map(([c, k, m]) => [c, k, m]),
  fc.tuple(key, scoreBound, scoreBound).map(([k, a, b]) => ["ZCOUNT", k, a, b]),
  fc.tuple(key, lexBound, lexBound).map(([k, a, b]) => ["ZLEXCOUNT", k, a, b]),
  fc.tuple(key, member).map(([k, m]) => ["ZSCORE", k, m]),
  key.map((k) => ["ZCARD", k]),
);
/** One MULTI of up to three commands: queries inside it see the writes before them, still pending. */
const step = fc.array(fc.oneof({ weight: 3, arbitrary: write }, { weight: 2, arbitrary: query }), { minLength: 1, maxLength: 3 });

/** Runs the steps on `exec` (one MULTI each) and checks every reply and, at the end, each key whole. */
async function check(steps: string[][][], exec: (commands: string[][]) => Promise<unknown[]>) {
  const model: Model = new Map();
  for (const commands of steps) {
    const replies = await exec(commands);
    commands.forEach((argv, i) => {
      const want = expected(model, argv);
      expect(normalize(argv, replies[i]), JSON.stringify(argv)).toEqual(want);
    });
  }
  for (const k of ["a", "b"]) {
    const [all] = await exec([["ZRANGE", k, "0", "-1", "WITHSCORES"]]);
    expect(parsedScores(all as string[]), k).toEqual(flat(sorted(model.get(k))));
  }
}

/** The engines' random source (SPOP and friends choose with it). */
const RANDOM = 0.3;

describe("sorted sets against a model", () => {
  it("on the engine alone (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const engine = newEngine();
        await check(steps, async (commands) => {
          const r = engine.run({ mode: "multi", commands: commands.map((argv) => argv.map(fromText)), permission: "admin" });
          if (!("outcomes" in r)) throw new Error(r.error);
          return r.outcomes.map((o) => {
            const out = toJsonOutcome(o, false) as { result?: unknown; error?: string };
            if (out.error) throw new Error(`${JSON.stringify(commands)}: ${out.error}`);
            return out.result;
          });
        });
      }),
      { numRuns: 300 },
    );
  });

  it("on the node's SQLite storage, over HTTP (property, fewer runs)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 15 }), async (steps) => {
        await redis("DEL", "a", "b");
        await check(steps, async (commands) => {
          const r = await call(commands, { path: "/multi-exec" });
          expect(r.status, r.text).toBe(200);
          return (r.json as { result?: unknown; error?: string }[]).map((o) => {
            if (o.error) throw new Error(`${JSON.stringify(commands)}: ${o.error}`);
            return o.result;
          });
        });
      }),
      { numRuns: 25 },
    );
  });
});

describe("scores as Redis prints them", () => {
  it("read back exactly, in util.c's d2string forms", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (x) => {
        const s = formatScore(x);
        expect(readScore(s)).toBe(x);
        expect(s).toMatch(/^(-?inf|-?\d+(\.\d+)?(e[+-]\d+)?)$/);
      }),
      { numRuns: 2000 },
    );
    const cases: [number, string][] = [
      [1, "1"], [-2.5, "-2.5"], [0.1, "0.1"], [1 / 3, "0.3333333333333333"], [2 ** 62, "4611686018427387904"],
      [1e19, "1e+19"], [1.5e300, "1.5e+300"], [123456.789, "123456.789"], [0.000001, "0.000001"], [1e-7, "1e-7"],
      [1.25e-10, "1.25e-10"], [0.00012345, "1.2345e-4"], [0.0012345, "0.0012345"], [Infinity, "inf"], [-Infinity, "-inf"],
    ];
    for (const [n, text] of cases) expect(formatScore(n), String(n)).toBe(text);
  });
});

// ---- Replication -------------------------------------------------------------------------------



/** Every collection's stored count equals its elements, and none is empty; sizes exact. */
function countsExact(engine: Engine) {
  for (const row of engine.storage.keys.scan(0, null, 1_000_000))
    if (row.entry.eid !== undefined) {
      expect(row.entry.count, row.key).toBe(engine.storage.elements.count(row.entry.eid));
      expect(row.entry.count, row.key).toBeGreaterThan(0);
    }
  sizesExact(engine);
}

const rkey = fc.constantFrom("a", "b", "c", "d");
const rwrite = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(rkey, score, member).map(([k, s, m]) => ["ZADD", k, s, m]) },
  { weight: 1, arbitrary: fc.tuple(rkey, fc.integer({ min: 5, max: 40 })).map(([k, n]) => ["ZADD", k, ...Array.from({ length: n }, (_, i) => [String(i % 7), `m${i}`]).flat()]) },
  { weight: 3, arbitrary: fc.tuple(rkey, increment, member).map(([k, i, m]) => ["ZINCRBY", k, i, m]) },
  { weight: 1, arbitrary: fc.tuple(rkey, flags, score, member).map(([k, f, s, m]) => ["ZADD", k, ...f, s, m]) },
  { weight: 2, arbitrary: fc.tuple(rkey, member, member).map(([k, m, n]) => ["ZREM", k, m, n]) },
  { weight: 1, arbitrary: fc.tuple(rkey, fc.integer({ min: 0, max: 39 })).map(([k, i]) => ["ZREM", k, `m${i}`, `m${i + 1}`, `m${i + 2}`]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("ZPOPMIN", "ZPOPMAX"), rkey, fc.integer({ min: 1, max: 5 })).map(([c, k, n]) => [c, k, String(n)]) },
  { weight: 1, arbitrary: fc.tuple(rkey, rkey).map(([k, l]) => ["ZMPOP", "2", k, l, "MAX", "COUNT", "3"]) },
  { weight: 1, arbitrary: fc.tuple(rkey, scoreBound, scoreBound).map(([k, a, b]) => ["ZREMRANGEBYSCORE", k, a, b]) },
  { weight: 1, arbitrary: fc.tuple(rkey, index, index).map(([k, a, b]) => ["ZREMRANGEBYRANK", k, String(a), String(b)]) },
  { weight: 1, arbitrary: fc.tuple(rkey, lexBound, lexBound).map(([k, a, b]) => ["ZREMRANGEBYLEX", k, a, b]) },
  { weight: 1, arbitrary: fc.tuple(rkey, rkey, index, index).map(([d, s, a, b]) => ["ZRANGESTORE", d, s, String(a), String(b)]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"), rkey, rkey, rkey).map(([c, d, x, y]) => [c, d, "2", x, y]) },
  { weight: 1, arbitrary: rkey.map((k) => ["DEL", k]) },
  { weight: 1, arbitrary: fc.tuple(rkey, rkey).map(([a, b]) => ["RENAME", a, b]) },
  { weight: 1, arbitrary: fc.tuple(rkey, rkey).map(([a, b]) => ["COPY", a, b, "REPLACE"]) },
  { weight: 1, arbitrary: fc.tuple(rkey, member).map(([k, f]) => ["HSET", k, f, "v"]) },
  { weight: 1, arbitrary: rkey.map((k) => ["SET", k, "s"]) },
  { weight: 1, arbitrary: rkey.map((k) => ["PEXPIRE", k, "100000"]) },
  { weight: 1, arbitrary: rkey.map((k) => ["PERSIST", k]) },
  { weight: 1, arbitrary: fc.constant<string[]>(["FLUSHALL"]) },
);
const batch = fc.oneof(
  { weight: 5, arbitrary: rwrite.map((argv) => [argv]) },
  { weight: 1, arbitrary: fc.tuple(rwrite, rwrite).map(([a, b]) => [a, b]) },
);
type Op = { kind: "write"; commands: string[][] } | { kind: "chunk" };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: batch.map((commands) => ({ kind: "write" as const, commands })) },
  { weight: 2, arbitrary: fc.constant({ kind: "chunk" as const }) },
);

describe("sorted sets through replication", () => {
  it("a full sync in chunks while sorted sets change ends equal to the master, counts exact (property)", () => {
    fc.assert(
      fc.property(
        fc.array(batch, { maxLength: 30 }),
        fc.array(op, { maxLength: 60 }),
        fc.array(batch, { maxLength: 20 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 400 }),
        (before, during, after, chunkBytes, pullBytes) => {
          const p = enginePair(RANDOM);
          const { master, replica, syncing } = p;
          const run = (commands: string[][]) => master.run({ mode: commands.length > 1 ? "multi" : "single", commands, permission: "admin" });
          writesAroundFullSync(p, run, { before, during, after, chunkBytes, pullBytes }, (o: { commands: string[][] }) => o.commands);
          expect(digest(replica)).toBe(digest(master));
          expect(replica.log.offset).toBe(master.log.offset);
          countsExact(master);
          countsExact(replica);
          expect(replica.keyspace.usedBytes).toBe(master.keyspace.usedBytes);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("a set emptied while a replica loads a full sync goes there too: written again, it has no deadline", () => {
    // Found by the property above (seed -606101878): the replica, whose counts are not exact while
    // it mixes chunks, kept the emptied set's header and its deadline for the next ZINCRBY.
    const p = enginePair(RANDOM);
    const { master, replica, syncing } = p;
    const run = (commands: string[][]) => master.run({ mode: commands.length > 1 ? "multi" : "single", commands, permission: "admin" });
    run([["ZADD", "d", "-inf", "m0"]]);
    const sync = fullSync(p, 1);
    run([["PEXPIRE", "d", "100000"]]);
    sync.chunk();
    run([["ZMPOP", "2", "d", "a", "MAX", "COUNT", "3"]]);
    run([["ZINCRBY", "a", "-1", "m0"], ["ZINCRBY", "d", "-1", "m0"]]);
    sync.finish();
    catchUp(master, replica, 1);
    syncing.now = false;
    expect(replica.run({ mode: "single", commands: [["PTTL", "d"]], permission: "admin" })).toMatchObject({ outcomes: [{ result: -1 }] });
    expect(digest(replica)).toBe(digest(master));
  });

  it("a big sorted set spanning many chunks, changed between every chunk; replicas never redo arithmetic", () => {
    const p = enginePair(RANDOM);
    const { master, replica, syncing } = p;
    const run = (...argv: string[]) => master.run({ mode: "single", commands: [argv], permission: "admin" });
    for (let i = 0; i < 500; i++) run("ZADD", "big", String(i % 50), `m${String(i).padStart(3, "0")}`);
    const sync = fullSync(p, 300);
    for (let i = 0; !sync.done; i++) {
      sync.chunk();
      run("ZINCRBY", "big", "0.1", `m${String(i).padStart(3, "0")}`);
      run("ZINCRBY", "big", "0.1", `m${String(499 - i).padStart(3, "0")}`);
      run("ZREM", "big", `m${String((i * 7) % 500).padStart(3, "0")}`);
      run("ZPOPMIN", "big");
      if (i === 20) run("RENAME", "big", "big2");
      if (i === 21) run("RENAME", "big2", "big");
      if (i === 30) run("ZRANGESTORE", "top", "big", "-10", "-1");
    }
    expect(sync.chunks).toBeGreaterThan(10);
    sync.finish();
    catchUp(master, replica, 500);
    syncing.now = false;
    expect(digest(replica)).toBe(digest(master));
    countsExact(replica);
    const q = (e: Engine, ...argv: string[]) => e.run({ mode: "single", commands: [argv], permission: "admin" });
    expect(q(replica, "ZRANGE", "big", "0", "-1", "WITHSCORES")).toEqual(q(master, "ZRANGE", "big", "0", "-1", "WITHSCORES"));
    // The log holds ZADDs of resulting scores, never ZINCRBY.
    const names = master.storage.log.read(0, Infinity).map((e) => fromBytes(e.frame).split("\r\n")[2]);
    expect(names).not.toContain("ZINCRBY");
    expect(names).toContain("ZADD");
  });
});

// ---- The index at work on the real node --------------------------------------------------------

describe("a 20,000-member sorted set on the node", () => {
  const usage = async () => (await call(undefined, { method: "GET", path: "/admin/nodes/enam/storage" })).json as { rows_read: number; rows_written: number };
  const perCall = async (argv: (string | number)[], times: number) => {
    const before = await usage();
    let last: unknown;
    for (let i = 0; i < times; i++) last = await redis(...argv);
    const after = await usage();
    return { read: (after.rows_read - before.rows_read) / times, written: (after.rows_written - before.rows_written) / times, last };
  };

  beforeAll(async () => {
    await redis("FLUSHALL");
    for (let batch = 0; batch < 20; batch++) {
      const args = Array.from({ length: 1000 }, (_, i) => [batch * 1000 + i, `m${batch * 1000 + i}`]).flat();
      expect(await redis("ZADD", "big", ...args)).toBe(1000);
    }
    await redis("ZCARD", "big"); // the header is cached from here on
  });

  it("answers ZRANGE 0 9, a score range with LIMIT and a low rank from a few rows of the index", async () => {
    const range = await perCall(["ZRANGE", "big", 0, 9], 5);
    expect(range.last).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(range.read).toBeLessThanOrEqual(25);
    const byScore = await perCall(["ZRANGE", "big", "(15000", "+inf", "BYSCORE", "LIMIT", 0, 5], 5);
    expect(byScore.last).toEqual(["m15001", "m15002", "m15003", "m15004", "m15005"]);
    expect(byScore.read).toBeLessThanOrEqual(20);
    const rank = await perCall(["ZRANK", "big", "m3"], 5);
    expect(rank.last).toBe(3);
    expect(rank.read).toBeLessThanOrEqual(20);
    const top = await perCall(["ZREVRANGE", "big", 0, 2], 5);
    expect(top.last).toEqual(["m19999", "m19998", "m19997"]);
    expect(top.read).toBeLessThanOrEqual(20);
  });

  it("changes one member with a few rows written, and reaches every replica with the primary's digest", async () => {
    const add = await perCall(["ZINCRBY", "big", 0.5, "m7"], 5);
    expect(add.last).toBe("9.5");
    expect(add.written).toBeLessThanOrEqual(8);
    const replicas = ["wnam", "weur", "apac"];
    const acks = await Promise.all(replicas.map((r) => nodeApi(r).catchUp()));
    const primary = await nodeApi("enam").digest();
    for (const ack of acks) expect(ack.offset).toBe(primary.offset);
    for (const r of replicas) expect((await nodeApi(r).digest()).digest).toBe(primary.digest);
  });
});
