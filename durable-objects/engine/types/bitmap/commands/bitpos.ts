import { parseInteger, parseInt64 } from "../../../args";
import { defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { bitUnit } from "../args";
import { bitRange, firstBit } from "../bits";

/**
 * BITPOS key 0|1 [start [end [BYTE|BIT]]]: the first bit of that value in the range, or -1. A
 * missing key is all zeros; looking for a 0 without an end, the string counts as zero-padded (the
 * bit after its end). The arguments are checked before the key, as Redis 7.4 does.
 * @see https://redis.io/docs/latest/commands/bitpos/
 */
export default defineCommand({
  name: "bitpos",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, b, ...rest]) => {
    const bit = parseInt64(b!);
    if (bit !== 0n && bit !== 1n) throw new RedisError("ERR The bit argument must be 1 or 0.");
    if (rest.length > 3) throw errors.syntax();
    const start = rest.length > 0 ? parseInteger(rest[0]!) : null;
    // The unit is read before the end, as Redis reads them.
    const bits = rest.length === 3 ? bitUnit(rest[2]!) : false;
    const end = rest.length >= 2 ? parseInteger(rest[1]!) : null;
    return { key: k!, bit: Number(bit) as 0 | 1, start, end, bits };
  },
  run: ({ db }, a) => {
    const e = db.lookupString(a.key);
    if (e === null) return a.bit === 1 ? -1 : 0;
    const length = db.stringLength(e);
    const range = bitRange(length, a.start ?? 0, a.end ?? length - 1, a.bits);
    if (range === null) return -1;
    const [from, to] = range;
    // Page by page: a page not stored is all zeros, so a 0 is the first bit it holds.
    let at = -1;
    let next = from;
    db.eachPage(e, Math.floor(from / 8), Math.floor(to / 8) + 1, (start, bytes) => {
      const first = Math.max(next, start * 8);
      if (a.bit === 0 && first > next) {
        at = next;
        return true;
      }
      const last = Math.min(to, (start + bytes.length) * 8 - 1);
      if (first > last) return false;
      const found = firstBit(bytes, a.bit, first - start * 8, last - start * 8);
      if (found >= 0) {
        at = found + start * 8;
        return true;
      }
      next = last + 1;
      return false;
    });
    if (at < 0 && a.bit === 0 && next <= to) at = next;
    if (at >= 0 || a.bit === 1 || a.end !== null) return at;
    return to + 1;
  },
});
