import { parseInteger } from "../args";
import { toBytes } from "../bytes";
import { defineCommand, key } from "../command";
import { RedisError, errors } from "../errors";

/** SETRANGE key offset value: overwrites bytes, zero-padding; the new length. @see https://redis.io/docs/latest/commands/setrange/ */
export default defineCommand({
  name: "setrange",
  arity: 4,
  flags: ["write"],
  keys: key(1),
  parse: ([k, offset, value]) => {
    const at = parseInteger(offset!);
    if (at < 0) throw new RedisError("ERR offset is out of range");
    return { key: k!, offset: at, value: toBytes(value!) };
  },
  run: ({ db }, a) => {
    const current = db.getString(a.key);
    if (a.value.length === 0) return current?.length ?? 0;
    const size = Math.max(current?.length ?? 0, a.offset + a.value.length);
    if (size > db.maxValueBytes) throw errors.valueTooLarge(db.maxValueBytes, size);
    const next = new Uint8Array(size);
    if (current) next.set(current);
    next.set(a.value, a.offset);
    db.setString(a.key, next, current === null ? null : db.get(a.key)!.expiresAt);
    return size;
  },
});
