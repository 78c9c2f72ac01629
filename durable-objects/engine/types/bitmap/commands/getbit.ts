import { defineCommand, key } from "../../../command";
import { bitOffset } from "../args";
import { bitAt } from "../bits";

/** GETBIT key offset: the bit, 0 past the end or for a missing key. @see https://redis.io/docs/latest/commands/getbit/ */
export default defineCommand({
  name: "getbit",
  arity: 3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, offset]) => ({ key: k!, offset: bitOffset(offset!) }),
  run: ({ db }, a) => {
    const value = db.getString(a.key);
    return value === null ? 0 : bitAt(value, a.offset);
  },
});
