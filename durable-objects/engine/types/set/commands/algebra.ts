import { LONG_MAX, long, positive } from "../../../args";
import { defineCommand, key, numkeys } from "../../../command";
import type { Change } from "../../../keyspace";
import { RedisError, errors } from "../../../errors";
import { type Algebra, type Operation, combineCount, combineRows, combineStore } from "../../algebra";
import { RedisSet, bulk } from "../set";

/** The sets at `keys` as inputs of `op` (a missing key is the empty set). @throws WRONGTYPE */
function algebra(db: Change, op: Operation, keys: readonly string[]): Algebra {
  const inputs = keys.map((k) => RedisSet.find(db, k)?.operand() ?? { eid: null, weight: 1, scored: false, size: 0 });
  return { op, inputs, aggregate: "sum", result: "set" };
}

const read = (name: string, op: Operation) =>
  defineCommand({
    name,
    arity: -2,
    flags: ["readonly"],
    keys: key(1, -1),
    parse: (keys) => keys,
    run: ({ db }, keys) => combineRows(db, algebra(db, op, keys)).map((r) => bulk(r.field)),
  });

/** SINTER / SUNION / SDIFF key [key ...]: computed by the storage (types/algebra.ts). @see https://redis.io/docs/latest/commands/sinter/ */
export const sinter = read("sinter", "inter");
export const sunion = read("sunion", "union");
export const sdiff = read("sdiff", "diff");

const store = (name: string, op: Operation) =>
  defineCommand({
    name,
    arity: -3,
    flags: ["write", "denyoom"],
    keys: key(1, -1),
    parse: ([dest, ...keys]) => ({ dest: dest!, keys }),
    run: ({ db, server }, a) => combineStore(db, a.dest, algebra(db, op, a.keys), a.keys, server.compactEffects()),
  });

/**
 * SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...]: the result written by the
 * storage, replicated as one STORE effect (types/algebra.ts). @see https://redis.io/docs/latest/commands/sinterstore/
 */
export const sinterstore = store("sinterstore", "inter");
export const sunionstore = store("sunionstore", "union");
export const sdiffstore = store("sdiffstore", "diff");

/** SINTERCARD numkeys key [key ...] [LIMIT limit] @see https://redis.io/docs/latest/commands/sintercard/ */
export const sintercard = defineCommand({
  name: "sintercard",
  arity: -3,
  flags: ["readonly"],
  keys: numkeys(1),
  parse: ([count, ...rest]) => {
    const n = long(count!, 1n, LONG_MAX, "numkeys should be greater than 0");
    if (n > rest.length) throw new RedisError("ERR Number of keys can't be greater than number of args");
    const keys = rest.slice(0, n);
    let limit = 0;
    for (let j = n; j < rest.length; j++) {
      if (rest[j]!.toUpperCase() === "LIMIT" && j + 1 < rest.length) limit = positive(rest[++j]!, "LIMIT can't be negative");
      else throw errors.syntax();
    }
    return { keys, limit };
  },
  run: ({ db }, a) => combineCount(db, algebra(db, "inter", a.keys), a.limit),
});
