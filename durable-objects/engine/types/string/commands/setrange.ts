import { parseInteger } from "../../../args";
import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { RedisError } from "../../../errors";
import { setRange } from "../writes";

/** SETRANGE key offset value: overwrites bytes, zero-padding; the new length. @see https://redis.io/docs/latest/commands/setrange/ */
export default defineCommand({
  name: "setrange",
  arity: 4,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, offset, value]) => {
    const at = parseInteger(offset!);
    if (at < 0) throw new RedisError("ERR offset is out of range");
    return { key: k!, offset: at, value: toBytes(value!) };
  },
  run: ({ db }, a) => setRange(db, a.key, a.offset, a.value),
});
