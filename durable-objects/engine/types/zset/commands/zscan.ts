import { toBytes } from "../../../bytes";
import { type Reply, defineCommand, key } from "../../../command";
import { cursorField, fieldCursor, parseElementCursor, parseScanOptions } from "../../scan-cursor";
import { scoreReply } from "../score";
import { Zset, bulk } from "../zset";

interface Args {
  readonly key: string;
  /** The cursor as Redis reads it (`cursorField` names the last member returned). */
  readonly cursor: bigint;
  /** [MATCH pattern] [COUNT count], read once the key is found. */
  readonly options: readonly string[];
}

/**
 * ZSCAN key cursor [MATCH pattern] [COUNT count] → [cursor, [member, score, ...]], in member
 * order; the cursor names the last member returned (as HSCAN's does), so a member present for the
 * whole iteration comes exactly once. @see https://redis.io/docs/latest/commands/zscan/
 */
export default defineCommand<Args>({
  name: "zscan",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, cursor, ...rest]) => ({ key: k!, cursor: parseElementCursor(cursor!), options: rest }),
  run: ({ db }, a): Reply => {
    const zset = Zset.find(db, a.key);
    if (zset === null) return [toBytes("0"), []];
    const { match, count } = parseScanOptions(a.options);
    const { rows, next } = zset.page(cursorField(a.cursor), count);
    const out: Reply[] = [];
    for (const el of rows) {
      if (match !== null && !match.test(el.field)) continue;
      out.push(bulk(el.field), scoreReply(el.score ?? 0));
    }
    const last = rows.length > 0 ? rows[rows.length - 1]!.field : next;
    return [toBytes(next === null ? "0" : fieldCursor(last)), out];
  },
});
