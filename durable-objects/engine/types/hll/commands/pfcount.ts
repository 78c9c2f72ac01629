import { defineCommand, integerReply, key } from "../../../command";
import { RedisError } from "../../../errors";
import { CORRUPT, Hll, REGISTERS, countOf, countOfRegisters } from "../hll";
import { cacheCount, readHll } from "../store";

/**
 * PFCOUNT key [key ...]: the estimated cardinality (of the union, for several keys), equal to
 * redis-server's for the same adds. Of one key, it stores the count it computed in the value's
 * header, as Redis does (src/hyperloglog.c pfcountCommand), so the value's bytes stay Redis's: a
 * replica serves it only while that count is fresh, else the master does (`cacheCount`).
 * @see https://redis.io/docs/latest/commands/pfcount/
 */
export default defineCommand({
  name: "pfcount",
  arity: -2,
  flags: ["readonly"],
  keys: key(1, -1),
  parse: (keys) => ({ keys }),
  run: ({ db }, a) => {
    if (a.keys.length === 1) {
      const v = readHll(db, a.keys[0]!);
      if (v === null) return 0;
      const cached = new Hll(v).cached();
      if (cached !== null) {
        cacheCount(db, a.keys[0]!, v, null);
        return integerReply(cached);
      }
      const n = countOf(v);
      if (n === null) throw new RedisError(CORRUPT);
      cacheCount(db, a.keys[0]!, v, n);
      return n;
    }
    const max = new Uint8Array(REGISTERS);
    for (const k of a.keys) {
      const v = readHll(db, k);
      if (v === null) continue;
      const registers = new Hll(v).registers();
      if (registers === null) throw new RedisError(CORRUPT);
      for (let i = 0; i < REGISTERS; i++) if (registers[i]! > max[i]!) max[i] = registers[i]!;
    }
    return countOfRegisters(max);
  },
});
