/** The hash type's replicated effects: HSET, HDEL and field deadlines (see replication/effects.ts for the rules). */
import { fromBytes, toBytes } from "../../bytes";
import { type EffectCall, call, defineEffect, fieldNames, fieldValueEffect, numberArg, removeElements } from "../../replication/effect";
import type { Change } from "../../keyspace";
import { type ElementRow, type Entry, NO_FIELD_DEADLINE } from "../../storage";

/** HSET key field value [field value ...]: every field's value (HSET, HSETNX, HINCRBY's result...). */
export const hset = fieldValueEffect("HSET", 6, "hash", [["f", toBytes("v")], ["g\x00", toBytes("\xff")]]);

/** HDEL key field [field ...]: an emptied hash goes (counted exactly only once consistent). */
export const hdel = defineEffect<string[]>({
  name: "HDEL",
  rows: 0,
  scope: "element",
  group: 1,
  ...fieldNames,
  example: ["f", "g"],
  apply: (change, key, fields, at, current, fuzzy) => removeElements(change, key, "hash", current, at, fuzzy, fields),
});

/**
 * Sets (`deadline` a number) or clears (null) the deadlines of the fields that are there and not
 * written after `at`; the header's bound (Entry.fieldsExpireAt) follows a deadline set. Setting
 * none (HPEXPIREAT of no field) readies the hash for deadlines: a bound, where it had none.
 */
function setDeadlines(change: Change, key: string, current: Entry | null, at: number, fields: readonly string[], deadline: number | null): void {
  if (current === null || current.type !== "hash" || current.eid === undefined) return;
  if (fields.length === 0) {
    if (deadline !== null && current.fieldsExpireAt === undefined) change.writeAsTold(key, { ...current, fieldsExpireAt: NO_FIELD_DEADLINE }, Math.max(current.mod ?? 0, at));
    return;
  }
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

/** `FIELDS n field ...` (HPEXPIREAT's and HPERSIST's fields). */
const fieldList = (fields: readonly string[]): string[] => ["FIELDS", String(fields.length), ...fields];

/**
 * HPEXPIREAT key ms FIELDS n field ...: the deadline of fields set (HEXPIRE and its kin, HSETEX,
 * HGETEX, a kept TTL); of no field, the hash readied for deadlines (Redis's listpackex: a hash
 * written whole keeps it).
 */
export const hpexpireat = defineEffect<{ readonly at: number; readonly fields: readonly string[] }>({
  name: "HPEXPIREAT",
  rows: 0,
  scope: "element",
  encode: ({ at, fields }) => [String(at), ...fieldList(fields)],
  decode: (args) => ({ at: numberArg(args[0]!), fields: args.slice(3).map(fromBytes) }),
  example: { at: 1_700_000_000_000, fields: ["f"] },
  apply: (change, key, { at: deadline, fields }, at, current) => setDeadlines(change, key, current, at, fields, deadline),
});

/** HPERSIST key FIELDS n field ...: deadlines removed. */
export const hpersist = defineEffect<readonly string[]>({
  name: "HPERSIST",
  rows: 0,
  scope: "element",
  encode: (fields) => fieldList(fields),
  decode: (args) => args.slice(2).map(fromBytes),
  example: ["f"],
  apply: (change, key, fields, at, current) => setDeadlines(change, key, current, at, fields, null),
});

export const hashEffects = [hset, hdel, hpexpireat, hpersist];

/**
 * A hash written whole: one HSET (logged in pieces of a bounded size, see `splitEffect`), an
 * HPEXPIREAT of no field when it was readied for deadlines (listpackex), then an HPEXPIREAT per
 * deadline its fields have.
 */
export function restoreHash(elements: readonly ElementRow[], entry: Entry): EffectCall[] {
  const out: EffectCall[] = [call(hset, elements.map((el) => [el.field, el.value] as const))];
  if (entry.fieldsExpireAt !== undefined) out.push(call(hpexpireat, { at: NO_FIELD_DEADLINE, fields: [] }));
  const byDeadline = new Map<number, string[]>();
  for (const el of elements) {
    if (el.expiresAt == null) continue;
    const fields = byDeadline.get(el.expiresAt);
    if (fields) fields.push(el.field);
    else byDeadline.set(el.expiresAt, [el.field]);
  }
  for (const [at, fields] of byDeadline)
    for (let i = 0; i < fields.length; i += DEADLINE_FIELDS) out.push(call(hpexpireat, { at, fields: fields.slice(i, i + DEADLINE_FIELDS) }));
  return out;
}
