import { OK, defineCommand, key } from "../../../command";
import { long } from "../../../args";
import { List } from "../list";

/**
 * LTRIM key start stop: only start..stop stay (an empty range deletes the list). Replicated as
 * LDEL of the (at most two) ranges cut off. @see https://redis.io/docs/latest/commands/ltrim/
 */
export default defineCommand({
  name: "ltrim",
  arity: 4,
  flags: ["write"],
  keys: key(1),
  parse: ([k, start, stop]) => ({ key: k!, start: long(start!), stop: long(stop!) }),
  run: ({ db }, a) => {
    List.find(db, a.key)?.trim(a.start, a.stop);
    return OK;
  },
});
