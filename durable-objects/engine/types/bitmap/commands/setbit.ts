import { parseInt64 } from "../../../args";
import { defineCommand, key } from "../../../command";
import { RedisError } from "../../../errors";
import { bitOffset } from "../args";
import { bitAt } from "../bits";
import { setRange } from "../../string/writes";

/**
 * SETBIT key offset 0|1: the bit's previous value. The string grows, zero-padded, to reach the
 * bit; the change is logged as a SETRANGE of the one byte, and not at all when nothing changed.
 * Written, a string is raw-encoded (OBJECT ENCODING), as Redis unshares it for any SETBIT.
 * @see https://redis.io/docs/latest/commands/setbit/
 */
export default defineCommand({
  name: "setbit",
  arity: 4,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, offset, bit]) => {
    const at = bitOffset(offset!);
    const error = () => new RedisError("ERR bit is not an integer or out of range");
    let on: bigint;
    try {
      on = parseInt64(bit!);
    } catch {
      throw error();
    }
    if (on !== 0n && on !== 1n) throw error();
    return { key: k!, offset: at, on: Number(on) as 0 | 1 };
  },
  run: ({ db }, a) => {
    const e = db.lookupString(a.key);
    const byte = Math.floor(a.offset / 8);
    const grows = e === null || byte >= db.stringLength(e);
    // The one byte, read from the one page that holds it.
    const current = grows ? 0 : db.stringBytes(e, byte, byte + 1)[0]!;
    const old = bitAt(Uint8Array.of(current), a.offset % 8);
    // Nothing changes, unless the string was kept as an integer or embedded: Redis makes it raw.
    if (old === a.on && !grows && e.encoding === "raw") return old;
    const mask = 1 << (7 - (a.offset % 8));
    setRange(db, a.key, byte, Uint8Array.of(a.on ? current | mask : current & ~mask));
    return old;
  },
});
