import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import type { Reply } from "../../../command";
import type { Glob } from "../../../glob";
import { fieldCursor, parseFieldCursor, parseScanOptions } from "../../scan-cursor";
import { Hash, bulk } from "../hash";

interface Args {
  readonly key: string;
  /** The last field returned, or null from the start. */
  readonly after: string | null;
  readonly match: Glob | null;
  readonly count: number;
  readonly noValues: boolean;
}

/** HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES] @see https://redis.io/docs/latest/commands/hscan/ */
export default defineCommand<Args>({
  name: "hscan",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, cursor, ...rest]) => {
    const { match, count, flags } = parseScanOptions(rest, ["NOVALUES"]);
    return { key: k!, after: parseFieldCursor(cursor!), match, count, noValues: flags.has("NOVALUES") };
  },
  run: ({ db }, a) => {
    const hash = Hash.find(db, a.key);
    if (hash === null) return [toBytes("0"), []];
    const { rows, next } = hash.page(a.after, a.count);
    const out: Reply[] = [];
    for (const el of rows) {
      if (a.match !== null && !a.match.test(el.field)) continue;
      out.push(bulk(el.field));
      if (!a.noValues) out.push(el.value);
    }
    const last = rows.length > 0 ? rows[rows.length - 1]!.field : next;
    return [toBytes(next === null ? "0" : fieldCursor(last)), out];
  },
});
