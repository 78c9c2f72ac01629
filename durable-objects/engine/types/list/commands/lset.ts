import { toBytes } from "../../../bytes";
import { OK, defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { List } from "../list";
import { lazyLong } from "./lrange";

/**
 * LSET key index element: ERR no such key without a list, ERR index out of range past either end.
 * Replicated as LPUT at the element's position. @see https://redis.io/docs/latest/commands/lset/
 */
export default defineCommand({
  name: "lset",
  arity: 4,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, index, value]) => ({ key: k!, index: lazyLong(index!), value: toBytes(value!) }),
  run: ({ db }, a) => {
    const list = List.find(db, a.key);
    if (list === null) throw errors.noSuchKey();
    if (a.index instanceof RedisError) throw a.index;
    list.set(a.index, a.value);
    return OK;
  },
});
