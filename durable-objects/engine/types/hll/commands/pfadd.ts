import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { RedisError } from "../../../errors";
import { CORRUPT, Hll, emptyHll } from "../hll";
import { readHll, writeHll } from "../store";

/**
 * PFADD key [element ...]: 1 when the key was created or a register grew, else 0. The value is
 * Redis's HLL representation byte for byte. @see https://redis.io/docs/latest/commands/pfadd/
 */
export default defineCommand({
  name: "pfadd",
  arity: -2,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, ...elements]) => ({ key: k!, elements }),
  run: ({ db }, a) => {
    const before = readHll(db, a.key);
    const hll = new Hll(before === null ? emptyHll() : before.slice());
    let updated = before === null ? 1 : 0;
    for (const element of a.elements) {
      const r = hll.add(toBytes(element));
      if (r < 0) {
        // A corrupted sparse value: what was added before it showed stays, as in Redis (logged here).
        writeHll(db, a.key, before, hll.bytes);
        const e = new RedisError(CORRUPT);
        e.keepsWrites = true;
        throw e;
      }
      updated += r;
    }
    if (updated > 0) hll.invalidateCache();
    writeHll(db, a.key, before, hll.bytes);
    return updated > 0 ? 1 : 0;
  },
});
