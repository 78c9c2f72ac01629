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
    const value = db.getString(a.key);
    if (value === null) return 0;
    if (a.range === null) return value.length === 0 ? 0 : countBits(value, 0, value.length * 8 - 1);
    const { start, end, bits } = a.range;
    if (start < 0 && end < 0 && start > end) return 0;
    const range = bitRange(value.length, start, end, bits);
    return range === null ? 0 : countBits(value, range[0], range[1]);
  },
});
