import { defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { type BitOp, bitop } from "../bits";
import { setString } from "../../string/writes";

const OPS: readonly BitOp[] = ["AND", "OR", "XOR", "NOT", "DIFF", "DIFF1", "ANDOR", "ONE"];

/**
 * BITOP AND|OR|XOR|NOT|DIFF|DIFF1|ANDOR|ONE destkey key [key ...]: the result's length; the
 * result replaces destkey (no deadline), and an empty one deletes it. DIFF, DIFF1, ANDOR and ONE
 * are Redis 8.2's. @see https://redis.io/docs/latest/commands/bitop/
 */
export default defineCommand({
  name: "bitop",
  arity: -4,
  flags: ["write", "denyoom"],
  keys: key(2, -1),
  parse: ([name, dest, ...sources]) => {
    const op = OPS.find((o) => o === name!.toUpperCase());
    if (op === undefined) throw errors.syntax();
    if (op === "NOT" && sources.length !== 1) throw new RedisError("ERR BITOP NOT must be called with a single source key.");
    if ((op === "DIFF" || op === "DIFF1" || op === "ANDOR") && sources.length < 2)
      throw new RedisError(`ERR BITOP ${op} must be called with at least two source keys.`);
    return { op, dest: dest!, sources };
  },
  run: ({ db }, a) => {
    const values = a.sources.map((k) => db.getString(k) ?? new Uint8Array(0));
    const result = bitop(a.op, values);
    if (result.length === 0) db.delete(a.dest);
    else setString(db, a.dest, result, null, "raw");
    return result.length;
  },
});
