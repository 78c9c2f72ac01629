import { defineCommand, key } from "../../../command";
import { RedisError } from "../../../errors";
import { long } from "../../../args";
import { List } from "../list";

/** LRANGE key start stop: indexes from either end, out of range ones clamped. @see https://redis.io/docs/latest/commands/lrange/ */
export default defineCommand({
  name: "lrange",
  arity: 4,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, start, stop]) => ({ key: k!, start: long(start!), stop: long(stop!) }),
  run: ({ db }, a) => List.find(db, a.key)?.range(a.start, a.stop) ?? [],
});

/** An argument read only once the key is found (Redis checks the key first): the number, or the error it is. */
export function lazyLong(s: string): number | RedisError {
  try {
    return long(s);
  } catch (e) {
    if (e instanceof RedisError) return e;
    throw e;
  }
}

/** LINDEX key index (negative from the tail) → the element or nil. @see https://redis.io/docs/latest/commands/lindex/ */
export const lindex = defineCommand({
  name: "lindex",
  arity: 3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, index]) => ({ key: k!, index: lazyLong(index!) }),
  run: ({ db }, a) => {
    const list = List.find(db, a.key);
    if (list === null) return null;
    if (a.index instanceof RedisError) throw a.index;
    return list.at(a.index)?.value ?? null;
  },
});
