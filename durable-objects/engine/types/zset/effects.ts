/** The sorted set type's replicated effects: ZADD and ZREM (see effects.ts for the rules). */
import { fromBytes, toBytes } from "../../bytes";
import { EMPTY, type EffectSpec, batches, collectionFor } from "../../effect-spec";
import type { Effect } from "../../keyspace";
import type { ElementRow } from "../../storage";
import { formatScore, readScore } from "./score";

/** Most bytes of members (and scores) per ZADD or ZREM when many are logged at once. */
const BATCH_BYTES = 64 * 1024;

export const zsetEncode = {
  /** ZADD key score member ...: the resulting scores. */
  zadd: (key: string, pairs: readonly (readonly [string, number])[]): Effect => ["ZADD", key, ...pairs.flatMap(([m, s]) => [formatScore(s), m])],
  zrem: (key: string, members: readonly string[]): Effect => ["ZREM", key, ...members],
  /** A sorted set written whole: ZADDs of about BATCH_BYTES each (a row's size counts its score as written). */
  restore: (key: string, elements: readonly ElementRow[]): Effect[] =>
    batches(
      elements.map((el) => ({ ...el, value: toBytes(formatScore(el.score ?? 0)) })),
      BATCH_BYTES,
    ).map((b) => zsetEncode.zadd(key, b.map((el) => [el.field, el.score ?? 0] as const))),
};

/** ZREMs of about BATCH_BYTES each. */
export function zremBatches(key: string, members: readonly string[]): Effect[] {
  return batches(
    members.map((field) => ({ field, value: EMPTY, score: null })),
    BATCH_BYTES,
  ).map((b) => zsetEncode.zrem(key, b.map((el) => el.field)));
}

/** ZADD key score member [score member ...]: every member's resulting score (ZADD, ZINCRBY, a *STORE...). */
const zadd: EffectSpec = {
  name: "ZADD",
  group: 2,
  elementLevel: true,
  apply: (change, key, args, at, current) => {
    const header = collectionFor(change, key, "zset", current, at);
    if (header === null) return;
    let count = header.count ?? 0;
    for (let i = 0; i + 1 < args.length; i += 2) {
      const member = fromBytes(args[i + 1]!);
      const element = change.element(header.eid!, member);
      if (element !== null && (element.mod ?? 0) >= at) continue;
      if (element === null) count++;
      change.setElement(header.eid!, member, { value: EMPTY, score: readScore(fromBytes(args[i]!)), mod: at });
    }
    change.writeAsTold(key, { ...header, count }, Math.max(header.mod ?? 0, at));
  },
};

/** ZREM key member [member ...]: an emptied sorted set goes (counted exactly only once consistent). */
const zrem: EffectSpec = {
  name: "ZREM",
  group: 1,
  elementLevel: true,
  apply: (change, key, members, at, current, fuzzy) => {
    if (current === null || current.type !== "zset" || current.eid === undefined) return;
    let count = current.count ?? 0;
    for (const m of members) {
      const member = fromBytes(m);
      const element = change.element(current.eid, member);
      if (element === null || (element.mod ?? 0) >= at) continue;
      change.setElement(current.eid, member, null);
      count--;
    }
    if (count <= 0 && !fuzzy) {
      change.dropElements(current.eid);
      change.writeAsTold(key, null, at);
    } else change.writeAsTold(key, { ...current, count: Math.max(count, 0) }, Math.max(current.mod ?? 0, at));
  },
};

export const zsetEffects: readonly EffectSpec[] = [zadd, zrem];

/** A sorted set written whole (RENAME's or COPY's destination during a full sync). */
export const restoreZset = (key: string, elements: readonly ElementRow[]): Effect[] => zsetEncode.restore(key, elements);
