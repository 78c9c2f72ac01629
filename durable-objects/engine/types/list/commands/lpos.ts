import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { LONG_MAX, long, positive } from "../../../args";
import { List, type PosQuery } from "../list";

interface Args extends PosQuery {
  readonly key: string;
  readonly value: Uint8Array;
  /** COUNT was given: the reply is an array. */
  readonly many: boolean;
}

/**
 * LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] → the index of a match (nil), or
 * with COUNT an array of them (0: all). @see https://redis.io/docs/latest/commands/lpos/
 */
export default defineCommand<Args>({
  name: "lpos",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, value, ...rest]) => {
    let rank = 1;
    let count: number | null = null;
    let maxlen = 0;
    for (let i = 0; i < rest.length; i++) {
      const option = rest[i]!.toUpperCase();
      const more = i + 1 < rest.length;
      if (option === "RANK" && more) {
        rank = long(rest[++i]!, -LONG_MAX, LONG_MAX);
        if (rank === 0)
          throw new RedisError(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
          );
      } else if (option === "COUNT" && more) count = positive(rest[++i]!, "COUNT can't be negative");
      else if (option === "MAXLEN" && more) maxlen = positive(rest[++i]!, "MAXLEN can't be negative");
      else throw errors.syntax();
    }
    return { key: k!, value: toBytes(value!), rank, count: count ?? 1, maxlen, many: count !== null };
  },
  run: ({ db }, a) => {
    const found = List.find(db, a.key)?.positions(a.value, a) ?? [];
    return a.many ? found : (found[0] ?? null);
  },
});
