import { parseInteger } from "../args";
import { defineCommand } from "../command";
import { errors } from "../errors";
import { keySize } from "../sizes";

/**
 * MEMORY USAGE key [SAMPLES count]: the key's share of the dataset's estimate (sizes.ts), exact
 * for a collection too (its size is kept with it), so SAMPLES is accepted and changes nothing.
 * @see https://redis.io/docs/latest/commands/memory-usage/
 */
export default defineCommand({
  name: "memory",
  arity: -2,
  flags: ["readonly"],
  keys: { first: 2, last: 2, step: 1 },
  subcommands: { doctor: 2, help: 2, "malloc-stats": 2, purge: 2, stats: 2, usage: -3 },
  parse: ([sub, k, ...rest]) => {
    if (sub!.toLowerCase() !== "usage") throw errors.unsupported(`memory ${sub}`);
    let samples = 5;
    if (rest.length > 0) {
      if (rest.length !== 2 || rest[0]!.toUpperCase() !== "SAMPLES") throw errors.syntax();
      samples = parseInteger(rest[1]!);
      if (samples < 0) throw errors.syntax();
    }
    return { key: k!, samples };
  },
  run: ({ db }, a) => {
    const e = db.get(a.key);
    return e === null ? null : keySize(a.key, db.sized(e));
  },
});
