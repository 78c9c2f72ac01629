/**
 * Sorted sets: ZADD, ZINCRBY, ZREM; read whole with ZRANGE 0 -1 WITHSCORES, in part with ZSCORE.
 * A state is the JSON of its [member, score] pairs in Redis's order (score, then the member's
 * bytes); the answer keeps the server's order, so an order out of place matches no state. Scores
 * are multiples of 0.5 (exact in a double, printed alike) and often tie. ZADD's count of new
 * members, ZREM's of removed ones and ZINCRBY's score narrow the candidates.
 */
import type { Value } from "../model.ts";
import { type CollectionType, byBytes, pairs, some } from "./collection.ts";

const MEMBERS = ["a", "b", "B", "é", "🔥", "z z"];
const SCORES = [-2, -1, 0, 0, 1, 1, 1.5, 2];

type Zset = Map<string, number>;
const parse = (x: Value): Zset => new Map(x === null ? [] : (JSON.parse(x) as [string, number][]));
const format = (z: Zset): Value => (z.size === 0 ? null : JSON.stringify([...z].sort((a, b) => a[1] - b[1] || byBytes(a[0], b[0]))));

export const ZSET: CollectionType = {
  name: "zset",
  keys: (id) => [`c${id}:zset`],
  read: (key) => ["ZRANGE", key, "0", "-1", "WITHSCORES"],
  decode: (result) => {
    const members = pairs(result).map(([m, score]) => [m, Number(score)]);
    return members.length === 0 ? null : JSON.stringify(members);
  },
  elements: (x) => [...parse(x).keys()],

  command(w, keys) {
    const key = w.random.pick(keys);
    const r = w.random.next();
    if (r < 0.35) {
      const added = some(w.random, MEMBERS, w.random.next() < 0.6 ? 1 : 2).map((m) => [w.random.pick(SCORES), m] as const);
      const next = (x: Value) => {
        const z = parse(x);
        for (const [score, m] of added) z.set(m, score);
        return [format(z)];
      };
      return {
        argv: ["ZADD", key, ...added.flatMap(([score, m]) => [String(score), m])],
        effects: [{ key, next, answered: (x, n) => (added.filter(([, m]) => !parse(x).has(m)).length === n ? next(x) : []), adds: () => added.map(([, m]) => m) }],
      };
    }
    if (r < 0.7) {
      const member = w.random.pick(MEMBERS);
      const by = w.random.pick([1, -1, 0.5, 2]);
      const after = (x: Value) => (parse(x).get(member) ?? 0) + by;
      const next = (x: Value) => [format(parse(x).set(member, after(x)))];
      return {
        argv: ["ZINCRBY", key, String(by), member],
        effects: [{ key, next, answered: (x, score) => (after(x) === Number(score) ? next(x) : []), adds: () => [member] }],
      };
    }
    const members = some(w.random, MEMBERS, w.random.next() < 0.6 ? 1 : 2);
    const next = (x: Value) => {
      const z = parse(x);
      for (const m of members) z.delete(m);
      return [format(z)];
    };
    return {
      argv: ["ZREM", key, ...members],
      effects: [{ key, next, answered: (x, n) => (members.filter((m) => parse(x).has(m)).length === n ? next(x) : []) }],
    };
  },

  probe(random, key) {
    const member = random.pick(MEMBERS);
    return { argv: ["ZSCORE", key, member], shows: (x, result) => (parse(x).get(member) ?? null) === (result === null ? null : Number(result)) };
  },
};
