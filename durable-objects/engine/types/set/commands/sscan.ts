import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { cursorField, fieldCursor, parseElementCursor, parseScanOptions } from "../../scan-cursor";
import { RedisSet, bulk } from "../set";

/** SSCAN key cursor [MATCH pattern] [COUNT count] @see https://redis.io/docs/latest/commands/sscan/ */
export default defineCommand({
  name: "sscan",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, cursor, ...rest]) => ({ key: k!, cursor: parseElementCursor(cursor!), options: rest }),
  run: ({ db }, a) => {
    const set = RedisSet.find(db, a.key);
    if (set === null) return [toBytes("0"), []];
    const { match, count } = parseScanOptions(a.options);
    const { rows, next } = set.page(cursorField(a.cursor), count);
    const out = rows.filter((el) => match === null || match.test(el.field)).map((el) => bulk(el.field));
    const last = rows.length > 0 ? rows[rows.length - 1]!.field : next;
    return [toBytes(next === null ? "0" : fieldCursor(last)), out];
  },
});
