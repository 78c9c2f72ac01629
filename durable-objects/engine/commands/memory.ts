import { parseInteger } from "../args";
import { defineCommand } from "../command";
import { RedisError, errors } from "../errors";
import type { Change } from "../keyspace";
import type { Entry } from "../storage";
import { utf8Length } from "../bytes";

/** Per-key overhead in Redis's accounting (dictEntry, robj, SDS headers), roughly. */
const KEY_OVERHEAD = 56;
/** Per-element overhead of a collection. */
const ELEMENT_OVERHEAD = 24;

/**
 * The bytes `key` takes, estimated as Redis's MEMORY USAGE does: exact for a string; for a
 * collection, its size times the mean of `samples` elements (0: all of them).
 */
export function memoryUsage(db: Change, key: string, e: Entry, samples: number): number {
  const base = KEY_OVERHEAD + utf8Length(key);
  if (e.eid === undefined) return base + e.value.length;
  const count = e.count ?? 0;
  const { rows } = db.elementsPage(e.eid, null, samples === 0 ? Math.max(count, 1) : samples);
  if (rows.length === 0) return base;
  let sampled = 0;
  for (const el of rows) sampled += ELEMENT_OVERHEAD + utf8Length(el.field) + el.value.length;
  return base + Math.round((sampled / rows.length) * count);
}

/** MEMORY USAGE key [SAMPLES count] @see https://redis.io/docs/latest/commands/memory-usage/ */
export default defineCommand({
  name: "memory",
  arity: -2,
  flags: ["readonly"],
  keys: { first: 2, last: 2, step: 1 },
  parse: ([sub, k, ...rest]) => {
    if (sub!.toUpperCase() !== "USAGE" || k === undefined)
      throw new RedisError(`ERR unknown subcommand or wrong number of arguments for '${sub}'. Try MEMORY HELP.`);
    let samples = 5;
    if (rest.length > 0) {
      if (rest.length !== 2 || rest[0]!.toUpperCase() !== "SAMPLES") throw errors.syntax();
      samples = parseInteger(rest[1]!);
      if (samples < 0) throw errors.syntax();
    }
    return { key: k, samples };
  },
  run: ({ db }, a) => {
    const e = db.get(a.key);
    return e === null ? null : memoryUsage(db, a.key, e, a.samples);
  },
});
