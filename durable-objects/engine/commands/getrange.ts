import { parseInteger } from "../args";
import { defineCommand, key } from "../command";

/** GETRANGE key start end: bytes, negative indexes from the end. @see https://redis.io/docs/latest/commands/getrange/ */
const getrange = defineCommand({
  name: "getrange",
  arity: 4,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, start, end]) => ({ key: k!, start: parseInteger(start!), end: parseInteger(end!) }),
  run: ({ db }, a) => {
    const value = db.getString(a.key) ?? new Uint8Array(0);
    const n = value.length;
    if (a.start < 0 && a.end < 0 && a.start > a.end) return new Uint8Array(0);
    let start = a.start < 0 ? Math.max(n + a.start, 0) : a.start;
    let end = a.end < 0 ? Math.max(n + a.end, 0) : a.end;
    end = Math.min(end, n - 1);
    if (n === 0 || start > end) return new Uint8Array(0);
    return value.slice(start, end + 1);
  },
});

export default getrange;

/** SUBSTR key start end: GETRANGE by its old name, as Redis keeps it. @see https://redis.io/docs/latest/commands/substr/ */
export const substr = defineCommand({ ...getrange, name: "substr" });
