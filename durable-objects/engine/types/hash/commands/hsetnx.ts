import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { Hash } from "../hash";

/** HSETNX key field value → 1 when set, 0 when the field existed. @see https://redis.io/docs/latest/commands/hsetnx/ */
export default defineCommand({
  name: "hsetnx",
  arity: 4,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, field, value]) => ({ key: k!, field: field!, value: toBytes(value!) }),
  run: ({ db }, a) => {
    const hash = Hash.findOrCreate(db, a.key);
    if (hash.get(a.field) !== null) return 0;
    hash.set([[a.field, a.value]]);
    return 1;
  },
});
