/** The hash type's replicated effects: HSET and HDEL (see effects.ts for the rules). */
import { type Bytes, fromBytes } from "../../bytes";
import { type EffectSpec, batches, collectionFor } from "../../effect-spec";
import type { Effect } from "../../keyspace";
import type { ElementRow } from "../../storage";

/** Most bytes of fields per HSET when a hash is written whole. */
const RESTORE_BYTES = 64 * 1024;

export const hashEncode = {
  hset: (key: string, pairs: readonly (readonly [string, Bytes])[]): Effect => ["HSET", key, ...pairs.flatMap(([f, v]) => [f, v])],
  hdel: (key: string, fields: readonly string[]): Effect => ["HDEL", key, ...fields],
};

/** HSET key field value [field value ...]: every field's value (HSET, HSETNX, HINCRBY's result...). */
const hset: EffectSpec = {
  name: "HSET",
  group: 2,
  elementLevel: true,
  apply: (change, key, args, at, current) => {
    const header = collectionFor(change, key, "hash", current, at);
    if (header === null) return;
    let count = header.count ?? 0;
    for (let i = 0; i + 1 < args.length; i += 2) {
      const field = fromBytes(args[i]!);
      const element = change.element(header.eid!, field);
      if (element !== null && (element.mod ?? 0) >= at) continue;
      if (element === null) count++;
      change.setElement(header.eid!, field, { value: args[i + 1]!, score: null, mod: at });
    }
    change.writeAsTold(key, { ...header, count }, Math.max(header.mod ?? 0, at));
  },
};

/** HDEL key field [field ...]: an emptied hash goes (counted exactly only once consistent). */
const hdel: EffectSpec = {
  name: "HDEL",
  group: 1,
  elementLevel: true,
  apply: (change, key, fields, at, current, fuzzy) => {
    if (current === null || current.type !== "hash" || current.eid === undefined) return;
    let count = current.count ?? 0;
    for (const f of fields) {
      const field = fromBytes(f);
      const element = change.element(current.eid, field);
      if (element === null || (element.mod ?? 0) >= at) continue;
      change.setElement(current.eid, field, null);
      count--;
    }
    if (count <= 0 && !fuzzy) {
      change.dropElements(current.eid);
      change.writeAsTold(key, null, at);
    } else change.writeAsTold(key, { ...current, count: Math.max(count, 0) }, Math.max(current.mod ?? 0, at));
  },
};

export const hashEffects: readonly EffectSpec[] = [hset, hdel];

/** A hash written whole: HSETs of about RESTORE_BYTES each. */
export function restoreHash(key: string, elements: readonly ElementRow[]): Effect[] {
  return batches(elements, RESTORE_BYTES).map((b) => hashEncode.hset(key, b.map((el) => [el.field, el.value] as const)));
}
