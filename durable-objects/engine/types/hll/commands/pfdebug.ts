import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { RedisError } from "../../../errors";
import { CORRUPT, Hll, decodeSparse } from "../hll";
import { readHll, writeHll } from "../store";

/**
 * PFDEBUG GETREG|DECODE|ENCODING|TODENSE key (admin), as Redis's pfdebugCommand: the key looked up
 * first, then the subcommand. GETREG and TODENSE turn a sparse value dense (logged as the bytes
 * written, as Redis propagates the change); DECODE lists a sparse value's opcodes.
 * @see https://redis.io/docs/latest/commands/pfdebug/
 */
export default defineCommand({
  name: "pfdebug",
  arity: 3,
  flags: ["write", "denyoom", "admin"],
  keys: key(2),
  parse: ([sub, k]) => ({ sub: sub!, key: k! }),
  run: ({ db }, a) => {
    const v = readHll(db, a.key);
    if (v === null) throw new RedisError("ERR The specified key does not exist");
    const hll = new Hll(v.slice());
    const densify = (): boolean => {
      if (hll.dense) return false;
      if (!hll.toDense()) throw new RedisError(CORRUPT);
      writeHll(db, a.key, v, hll.bytes);
      return true;
    };
    switch (a.sub.toLowerCase()) {
      case "getreg":
        densify();
        return Array.from(hll.registers()!);
      case "decode":
        if (hll.dense) throw new RedisError("ERR HLL encoding is not sparse");
        return toBytes(decodeSparse(v));
      case "encoding":
        return hll.dense ? "dense" : "sparse";
      case "todense":
        return densify() ? 1 : 0;
      default:
        throw new RedisError(`ERR Unknown PFDEBUG subcommand '${a.sub}'`);
    }
  },
});
