import { parseInteger } from "../../../args";
import { defineCommand, key } from "../../../command";

/** GETRANGE key start end: bytes, negative indexes from the end. @see https://redis.io/docs/latest/commands/getrange/ */
const getrange = defineCommand({
  name: "getrange",
  arity: 4,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, start, end]) => ({ key: k!, start: parseInteger(start!), end: parseInteger(end!) }),
  run: ({ db }, a) => {
    const e = db.lookupString(a.key);
    const n = e === null ? 0 : db.stringLength(e);
    if (a.start < 0 && a.end < 0 && a.start > a.end) return new Uint8Array(0);
    const start = a.start < 0 ? Math.max(n + a.start, 0) : a.start;
    let end = a.end < 0 ? Math.max(n + a.end, 0) : a.end;
    end = Math.min(end, n - 1);
    if (e === null || n === 0 || start > end) return new Uint8Array(0);
    // Only the pages the range covers are read.
    return db.stringBytes(e, start, end + 1).slice();
  },
});

export default getrange;

/** SUBSTR key start end: GETRANGE by its old name, as Redis keeps it. @see https://redis.io/docs/latest/commands/substr/ */
export const substr = defineCommand({ ...getrange, name: "substr" });
