/**
 * Lists: LPUSH, RPUSH, LPOP (one, or two with a count), LMOVE between the client's two lists
 * (or within one, a rotation); read whole with LRANGE 0 -1, in part with LLEN. A state is the
 * JSON array of its elements, each a value never written before, so LPOP's and LMOVE's answers
 * name the element that went; the pushes' lengths narrow the rest.
 */
import type { Value } from "../model.ts";
import type { CollectionType } from "./collection.ts";

type List = string[];
const parse = (x: Value): List => (x === null ? [] : (JSON.parse(x) as List));
const format = (l: List): Value => (l.length === 0 ? null : JSON.stringify(l));
/** Lists stay short: longer ones are only popped. */
const LONG = 10;

type End = "LEFT" | "RIGHT";
const take = (l: List, from: End) => (from === "LEFT" ? l[0]! : l[l.length - 1]!);
const without = (l: List, from: End) => (from === "LEFT" ? l.slice(1) : l.slice(0, -1));
const put = (l: List, e: string, to: End) => (to === "LEFT" ? [e, ...l] : [...l, e]);

export const LIST: CollectionType = {
  name: "list",
  keys: (id) => [`c${id}:list`, `c${id}:list ⇄ 2`],
  read: (key) => ["LRANGE", key, "0", "-1"],
  decode: (result) => (Array.isArray(result) && result.length === 0 ? null : JSON.stringify(result)),
  elements: (x) => parse(x),

  command(w, keys) {
    const key = w.random.pick(keys);
    const m = w.model(key);
    // A loosely checked list's length is not known: half the time it is taken as long.
    const long = m.untracked ? w.random.next() < 0.5 : m.possible((x) => [x]).some((x) => parse(x).length >= LONG);
    const r = w.random.next();
    if (r < 0.4 && !long) {
      const to: End = w.random.next() < 0.5 ? "LEFT" : "RIGHT";
      const values = Array.from({ length: w.random.next() < 0.7 ? 1 : 2 }, () => w.value());
      const next = (x: Value) => [format(values.reduce((l, v) => put(l, v, to), parse(x)))];
      return {
        argv: [to === "LEFT" ? "LPUSH" : "RPUSH", key, ...values],
        effects: [{ key, next, answered: (x, length) => (parse(x).length + values.length === length ? next(x) : []), adds: () => values }],
      };
    }
    if (r < 0.65) {
      const count = w.random.next() < 0.3 ? 2 : null;
      const next = (x: Value) => [format(parse(x).slice(count ?? 1))];
      const answer = (x: Value) => (x === null ? null : count === null ? parse(x)[0] : parse(x).slice(0, count));
      return {
        argv: count === null ? ["LPOP", key] : ["LPOP", key, String(count)],
        effects: [{ key, next, answered: (x, popped) => (JSON.stringify(answer(x)) === JSON.stringify(popped) ? next(x) : []) }],
      };
    }
    const from: End = w.random.next() < 0.5 ? "LEFT" : "RIGHT";
    const to: End = w.random.next() < 0.5 ? "LEFT" : "RIGHT";
    const dest = w.random.next() < 0.85 ? w.random.pick(keys.filter((k) => k !== key)) : key;
    const argv = ["LMOVE", key, dest, from, to];
    const matches = (x: Value, moved: unknown) => (x === null ? moved === null : take(parse(x), from) === moved);
    if (dest === key) {
      const next = (x: Value) => (x === null ? [null] : [format(put(without(parse(x), from), take(parse(x), from), to))]);
      return { argv, effects: [{ key, next, answered: (x, moved) => (matches(x, moved) ? next(x) : []) }] };
    }
    // Unanswered, the destination may get whichever element the source's candidates had at that end.
    const movable = new Set<string | null>();
    return {
      argv,
      effects: [
        {
          key,
          next: (x) => (movable.add(x === null ? null : take(parse(x), from)), [format(without(parse(x), from))]),
          answered: (x, moved) => (matches(x, moved) ? [format(without(parse(x), from))] : []),
        },
        {
          key: dest,
          from: key,
          next: (x) => [...movable].map((e) => (e === null ? x : format(put(parse(x), e, to)))),
          answered: (x, moved) => [moved === null ? x : format(put(parse(x), String(moved), to))],
          adds: () => w.model(key).written,
        },
      ],
    };
  },

  probe: (_random, key) => ({ argv: ["LLEN", key], shows: (x, result) => parse(x).length === result }),
};
