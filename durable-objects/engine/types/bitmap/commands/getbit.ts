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
    const e = db.lookupString(a.key);
    const byte = Math.floor(a.offset / 8);
    if (e === null || byte >= db.stringLength(e)) return 0;
    return bitAt(db.stringBytes(e, byte, byte + 1), a.offset % 8);
  },
});
