import { toBytes } from "../../../bytes";
import { type Command, OK, defineCommand, key } from "../../../command";
import { errors } from "../../../errors";
import { setString } from "../writes";

type Pairs = readonly (readonly [string, string])[];

export function parsePairs(name: string, args: readonly string[]): Pairs {
  if (args.length % 2 !== 0) throw errors.arity(name);
  const pairs: [string, string][] = [];
  for (let i = 0; i < args.length; i += 2) pairs.push([args[i]!, args[i + 1]!]);
  return pairs;
}

/** MSET key value [key value ...]; MSETNX sets none when any key exists. @see https://redis.io/docs/latest/commands/mset/ */
export const multiSet = (name: string, onlyIfNoneExists: boolean): Command<Pairs> =>
  defineCommand({
    name,
    arity: -3,
    flags: ["write", "denyoom"],
    keys: key(1, -1, 2),
    parse: (args) => parsePairs(name, args),
    run: ({ db }, pairs) => {
      if (onlyIfNoneExists && pairs.some(([k]) => db.exists(k))) return 0;
      for (const [k, v] of pairs) setString(db, k, toBytes(v), null);
      return onlyIfNoneExists ? 1 : OK;
    },
  });

export default multiSet("mset", false);
