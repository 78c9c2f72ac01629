import { parseInteger, parseScanCursor } from "../args";
import { toBytes } from "../bytes";
import { defineCommand } from "../command";
import { errors } from "../errors";
import { compileGlob, type Glob } from "../glob";
import type { ValueType } from "../storage";

interface ScanArgs {
  readonly cursor: number;
  readonly match: Glob | null;
  readonly count: number;
  readonly type: ValueType | string | null;
}

/**
 * SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. The cursor is the storage position of
 * the last key returned, so a key present for the whole iteration is returned exactly once.
 * @see https://redis.io/docs/latest/commands/scan/
 */
export default defineCommand<ScanArgs>({
  name: "scan",
  arity: -2,
  flags: ["readonly", "heavy"],
  keys: null,
  parse: ([cursor, ...rest]) => {
    // Past 2^53 a cursor names no position a keyspace reaches: Number's rounding changes nothing.
    const parsedCursor = Number(parseScanCursor(cursor!));
    let match: Glob | null = null;
    let count = 10;
    let type: string | null = null;
    for (let i = 0; i < rest.length; i += 2) {
      const option = rest[i]!.toUpperCase();
      const value = rest[i + 1];
      if (value === undefined) throw errors.syntax();
      if (option === "MATCH") match = compileGlob(value);
      else if (option === "COUNT") {
        count = parseInteger(value);
        if (count < 1) throw errors.syntax();
      } else if (option === "TYPE") type = value.toLowerCase();
      else throw errors.syntax();
    }
    return { cursor: parsedCursor, match, count: Math.min(count, 10_000), type };
  },
  run: ({ db }, a) => {
    const page = db.scan(a.cursor, a.count);
    const keys = page.rows
      .filter((r) => (a.match === null || a.match.test(r.key)) && (a.type === null || r.entry.type === a.type))
      .map((r) => toBytes(r.key));
    return [toBytes(String(page.next)), keys];
  },
});
