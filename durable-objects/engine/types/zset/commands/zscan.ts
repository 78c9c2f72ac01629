import { parseInteger } from "../../../args";
import { toBytes } from "../../../bytes";
import { type Reply, defineCommand, key } from "../../../command";
import { errors } from "../../../errors";
import { type Glob, compileGlob } from "../../../glob";
import { fieldCursor, parseFieldCursor } from "../../scan-cursor";
import { scoreReply } from "../score";
import { Zset, bulk } from "../zset";

interface Args {
  readonly key: string;
  /** The last member returned, or null from the start. */
  readonly after: string | null;
  readonly match: Glob | null;
  readonly count: number;
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
  parse: ([k, cursor, ...rest]) => {
    let match: Glob | null = null;
    let count = 10;
    for (let i = 0; i < rest.length; i += 2) {
      const option = rest[i]!.toUpperCase();
      const value = rest[i + 1];
      if (value === undefined) throw errors.syntax();
      if (option === "MATCH") match = compileGlob(value);
      else if (option === "COUNT") {
        count = parseInteger(value);
        if (count < 1) throw errors.syntax();
      } else throw errors.syntax();
    }
    return { key: k!, after: parseFieldCursor(cursor!), match, count: Math.min(count, 10_000) };
  },
  run: ({ db }, a): Reply => {
    const zset = Zset.find(db, a.key);
    if (zset === null) return [toBytes("0"), []];
    const { rows, next } = zset.page(a.after, a.count);
    const out: Reply[] = [];
    for (const el of rows) {
      if (a.match !== null && !a.match.test(el.field)) continue;
      out.push(bulk(el.field), scoreReply(el.score ?? 0));
    }
    const last = rows.length > 0 ? rows[rows.length - 1]!.field : next;
    return [toBytes(next === null ? "0" : fieldCursor(last)), out];
  },
});
