/**
 * Hashes: HSET, HINCRBY, HDEL; read whole with HGETALL, in part with HGET. A state is the JSON
 * of its [field, value] pairs in field order. Fields n0 and n1 only ever hold integers (HINCRBY
 * never fails); the others hold values never written before. HSET's count of new fields, HDEL's
 * of removed ones and HINCRBY's value narrow the candidates.
 */
import { type Value, isInteger } from "../model.ts";
import { type CollectionType, byBytes, pairs, some } from "./collection.ts";

const FIELDS = ["f0", "f1", "é f", "🔥"];
const COUNTERS = ["n0", "n1"];

type Hash = Map<string, string>;
const parse = (x: Value): Hash => new Map(x === null ? [] : (JSON.parse(x) as [string, string][]));
const format = (h: Hash): Value => (h.size === 0 ? null : JSON.stringify([...h].sort((a, b) => byBytes(a[0], b[0]))));

export const HASH: CollectionType = {
  name: "hash",
  keys: (id) => [`c${id}:hash é🔥`],
  read: (key) => ["HGETALL", key],
  decode(result) {
    const fields = pairs(result);
    return fields.length === 0 ? null : JSON.stringify(fields.sort((a, b) => byBytes(String(a[0]), String(b[0]))));
  },
  // HINCRBY's values are counted as written (integers); a loose check looks at the rest.
  elements: (x) => [...parse(x)].flatMap(([f, v]) => (isInteger(v) ? [f] : [f, v])),

  command(w, keys) {
    const key = w.random.pick(keys);
    const r = w.random.next();
    if (r < 0.4) {
      const fields = some(w.random, [...FIELDS, ...COUNTERS], w.random.next() < 0.6 ? 1 : 2);
      const set = fields.map((f) => [f, COUNTERS.includes(f) ? String(Math.floor(w.random.between(-5, 10))) : w.value()] as const);
      const next = (x: Value) => {
        const h = parse(x);
        for (const [f, v] of set) h.set(f, v);
        return [format(h)];
      };
      return {
        argv: ["HSET", key, ...set.flat()],
        effects: [{ key, next, answered: (x, added) => (set.filter(([f]) => !parse(x).has(f)).length === added ? next(x) : []), adds: () => set.flat() }],
      };
    }
    if (r < 0.7) {
      const field = w.random.pick(COUNTERS);
      const by = w.random.pick([1, 1, 5, -2]);
      const after = (x: Value) => {
        const now = parse(x).get(field) ?? "0";
        return isInteger(now) ? Number(now) + by : null;
      };
      const next = (x: Value) => {
        const v = after(x);
        if (v === null) return [];
        const h = parse(x);
        h.set(field, String(v));
        return [format(h)];
      };
      return {
        argv: ["HINCRBY", key, field, String(by)],
        effects: [{ key, next, answered: (x, value) => (after(x) === Number(value) ? next(x) : []), adds: () => [field] }],
      };
    }
    const fields = some(w.random, [...FIELDS, ...COUNTERS], w.random.next() < 0.6 ? 1 : 2);
    const next = (x: Value) => {
      const h = parse(x);
      for (const f of fields) h.delete(f);
      return [format(h)];
    };
    return {
      argv: ["HDEL", key, ...fields],
      effects: [{ key, next, answered: (x, removed) => (fields.filter((f) => parse(x).has(f)).length === removed ? next(x) : []) }],
    };
  },

  probe(random, key) {
    const field = random.pick([...FIELDS, ...COUNTERS]);
    return { argv: ["HGET", key, field], shows: (x, result) => (parse(x).get(field) ?? null) === result };
  },
};
