/** The set type's replicated effects: SADD and SREM (see replication/effects.ts for the rules). */
import { EMPTY, type EffectCall, call, defineEffect, fieldNames, putElements, removeElements } from "../../replication/effect";
import type { ElementRow } from "../../storage";

/** SADD key member [member ...]: members added (SADD, SMOVE's destination, SINTERSTORE's result...). */
export const sadd = defineEffect<string[]>({
  name: "SADD",
  rows: 6,
  scope: "element",
  group: 1,
  ...fieldNames,
  example: ["m", "n\xff"],
  apply: (change, key, members, at, current) => putElements(change, key, "set", current, at, members.map((m) => [m, { value: EMPTY, score: null }] as const)),
});

/** SREM key member [member ...]: members removed (SREM, SPOP, SMOVE's source); an emptied set goes. */
export const srem = defineEffect<string[]>({
  name: "SREM",
  rows: 0,
  scope: "element",
  group: 1,
  ...fieldNames,
  example: ["m"],
  apply: (change, key, members, at, current, fuzzy) => removeElements(change, key, "set", current, at, fuzzy, members),
});

export const setEffects = [sadd, srem];

/** A set written whole: one SADD (logged in pieces of a bounded size, see `splitEffect`). */
export const restoreSet = (elements: readonly ElementRow[]): EffectCall[] => [call(sadd, elements.map((el) => el.field))];
