import { toBytes } from "../../../bytes";
import { OK, defineCommand, key } from "../../../command";
import { errors } from "../../../errors";
import { Hash } from "../hash";

/** Field/value pairs after the key; an odd count is Redis's arity error. */
export function parsePairs(name: string, args: readonly string[]): { key: string; pairs: [string, Uint8Array][] } {
  const [k, ...rest] = args;
  if (rest.length === 0 || rest.length % 2 !== 0) throw errors.arity(name);
  const pairs: [string, Uint8Array][] = [];
  for (let i = 0; i < rest.length; i += 2) pairs.push([rest[i]!, toBytes(rest[i + 1]!)]);
  return { key: k!, pairs };
}

/** HSET key field value [field value ...] → the number of new fields. @see https://redis.io/docs/latest/commands/hset/ */
export default defineCommand({
  name: "hset",
  arity: -4,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: (args) => parsePairs("hset", args),
  run: ({ db }, a) => Hash.findOrCreate(db, a.key).set(a.pairs),
});

/** HMSET key field value [field value ...] → OK (deprecated alias of HSET). @see https://redis.io/docs/latest/commands/hmset/ */
export const hmset = defineCommand({
  name: "hmset",
  arity: -4,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: (args) => parsePairs("hmset", args),
  run: ({ db }, a) => {
    Hash.findOrCreate(db, a.key).set(a.pairs);
    return OK;
  },
});
