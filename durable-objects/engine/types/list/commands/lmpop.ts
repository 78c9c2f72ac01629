import { toBytes } from "../../../bytes";
import { defineCommand } from "../../../command";
import { errors } from "../../../errors";
import { LONG_MAX, long } from "../../../args";
import { parseEnd } from "../args";
import { type End, List } from "../list";

interface Args {
  readonly keys: readonly string[];
  readonly end: End;
  readonly count: number;
}

/**
 * LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] → [key, elements] from the first non-empty
 * list, or nil. (The key spec spans every argument after numkeys: the key-size check reads it.)
 * @see https://redis.io/docs/latest/commands/lmpop/
 */
export default defineCommand<Args>({
  name: "lmpop",
  arity: -4,
  flags: ["write"],
  keys: { first: 2, last: -1, step: 1 },
  parse: ([numkeys, ...rest]) => {
    const n = long(numkeys!, 1n, LONG_MAX, "numkeys should be greater than 0");
    if (n >= rest.length) throw errors.syntax();
    const end = parseEnd(rest[n]!);
    let count: number | null = null;
    for (let i = n + 1; i < rest.length; i++) {
      if (count === null && rest[i]!.toUpperCase() === "COUNT" && i + 1 < rest.length) count = long(rest[++i]!, 1n, LONG_MAX, "count should be greater than 0");
      else throw errors.syntax();
    }
    return { keys: rest.slice(0, n), end, count: count ?? 1 };
  },
  run: ({ db }, a) => {
    for (const k of a.keys) {
      const list = List.find(db, k);
      if (list !== null) return [toBytes(k), list.pop(a.end, a.count)];
    }
    return null;
  },
});
