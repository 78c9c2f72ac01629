/** The set type's replicated effects: SADD and SREM (see effects.ts for the rules). */
import { fromBytes } from "../../bytes";
import { EMPTY, type EffectSpec, batches, collectionFor } from "../../effect-spec";
import type { Effect } from "../../keyspace";
import type { ElementRow } from "../../storage";

/** Most bytes of members per SADD when a set is written whole. */
const RESTORE_BYTES = 64 * 1024;

export const setEncode = {
  sadd: (key: string, members: readonly string[]): Effect => ["SADD", key, ...members],
  srem: (key: string, members: readonly string[]): Effect => ["SREM", key, ...members],
};

/** SADD key member [member ...]: members added (SADD, SMOVE's destination, SINTERSTORE's result...). */
const sadd: EffectSpec = {
  name: "SADD",
  group: 1,
  elementLevel: true,
  apply: (change, key, members, at, current) => {
    const header = collectionFor(change, key, "set", current, at);
    if (header === null) return;
    let count = header.count ?? 0;
    for (const m of members) {
      const member = fromBytes(m);
      const element = change.element(header.eid!, member);
      if (element !== null && (element.mod ?? 0) >= at) continue;
      if (element === null) count++;
      change.setElement(header.eid!, member, { value: EMPTY, score: null, mod: at });
    }
    change.writeAsTold(key, { ...header, count }, Math.max(header.mod ?? 0, at));
  },
};

/** SREM key member [member ...]: members removed (SREM, SPOP, SMOVE's source); an emptied set goes. */
const srem: EffectSpec = {
  name: "SREM",
  group: 1,
  elementLevel: true,
  apply: (change, key, members, at, current, fuzzy) => {
    if (current === null || current.type !== "set" || current.eid === undefined) return;
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

export const setEffects: readonly EffectSpec[] = [sadd, srem];

/** A set written whole: SADDs of about RESTORE_BYTES each. */
export function restoreSet(key: string, elements: readonly ElementRow[]): Effect[] {
  return batches(elements, RESTORE_BYTES).map((b) => setEncode.sadd(key, b.map((el) => el.field)));
}
