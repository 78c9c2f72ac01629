/**
 * Sets: SADD, SREM, SPOP (one, or two with a count); read whole with SMEMBERS, in part with
 * SISMEMBER. A state is the JSON array of its members in byte order. Members come from a small
 * pool, so that SADD and SREM meet existing ones and an unanswered SPOP (the server picks at
 * random: any member may have gone) adds few candidates; an answered one names what went.
 */
import type { Value } from "../model.ts";
import { type CollectionType, byBytes, some } from "./collection.ts";

const MEMBERS = ["a", "b", "c", "é", "🔥", "m 1"];

const parse = (x: Value): Set<string> => new Set(x === null ? [] : (JSON.parse(x) as string[]));
const format = (s: Iterable<string>): Value => {
  const members = [...s].sort(byBytes);
  return members.length === 0 ? null : JSON.stringify(members);
};

/** Every way of taking `k` members of `s` (all of them when it has no more). */
function choices(s: string[], k: number): string[][] {
  if (k === 0 || s.length <= k) return [s];
  return s.flatMap((m, i) => choices(s.slice(i + 1), k - 1).map((rest) => [m, ...rest]));
}

export const SET: CollectionType = {
  name: "set",
  keys: (id) => [`c${id}:set`],
  read: (key) => ["SMEMBERS", key],
  // Not deduplicated: a member answered twice matches no state.
  decode: (result) => (Array.isArray(result) && result.length === 0 ? null : JSON.stringify((result as string[]).map(String).sort(byBytes))),
  elements: (x) => [...parse(x)],

  command(w, keys) {
    const key = w.random.pick(keys);
    const r = w.random.next();
    if (r < 0.6) {
      const add = r < 0.35;
      const members = some(w.random, MEMBERS, w.random.next() < 0.6 ? 1 : 2);
      const next = (x: Value) => {
        const s = parse(x);
        for (const m of members) if (add) s.add(m);
        else s.delete(m);
        return [format(s)];
      };
      const counted = (x: Value) => members.filter((m) => parse(x).has(m) !== add).length;
      return {
        argv: [add ? "SADD" : "SREM", key, ...members],
        effects: [{ key, next, answered: (x, n) => (counted(x) === n ? next(x) : []), adds: () => (add ? members : []) }],
      };
    }
    const count = w.random.next() < 0.25 ? 2 : null;
    const popped = (x: Value) => choices([...parse(x)], count ?? 1);
    const rest = (x: Value, gone: string[]) => format([...parse(x)].filter((m) => !gone.includes(m)));
    return {
      argv: count === null ? ["SPOP", key] : ["SPOP", key, String(count)],
      effects: [
        {
          key,
          next: (x) => popped(x).map((gone) => rest(x, gone)),
          answered(x, answer) {
            // SPOP answers a member (null: no key); with a count, an array (empty: no key).
            const gone = count === null ? (answer === null ? [] : [String(answer)]) : (answer as string[]).map(String);
            const s = parse(x);
            const fits = gone.every((m) => s.has(m)) && gone.length === Math.min(s.size, count ?? 1) && new Set(gone).size === gone.length;
            return fits ? [rest(x, gone)] : [];
          },
        },
      ],
    };
  },

  probe(random, key) {
    const member = random.pick(MEMBERS);
    return { argv: ["SISMEMBER", key, member], shows: (x, result) => (parse(x).has(member) ? 1 : 0) === result };
  },
};
