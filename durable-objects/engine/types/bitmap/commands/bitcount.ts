import { parseInteger } from "../../../args";
import { defineCommand, key } from "../../../command";
import { errors } from "../../../errors";
import { bitUnit } from "../args";
import { bitRange, countBits } from "../bits";

/**
 * BITCOUNT key [start end [BYTE|BIT]]: the set bits in the range (negative indexes from the end).
 * The arguments are checked before the key, as Redis 7.4 does.
 * @see https://redis.io/docs/latest/commands/bitcount/
 */
export default defineCommand({
  name: "bitcount",
  arity: -2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, ...rest]) => {
    if (rest.length === 0) return { key: k!, range: null };
    if (rest.length !== 2 && rest.length !== 3) throw errors.syntax();
    const start = parseInteger(rest[0]!);
    const end = parseInteger(rest[1]!);
    return { key: k!, range: { start, end, bits: rest.length === 3 ? bitUnit(rest[2]!) : false } };
  },
  run: ({ db }, a) => {
    const e = db.lookupString(a.key);
    if (e === null) return 0;
    const length = db.stringLength(e);
    if (a.range !== null && a.range.start < 0 && a.range.end < 0 && a.range.start > a.range.end) return 0;
    const range = a.range === null ? bitRange(length, 0, -1, false) : bitRange(length, a.range.start, a.range.end, a.range.bits);
    if (range === null) return 0;
    const [from, to] = range;
    // Page by page (a page not stored has no set bit).
    let n = 0;
    db.eachPage(e, Math.floor(from / 8), Math.floor(to / 8) + 1, (start, bytes) => {
      const first = Math.max(from, start * 8);
      const last = Math.min(to, (start + bytes.length) * 8 - 1);
      if (first <= last) n += countBits(bytes, first - start * 8, last - start * 8);
    });
    return n;
  },
});
