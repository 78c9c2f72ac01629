import { OK, defineCommand, key } from "../../../command";
import { RedisError } from "../../../errors";
import { CORRUPT, Hll, REGISTERS, emptyHll } from "../hll";
import { readHll, writeHll } from "../store";

/**
 * PFMERGE destkey [sourcekey ...]: destkey (a source too) becomes the union; dense when any
 * source is dense. @see https://redis.io/docs/latest/commands/pfmerge/
 */
export default defineCommand({
  name: "pfmerge",
  arity: -2,
  flags: ["write", "denyoom"],
  keys: key(1, -1),
  parse: (keys) => ({ dest: keys[0]!, keys }),
  run: ({ db }, a) => {
    const max = new Uint8Array(REGISTERS);
    let dense = false;
    for (const k of a.keys) {
      const v = readHll(db, k);
      if (v === null) continue;
      const hll = new Hll(v);
      dense ||= hll.dense;
      const registers = hll.registers();
      if (registers === null) throw new RedisError(CORRUPT);
      for (let i = 0; i < REGISTERS; i++) if (registers[i]! > max[i]!) max[i] = registers[i]!;
    }
    const before = db.getString(a.dest);
    const hll = new Hll(before === null ? emptyHll() : before.slice());
    if (dense && !hll.toDense()) throw new RedisError(CORRUPT);
    for (let i = 0; i < REGISTERS; i++) if (max[i]! > 0) hll.set(i, max[i]!);
    hll.invalidateCache();
    writeHll(db, a.dest, before, hll.bytes);
    return OK;
  },
});
