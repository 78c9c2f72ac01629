import { toBytes } from "../../../bytes";
import { type Command, defineCommand, key } from "../../../command";
import { type End, List } from "../list";

/** LPUSH, RPUSH, LPUSHX, RPUSHX: values pushed one by one at `end`; the X forms only onto an existing list. */
function push(name: string, end: End, existingOnly: boolean): Command<{ key: string; values: Uint8Array[] }> {
  return defineCommand({
    name,
    arity: -3,
    flags: ["write", "denyoom"],
    keys: key(1),
    parse: ([k, ...values]) => ({ key: k!, values: values.map(toBytes) }),
    run: ({ db }, a) => {
      const list = existingOnly ? List.find(db, a.key) : List.findOrCreate(db, a.key);
      return list === null ? 0 : list.push(a.values, end);
    },
  });
}

/** LPUSH key element [element ...] → the new length. @see https://redis.io/docs/latest/commands/lpush/ */
export default push("lpush", "left", false);
/** RPUSH key element [element ...] → the new length. @see https://redis.io/docs/latest/commands/rpush/ */
export const rpush = push("rpush", "right", false);
/** LPUSHX key element [element ...] → the new length, 0 without a list. @see https://redis.io/docs/latest/commands/lpushx/ */
export const lpushx = push("lpushx", "left", true);
/** RPUSHX key element [element ...] → the new length, 0 without a list. @see https://redis.io/docs/latest/commands/rpushx/ */
export const rpushx = push("rpushx", "right", true);
