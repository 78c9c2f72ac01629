/** The set type's replicated effects: SADD and SREM (see effects.ts for the rules). */
import { fromBytes } from "../../bytes";
import { EMPTY, type EffectSpec, putElements, removeElements } from "../../effect-spec";
import type { Effect } from "../../keyspace";
import type { ElementRow } from "../../storage";

export const setEncode = {
  sadd: (key: string, members: readonly string[]): Effect => ["SADD", key, ...members],
  srem: (key: string, members: readonly string[]): Effect => ["SREM", key, ...members],
};

/** SADD key member [member ...]: members added (SADD, SMOVE's destination, SINTERSTORE's result...). */
const sadd: EffectSpec = {
  name: "SADD",
  group: 1,
  elementLevel: true,
  apply: (change, key, members, at, current) =>
    putElements(change, key, "set", current, at, members.map((m) => [fromBytes(m), { value: EMPTY, score: null }] as const)),
};

/** SREM key member [member ...]: members removed (SREM, SPOP, SMOVE's source); an emptied set goes. */
const srem: EffectSpec = {
  name: "SREM",
  group: 1,
  elementLevel: true,
  apply: (change, key, members, at, current, fuzzy) => removeElements(change, key, "set", current, at, fuzzy, members.map(fromBytes)),
};

export const setEffects: readonly EffectSpec[] = [sadd, srem];

/** A set written whole: one SADD (logged in pieces of a bounded size, see `splitEffect`). */
export const restoreSet = (key: string, elements: readonly ElementRow[]): Effect[] => [setEncode.sadd(key, elements.map((el) => el.field))];
