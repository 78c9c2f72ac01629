import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import type { Reply } from "../../../command";
import { cursorField, fieldCursor, parseElementCursor, parseScanOptions } from "../../scan-cursor";
import { Hash, bulk } from "../hash";

interface Args {
  readonly key: string;
  /** The cursor as Redis reads it (`cursorField` names the last field returned). */
  readonly cursor: bigint;
  /** [MATCH pattern] [COUNT count] [NOVALUES], read once the key is found. */
  readonly options: readonly string[];
}

/** HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES] @see https://redis.io/docs/latest/commands/hscan/ */
export default defineCommand<Args>({
  name: "hscan",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, cursor, ...rest]) => ({ key: k!, cursor: parseElementCursor(cursor!), options: rest }),
  run: ({ db }, a) => {
    const hash = Hash.find(db, a.key);
    if (hash === null) return [toBytes("0"), []];
    const { match, count, flags } = parseScanOptions(a.options, ["NOVALUES"]);
    const { rows, next, last: read } = hash.page(cursorField(a.cursor), count);
    const out: Reply[] = [];
    for (const el of rows) {
      if (match !== null && !match.test(el.field)) continue;
      out.push(bulk(el.field));
      if (!flags.has("NOVALUES")) out.push(el.value);
    }
    const last = read ?? next;
    return [toBytes(next === null ? "0" : fieldCursor(last)), out];
  },
});
