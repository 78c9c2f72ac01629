/** The hash type's replicated effects: HSET and HDEL (see effects.ts for the rules). */
import { type Bytes, fromBytes } from "../../bytes";
import { type EffectSpec, fieldValueEffect, removeElements } from "../../effect-spec";
import type { Change, Effect } from "../../keyspace";
import type { ElementRow, Entry } from "../../storage";

export const hashEncode = {
  hset: (key: string, pairs: readonly (readonly [string, Bytes])[]): Effect => ["HSET", key, ...pairs.flatMap(([f, v]) => [f, v])],
  hdel: (key: string, fields: readonly string[]): Effect => ["HDEL", key, ...fields],
  hpexpireat: (key: string, at: number, fields: readonly string[]): Effect => ["HPEXPIREAT", key, String(at), "FIELDS", String(fields.length), ...fields],
  hpersist: (key: string, fields: readonly string[]): Effect => ["HPERSIST", key, "FIELDS", String(fields.length), ...fields],
};

/** HSET key field value [field value ...]: every field's value (HSET, HSETNX, HINCRBY's result...). */
const hset = fieldValueEffect("HSET", "hash");

/** HDEL key field [field ...]: an emptied hash goes (counted exactly only once consistent). */
const hdel: EffectSpec = {
  name: "HDEL",
  group: 1,
  elementLevel: true,
  apply: (change, key, fields, at, current, fuzzy) => removeElements(change, key, "hash", current, at, fuzzy, fields.map(fromBytes)),
};

/**
 * Sets (`deadline` a number) or clears (null) the deadlines of the fields that are there and not
 * written after `at`; the header's bound (Entry.fieldsExpireAt) follows a deadline set.
 */
function setDeadlines(change: Change, key: string, current: Entry | null, at: number, fields: readonly string[], deadline: number | null): void {
  if (current === null || current.type !== "hash" || current.eid === undefined) return;
  let set = false;
  for (const field of fields) {
    const before = change.element(current.eid, field);
    // Written at `at` too, the element came in the same snapshot chunk (a hash written whole:
    // HSET, then its deadlines), or this is a delivery again: setting it again changes nothing.
    if (before === null || (before.mod ?? 0) > at) continue;
    const { expiresAt: _, ...rest } = before;
    change.setElement(current.eid, field, deadline === null ? { ...rest, mod: at } : { ...rest, expiresAt: deadline, mod: at }, before);
    set = true;
  }
  if (!set) return;
  const header = deadline === null ? current : { ...current, fieldsExpireAt: Math.min(current.fieldsExpireAt ?? deadline, deadline) };
  change.writeAsTold(key, header, Math.max(current.mod ?? 0, at));
}

/** Fields per HPEXPIREAT of a hash written whole (its effects stay far below a backlog row). */
const DEADLINE_FIELDS = 512;

/** The fields after `FIELDS n` (HPEXPIREAT's and HPERSIST's arguments, from `from`). */
const fieldsAfter = (args: readonly Bytes[], from: number): string[] => args.slice(from + 2).map(fromBytes);

/** HPEXPIREAT key ms FIELDS n field ...: the deadline of fields set (HEXPIRE and its kin, HSETEX, HGETEX, a kept TTL). */
const hpexpireat: EffectSpec = {
  name: "HPEXPIREAT",
  elementLevel: true,
  apply: (change, key, args, at, current) => setDeadlines(change, key, current, at, fieldsAfter(args, 1), Number(fromBytes(args[0]!))),
};

/** HPERSIST key FIELDS n field ...: deadlines removed. */
const hpersist: EffectSpec = {
  name: "HPERSIST",
  elementLevel: true,
  apply: (change, key, args, at, current) => setDeadlines(change, key, current, at, fieldsAfter(args, 0), null),
};

export const hashEffects: readonly EffectSpec[] = [hset, hdel, hpexpireat, hpersist];

/**
 * A hash written whole: one HSET (logged in pieces of a bounded size, see `splitEffect`), then an
 * HPEXPIREAT per deadline its fields have.
 */
export function restoreHash(key: string, elements: readonly ElementRow[]): Effect[] {
  const out: Effect[] = [hashEncode.hset(key, elements.map((el) => [el.field, el.value] as const))];
  const byDeadline = new Map<number, string[]>();
  for (const el of elements) {
    if (el.expiresAt == null) continue;
    const fields = byDeadline.get(el.expiresAt);
    if (fields) fields.push(el.field);
    else byDeadline.set(el.expiresAt, [el.field]);
  }
  for (const [at, fields] of byDeadline)
    for (let i = 0; i < fields.length; i += DEADLINE_FIELDS) out.push(hashEncode.hpexpireat(key, at, fields.slice(i, i + DEADLINE_FIELDS)));
  return out;
}
