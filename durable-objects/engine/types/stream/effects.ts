/**
 * The stream type's replicated effects (see replication/effects.ts for the rules): rows as they are after the
 * command, whatever their kind (layout.ts), and the header's metadata.
 * - XPUT key field value [field value ...]: rows written (entries, groups, consumers, PEL rows).
 * - XREM key field [field ...]: rows removed. An emptied stream stays: a stream is deleted only
 *   by DEL (or its expiry), as in Redis.
 * - XMETA key meta: the header's metadata (length, last ID, ...); the key's deadline stays.
 */
import { type Bytes, toBytes } from "../../bytes";
import { type EffectCall, call, defineEffect, fieldNames, fieldValueEffect, removeElements } from "../../replication/effect";
import type { ElementRow, Entry } from "../../storage";

export const xput = fieldValueEffect("XPUT", 4, "stream", [["e\x00\x01", toBytes("row")]]);

/** Each row unless it was written after `at`; the header's count follows (made exact by a recount while fuzzy); an emptied stream stays. */
export const xrem = defineEffect<string[]>({
  name: "XREM",
  rows: 0,
  scope: "element",
  group: 1,
  ...fieldNames,
  example: ["e\x00\x01"],
  apply: (change, key, fields, at, current, fuzzy) => removeElements(change, key, "stream", current, at, fuzzy, fields, true),
});

/** Key-level: applied only where the header is older than the effect. Another type's record there is replaced. */
export const xmeta = defineEffect<Bytes>({
  name: "XMETA",
  rows: 2,
  scope: "key",
  encode: (meta) => [meta],
  decode: ([meta]) => meta!,
  example: toBytes("meta"),
  apply: (change, key, meta, at, current) => {
    if (current !== null && current.type === "stream" && current.eid !== undefined) {
      change.writeAsTold(key, { ...current, value: meta }, at);
      return;
    }
    if (current?.eid !== undefined) change.dropElements(current.eid);
    change.writeAsTold(key, { type: "stream", value: meta, expiresAt: null, eid: change.newEid(), count: 0 }, at);
  },
});

export const streamEffects = [xput, xrem, xmeta];

/** A stream written whole: its rows (logged in pieces of a bounded size), then its metadata. */
export function restoreStream(elements: readonly ElementRow[], entry: Entry): EffectCall[] {
  const out: EffectCall[] = [];
  if (elements.length > 0) out.push(call(xput, elements.map((el) => [el.field, el.value] as const)));
  out.push(call(xmeta, entry.value));
  return out;
}
