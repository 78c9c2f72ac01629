/** The sorted set type's replicated effects: ZADD and ZREM (see effects.ts for the rules). */
import { fromBytes } from "../../bytes";
import { EMPTY, type EffectSpec, putElements, removeElements, pairsOf } from "../../effect-spec";
import type { Effect } from "../../keyspace";
import type { ElementRow } from "../../storage";
import { formatScore, readScore } from "./score";

export const zsetEncode = {
  /** ZADD key score member ...: the resulting scores. */
  zadd: (key: string, pairs: readonly (readonly [string, number])[]): Effect => ["ZADD", key, ...pairs.flatMap(([m, s]) => [formatScore(s), m])],
  zrem: (key: string, members: readonly string[]): Effect => ["ZREM", key, ...members],
};

/** ZADD key score member [score member ...]: every member's resulting score (ZADD, ZINCRBY, a *STORE...). */
const zadd: EffectSpec = {
  name: "ZADD",
  group: 2,
  elementLevel: true,
  apply: (change, key, args, at, current) =>
    putElements(
      change,
      key,
      "zset",
      current,
      at,
      pairsOf(args, (score, member) => [fromBytes(member), { value: EMPTY, score: readScore(fromBytes(score)) }] as const),
    ),
};

/** ZREM key member [member ...]: an emptied sorted set goes (counted exactly only once consistent). */
const zrem: EffectSpec = {
  name: "ZREM",
  group: 1,
  elementLevel: true,
  apply: (change, key, members, at, current, fuzzy) => removeElements(change, key, "zset", current, at, fuzzy, members.map(fromBytes)),
};

export const zsetEffects: readonly EffectSpec[] = [zadd, zrem];

/** A sorted set written whole (RENAME's or COPY's destination during a full sync): one ZADD, logged in pieces (`splitEffect`). */
export const restoreZset = (key: string, elements: readonly ElementRow[]): Effect[] => [zsetEncode.zadd(key, elements.map((el) => [el.field, el.score ?? 0] as const))];
