import { type Command, defineCommand, key } from "../../../command";
import { errors } from "../../../errors";
import { positive } from "../../../args";
import { type End, List } from "../list";

interface Args {
  readonly key: string;
  /** null: no count given (one element, as a bulk reply). */
  readonly count: number | null;
}

/**
 * LPOP / RPOP key [count]: without a count, one element or nil; with one, an array (empty for
 * 0), or a nil array when there is no list. Replicated as LDEL of the popped range.
 */
function pop(name: string, end: End): Command<Args> {
  return defineCommand<Args>({
    name,
    arity: -2,
    flags: ["write"],
    keys: key(1),
    parse: ([k, count, ...extra]) => {
      if (extra.length > 0) throw errors.arity(name);
      return { key: k!, count: count === undefined ? null : positive(count) };
    },
    run: ({ db }, a) => {
      const list = List.find(db, a.key);
      if (list === null) return null;
      if (a.count === null) return list.pop(end, 1)[0] ?? null;
      return a.count === 0 ? [] : list.pop(end, a.count);
    },
  });
}

/** @see https://redis.io/docs/latest/commands/lpop/ */
export default pop("lpop", "left");
/** @see https://redis.io/docs/latest/commands/rpop/ */
export const rpop = pop("rpop", "right");
