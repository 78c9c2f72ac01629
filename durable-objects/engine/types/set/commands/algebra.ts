import { parseInteger } from "../../../args";
import { defineCommand, key } from "../../../command";
import type { Change } from "../../../keyspace";
import { RedisError, errors } from "../../../errors";
import { RedisSet, bulk } from "../set";

type Op = "inter" | "union" | "diff";

/** The members of `op` over the sets at `keys` (a missing key is the empty set). @throws WRONGTYPE */
export function combine(db: Change, op: Op, keys: readonly string[], limit = 0): string[] {
  const sets = keys.map((k) => RedisSet.find(db, k));
  if (op === "union") {
    const out = new Set<string>();
    for (const s of sets) if (s) for (const m of s.members()) out.add(m);
    return [...out];
  }
  const [first, ...rest] = sets;
  if (!first) return [];
  if (op === "inter") {
    if (rest.some((s) => s === null)) return [];
    // Walk the smallest set, look the others up.
    const all = [first, ...(rest as RedisSet[])].sort((a, b) => a.length - b.length);
    const out: string[] = [];
    for (const m of all[0]!.members()) {
      if (all.slice(1).every((s) => s.has(m))) out.push(m);
      if (limit > 0 && out.length >= limit) break;
    }
    return out;
  }
  return first.members().filter((m) => !rest.some((s) => s?.has(m)));
}

const read = (name: string, op: Op) =>
  defineCommand({
    name,
    arity: -2,
    flags: ["readonly"],
    keys: key(1, -1),
    parse: (keys) => keys,
    run: ({ db }, keys) => combine(db, op, keys).map(bulk),
  });

/** SINTER / SUNION / SDIFF key [key ...] @see https://redis.io/docs/latest/commands/sinter/ */
export const sinter = read("sinter", "inter");
export const sunion = read("sunion", "union");
export const sdiff = read("sdiff", "diff");

const store = (name: string, op: Op) =>
  defineCommand({
    name,
    arity: -3,
    flags: ["write", "denyoom"],
    keys: key(1, -1),
    parse: ([dest, ...keys]) => ({ dest: dest!, keys }),
    run: ({ db }, a) => {
      const members = combine(db, op, a.keys);
      db.delete(a.dest);
      if (members.length > 0) RedisSet.empty(db, a.dest).add(members);
      return members.length;
    },
  });

/**
 * SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...]: replicated as DEL of the
 * destination and SADD of the result. @see https://redis.io/docs/latest/commands/sinterstore/
 */
export const sinterstore = store("sinterstore", "inter");
export const sunionstore = store("sunionstore", "union");
export const sdiffstore = store("sdiffstore", "diff");

/** SINTERCARD numkeys key [key ...] [LIMIT limit] @see https://redis.io/docs/latest/commands/sintercard/ */
export const sintercard = defineCommand({
  name: "sintercard",
  arity: -3,
  flags: ["readonly"],
  keys: key(2, -1),
  parse: ([numkeys, ...rest]) => {
    let n: number;
    try {
      n = parseInteger(numkeys!);
    } catch {
      throw new RedisError("ERR numkeys should be greater than 0");
    }
    if (n <= 0) throw new RedisError("ERR numkeys should be greater than 0");
    if (n > rest.length) throw new RedisError("ERR Number of keys can't be greater than number of args");
    const keys = rest.slice(0, n);
    const options = rest.slice(n);
    let limit = 0;
    if (options.length > 0) {
      if (options.length !== 2 || options[0]!.toUpperCase() !== "LIMIT") throw errors.syntax();
      try {
        limit = parseInteger(options[1]!);
      } catch {
        throw new RedisError("ERR LIMIT can't be negative");
      }
      if (limit < 0) throw new RedisError("ERR LIMIT can't be negative");
    }
    return { keys, limit };
  },
  run: ({ db }, a) => combine(db, "inter", a.keys, a.limit).length,
});
