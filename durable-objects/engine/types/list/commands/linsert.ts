import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { errors } from "../../../errors";
import { List } from "../list";

/**
 * LINSERT key BEFORE|AFTER pivot element → the new length, -1 without the pivot, 0 without a list.
 * The element takes a position between the pivot and its neighbour (LPUT).
 * @see https://redis.io/docs/latest/commands/linsert/
 */
export default defineCommand({
  name: "linsert",
  arity: 5,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, where, pivot, value]) => {
    const w = where!.toUpperCase();
    if (w !== "BEFORE" && w !== "AFTER") throw errors.syntax();
    return { key: k!, where: w === "BEFORE" ? ("before" as const) : ("after" as const), pivot: toBytes(pivot!), value: toBytes(value!) };
  },
  run: ({ db }, a) => List.find(db, a.key)?.insert(a.where, a.pivot, a.value) ?? 0,
});
