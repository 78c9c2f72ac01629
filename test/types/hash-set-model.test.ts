// Hashes and sets against a small model (issue 15: "fast-check property tests compare each type
// with a small model"): random commands on a few keys, every reply compared with the model's,
// and the stored counts and sizes checked after each run. Lists and sorted sets have theirs in
// list.test.ts and zset.test.ts; replays, duplicates and full syncs are in types-replication.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Engine } from "../../durable-objects/engine/engine";
import { toJsonOutcome } from "../../worker/reply";
import { newEngine } from "../support/fixtures";
import { fromText } from "../../durable-objects/engine/bytes";

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
const hashKey = fc.constantFrom("h0", "h1");
const setKey = fc.constantFrom("s0", "s1", "s2");
const field = fc.constantFrom("a", "b", "c", "d", "é", "");
const value = fc.oneof(fc.constantFrom("1", "-2", "10"), fc.string({ maxLength: 3 }));

const command: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(hashKey, fc.array(fc.tuple(field, value), { minLength: 1, maxLength: 3 })).map(([k, p]) => ["HSET", k, ...p.flat()]),
  fc.tuple(hashKey, fc.array(field, { minLength: 1, maxLength: 3 })).map(([k, f]) => ["HDEL", k, ...f]),
  fc.tuple(hashKey, field).map(([k, f]) => ["HGET", k, f]),
  fc.tuple(hashKey, field, value).map(([k, f, v]) => ["HSETNX", k, f, v]),
  fc.tuple(hashKey, field, fc.integer({ min: -5, max: 5 })).map(([k, f, n]) => ["HINCRBY", k, f, String(n)]),
  fc.tuple(hashKey, field).map(([k, f]) => ["HEXISTS", k, f]),
  hashKey.map((k) => ["HLEN", k]),
  hashKey.map((k) => ["HGETALL", k]),
  fc.tuple(setKey, fc.array(field, { minLength: 1, maxLength: 3 })).map(([k, m]) => ["SADD", k, ...m]),
  fc.tuple(setKey, fc.array(field, { minLength: 1, maxLength: 3 })).map(([k, m]) => ["SREM", k, ...m]),
  fc.tuple(setKey, field).map(([k, m]) => ["SISMEMBER", k, m]),
  setKey.map((k) => ["SCARD", k]),
  setKey.map((k) => ["SMEMBERS", k]),
  fc.tuple(setKey, setKey, field).map(([a, b, m]) => ["SMOVE", a, b, m]),
  fc.tuple(setKey, fc.integer({ min: 1, max: 3 })).map(([k, n]) => ["SPOP", k, String(n)]),
  fc.tuple(fc.constantFrom("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), setKey, setKey, setKey).map(([c, d, a, b]) => [c, d, a, b]),
  setKey.map((s) => ["HGET", s, "a"]),
  hashKey.map((h) => ["SADD", h, "x"]),
  fc.constantFrom("h0", "h1", "s0", "s1", "s2").map((k) => ["DEL", k]),
);

type Value = Map<string, string> | Set<string>;

/** The model's answer to one command (mutating `db`), as the HTTP API shapes it. */
function model(db: Map<string, Value>, [cmd, key, ...args]: string[]): { result?: unknown; error?: string } {
  const v = db.get(key!);
  const hash = (): Map<string, string> | null => {
    if (v === undefined) return null;
    if (!(v instanceof Map)) throw WRONGTYPE;
    return v;
  };
  const set = (k = key!): Set<string> | null => {
    const s = db.get(k);
    if (s === undefined) return null;
    if (!(s instanceof Set)) throw WRONGTYPE;
    return s;
  };
  const sorted = (xs: Iterable<string>) => [...xs].sort(byBytes);
  try {
    switch (cmd) {
      case "HSET": {
        const h = hash() ?? new Map<string, string>();
        let added = 0;
        for (let i = 0; i < args.length; i += 2) {
          if (!h.has(args[i]!)) added++;
          h.set(args[i]!, args[i + 1]!);
        }
        db.set(key!, h);
        return { result: added };
      }
      case "HDEL": {
        const h = hash();
        if (!h) return { result: 0 };
        let n = 0;
        for (const f of new Set(args)) if (h.delete(f)) n++;
        if (h.size === 0) db.delete(key!);
        return { result: n };
      }
      case "HGET":
        return { result: hash()?.get(args[0]!) ?? null };
      case "HSETNX": {
        const h = hash() ?? new Map<string, string>();
        if (h.has(args[0]!)) return { result: 0 };
        h.set(args[0]!, args[1]!);
        db.set(key!, h);
        return { result: 1 };
      }
      case "HINCRBY": {
        const h = hash() ?? new Map<string, string>();
        const current = h.get(args[0]!) ?? "0";
        if (!/^-?(0|[1-9][0-9]*)$/.test(current)) return { error: "ERR hash value is not an integer" };
        const next = Number(current) + Number(args[1]);
        h.set(args[0]!, String(next));
        db.set(key!, h);
        return { result: next };
      }
      case "HEXISTS":
        return { result: hash()?.has(args[0]!) ? 1 : 0 };
      case "HLEN":
        return { result: hash()?.size ?? 0 };
      case "HGETALL":
        return { result: sorted(hash()?.keys() ?? []).flatMap((f) => [f, hash()!.get(f)!]) };
      case "SADD": {
        const s = set() ?? new Set<string>();
        let n = 0;
        for (const m of args) if (!s.has(m)) (s.add(m), n++);
        db.set(key!, s);
        return { result: n };
      }
      case "SREM": {
        const s = set();
        if (!s) return { result: 0 };
        let n = 0;
        for (const m of new Set(args)) if (s.delete(m)) n++;
        if (s.size === 0) db.delete(key!);
        return { result: n };
      }
      case "SISMEMBER":
        return { result: set()?.has(args[0]!) ? 1 : 0 };
      case "SCARD":
        return { result: set()?.size ?? 0 };
      case "SMEMBERS":
        return { result: sorted(set() ?? []) };
      case "SMOVE": {
        const from = set();
        if (!from) return { result: 0 };
        const to = set(args[0]!);
        if (!from.has(args[1]!)) return { result: 0 };
        if (key === args[0]) return { result: 1 };
        from.delete(args[1]!);
        if (from.size === 0) db.delete(key!);
        db.set(args[0]!, (to ?? new Set<string>()).add(args[1]!));
        return { result: 1 };
      }
      case "SINTERSTORE":
      case "SUNIONSTORE":
      case "SDIFFSTORE": {
        const [a, b] = [set(args[0]!), set(args[1]!)];
        const A = a ?? new Set<string>();
        const B = b ?? new Set<string>();
        const out =
          cmd === "SINTERSTORE" ? [...A].filter((m) => B.has(m)) : cmd === "SUNIONSTORE" ? [...new Set([...A, ...B])] : [...A].filter((m) => !B.has(m));
        db.delete(key!);
        if (out.length > 0) db.set(key!, new Set(out));
        return { result: out.length };
      }
      case "DEL":
        return { result: db.delete(key!) ? 1 : 0 };
    }
  } catch (e) {
    if (e === WRONGTYPE) return { error: WRONGTYPE };
    throw e;
  }
  throw new Error(`no model for ${cmd}`);
}

const utf8 = new TextEncoder();
function byBytes(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function run(engine: Engine, argv: string[]): { result?: unknown; error?: string } {
  const r = engine.run({ mode: "single", commands: [argv.map(fromText)], permission: "admin" });
  if (!("outcomes" in r)) throw new Error(r.error);
  return toJsonOutcome(r.outcomes[0]!, false) as { result?: unknown; error?: string };
}

describe("hashes and sets against a model", () => {
  it("every reply as the model's; counts and sizes exact (property)", () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 60 }), (commands) => {
        const engine = newEngine();
        const db = new Map<string, Value>();
        for (const argv of commands) {
          const got = run(engine, argv);
          if (argv[0] === "SPOP") {
            // Random on the server: the answer says which members went; the model removes those.
            const s = db.get(argv[1]!);
            if (s !== undefined && !(s instanceof Set)) expect(got).toEqual({ error: WRONGTYPE });
            else {
              const popped = (got.result ?? []) as string[];
              expect(popped.length, JSON.stringify(argv)).toBe(Math.min(Number(argv[2]), s?.size ?? 0));
              for (const m of popped) expect(s!.delete(m), m).toBe(true);
              if (s && s.size === 0) db.delete(argv[1]!);
            }
            continue;
          }
          const want = model(db, argv);
          const normalised = argv[0] === "HGETALL" || argv[0] === "SMEMBERS" ? { ...got, result: got.result } : got;
          if (argv[0] === "SMEMBERS" && Array.isArray(got.result)) (normalised as { result: string[] }).result = [...(got.result as string[])].sort(byBytes);
          expect(normalised, JSON.stringify(argv)).toEqual(want);
        }
        for (const row of engine.storage.keys.scan(0, null, 1000))
          if (row.entry.eid !== undefined) expect(row.entry.count).toBe(engine.storage.elements.count(row.entry.eid));
        expect(engine.keyspace.keyCount).toBe(db.size);
      }),
      { numRuns: 300 },
    );
  });
});
