/** The sorted set type's replicated effects: ZADD and ZREM (see replication/effects.ts for the rules). */
import { fromBytes } from "../../bytes";
import { EMPTY, type EffectCall, call, defineEffect, fieldNames, pairsOf, putElements, removeElements } from "../../replication/effect";
import type { ElementRow } from "../../storage";
import { formatScore, readScore } from "./score";

/** ZADD key score member [score member ...]: every member's resulting score (ZADD, ZINCRBY, a *STORE...), as (member, score). */
export const zadd = defineEffect<readonly (readonly [string, number])[]>({
  name: "ZADD",
  rows: 6,
  scope: "element",
  group: 2,
  encode: (pairs) => pairs.flatMap(([member, score]) => [formatScore(score), member]),
  decode: (args) => pairsOf(args, (score, member) => [fromBytes(member), readScore(fromBytes(score))] as const),
  example: [["a", 1.5], ["b\x00", -Infinity]],
  apply: (change, key, pairs, at, current) =>
    putElements(change, key, "zset", current, at, pairs.map(([member, score]) => [member, { value: EMPTY, score }] as const)),
});

/** ZREM key member [member ...]: an emptied sorted set goes (counted exactly only once consistent). */
export const zrem = defineEffect<string[]>({
  name: "ZREM",
  rows: 0,
  scope: "element",
  group: 1,
  ...fieldNames,
  example: ["a"],
  apply: (change, key, members, at, current, fuzzy) => removeElements(change, key, "zset", current, at, fuzzy, members),
});

export const zsetEffects = [zadd, zrem];

/** A sorted set written whole (RENAME's or COPY's destination during a full sync): one ZADD, logged in pieces (`splitEffect`). */
export const restoreZset = (elements: readonly ElementRow[]): EffectCall[] => [call(zadd, elements.map((el) => [el.field, el.score ?? 0] as const))];
