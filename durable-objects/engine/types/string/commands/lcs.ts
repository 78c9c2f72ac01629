import { parseInteger } from "../../../args";
import { type Bytes, toBytes } from "../../../bytes";
import { type Reply, defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import type { Change } from "../../../keyspace";

/**
 * The largest table LCS builds, in cells (one per pair of prefixes): 2^24, 64 MiB of 32-bit
 * lengths and a few hundred milliseconds of CPU, so that one LCS cannot stall a node. Redis
 * bounds the table by proto-max-bulk-len (512 MB) instead.
 */
export const LCS_MAX_CELLS = 2 ** 24;

/** A key's string for LCS (missing: empty). @throws ERR The specified keys must contain string values */
function stringOf(db: Change, key: string): Bytes | null {
  try {
    return db.getString(key);
  } catch (e) {
    if (e instanceof RedisError && e.message.startsWith("WRONGTYPE")) throw new RedisError("ERR The specified keys must contain string values");
    throw e;
  }
}

/**
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest common subsequence of
 * two strings, its length, or (IDX) its matching ranges from the ends, as Redis's lcsCommand
 * builds and walks its table. @see https://redis.io/docs/latest/commands/lcs/
 */
export default defineCommand({
  name: "lcs",
  arity: -3,
  flags: ["readonly"],
  keys: key(1, 2),
  parse: (args) => args,
  run: ({ db }, args): Reply => {
    // Redis looks both keys up, then reads the options.
    const a0 = stringOf(db, args[0]!);
    const b0 = stringOf(db, args[1]!);
    let getLen = false, getIdx = false, withMatchLen = false, minMatchLen = 0;
    for (let j = 2; j < args.length; j++) {
      const opt = args[j]!.toUpperCase();
      const more = args.length - 1 - j;
      if (opt === "IDX") getIdx = true;
      else if (opt === "LEN") getLen = true;
      else if (opt === "WITHMATCHLEN") withMatchLen = true;
      else if (opt === "MINMATCHLEN" && more > 0) {
        minMatchLen = Math.max(0, parseInteger(args[++j]!));
      } else throw errors.syntax();
    }
    if (getLen && getIdx) throw new RedisError("ERR If you want both the length and indexes, please just use IDX.");
    const a = a0 ?? new Uint8Array(0);
    const b = b0 ?? new Uint8Array(0);
    const alen = a.length;
    const blen = b.length;
    if ((alen + 1) * (blen + 1) > LCS_MAX_CELLS)
      throw new RedisError(`ERR Insufficient memory, LCS of ${alen} and ${blen} bytes passes Flaredis's table of ${LCS_MAX_CELLS} cells`);
    const w = blen + 1;
    const lcs = new Uint32Array((alen + 1) * w);
    for (let i = 1; i <= alen; i++)
      for (let j = 1; j <= blen; j++)
        lcs[i * w + j] = a[i - 1] === b[j - 1] ? lcs[(i - 1) * w + j - 1]! + 1 : Math.max(lcs[(i - 1) * w + j]!, lcs[i * w + j - 1]!);
    const total = lcs[alen * w + blen]!;
    if (getLen) return total;
    // Walked back from the ends: the string, and the ranges of contiguous matches.
    const result = new Uint8Array(total);
    const matches: Reply[] = [];
    let idx = total;
    let aStart = alen, aEnd = 0, bStart = 0, bEnd = 0; // aStart === alen: no range open
    let i = alen, j = blen;
    while (i > 0 && j > 0) {
      let emit = false;
      if (a[i - 1] === b[j - 1]) {
        result[idx - 1] = a[i - 1]!;
        if (aStart === alen) {
          aStart = aEnd = i - 1;
          bStart = bEnd = j - 1;
        } else if (aStart === i && bStart === j) {
          aStart--;
          bStart--;
        } else emit = true;
        if (aStart === 0 || bStart === 0) emit = true;
        idx--;
        i--;
        j--;
      } else {
        if (lcs[(i - 1) * w + j]! > lcs[i * w + j - 1]!) i--;
        else j--;
        if (aStart !== alen) emit = true;
      }
      const matchLen = aEnd - aStart + 1;
      if (emit) {
        if (getIdx && (minMatchLen === 0 || matchLen >= minMatchLen))
          matches.push([[aStart, aEnd], [bStart, bEnd], ...(withMatchLen ? [matchLen] : [])]);
        aStart = alen;
      }
    }
    if (getIdx) return [toBytes("matches"), matches, toBytes("len"), total];
    return result;
  },
});
