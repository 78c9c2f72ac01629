/** The hash type's replicated effects: HSET and HDEL (see effects.ts for the rules). */
import { type Bytes, fromBytes } from "../../bytes";
import { type EffectSpec, putElements, removeElements } from "../../effect-spec";
import type { Effect } from "../../keyspace";
import type { ElementRow } from "../../storage";

export const hashEncode = {
  hset: (key: string, pairs: readonly (readonly [string, Bytes])[]): Effect => ["HSET", key, ...pairs.flatMap(([f, v]) => [f, v])],
  hdel: (key: string, fields: readonly string[]): Effect => ["HDEL", key, ...fields],
};

/** HSET key field value [field value ...]: every field's value (HSET, HSETNX, HINCRBY's result...). */
const hset: EffectSpec = {
  name: "HSET",
  group: 2,
  elementLevel: true,
  apply: (change, key, args, at, current) =>
    putElements(
      change,
      key,
      "hash",
      current,
      at,
      Array.from({ length: Math.floor(args.length / 2) }, (_, i) => [fromBytes(args[2 * i]!), { value: args[2 * i + 1]!, score: null }] as const),
    ),
};

/** HDEL key field [field ...]: an emptied hash goes (counted exactly only once consistent). */
const hdel: EffectSpec = {
  name: "HDEL",
  group: 1,
  elementLevel: true,
  apply: (change, key, fields, at, current, fuzzy) => removeElements(change, key, "hash", current, at, fuzzy, fields.map(fromBytes)),
};

export const hashEffects: readonly EffectSpec[] = [hset, hdel];

/** A hash written whole: one HSET (logged in pieces of a bounded size, see `splitEffect`). */
export const restoreHash = (key: string, elements: readonly ElementRow[]): Effect[] => [hashEncode.hset(key, elements.map((el) => [el.field, el.value] as const))];
