import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { fieldCursor, parseFieldCursor, parseScanOptions } from "../../scan-cursor";
import { RedisSet, bulk } from "../set";

/** SSCAN key cursor [MATCH pattern] [COUNT count] @see https://redis.io/docs/latest/commands/sscan/ */
export default defineCommand({
  name: "sscan",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, cursor, ...rest]) => ({ key: k!, after: parseFieldCursor(cursor!), ...parseScanOptions(rest) }),
  run: ({ db }, a) => {
    const set = RedisSet.find(db, a.key);
    if (set === null) return [toBytes("0"), []];
    const { rows, next } = set.page(a.after, a.count);
    const out = rows.filter((el) => a.match === null || a.match.test(el.field)).map((el) => bulk(el.field));
    const last = rows.length > 0 ? rows[rows.length - 1]!.field : next;
    return [toBytes(next === null ? "0" : fieldCursor(last)), out];
  },
});
