/**
 * The cursors of HSCAN, SSCAN and ZSCAN: a cursor names the last field returned (its UTF-8 bytes,
 * after a 0x01 byte, read as one decimal integer: Redis's cursors are integers, and clients pass
 * them back as they got them). So an element present for the whole iteration is returned
 * exactly once, whatever changes meanwhile.
 */
import { parseInteger } from "../args";
import { toBytes } from "../bytes";
import { RedisError, errors } from "../errors";
import { type Glob, compileGlob } from "../glob";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The cursor that goes on after `field` ("0": from the start, or done). */
export function fieldCursor(field: string | null): string {
  if (field === null) return "0";
  return BigInt(`0x01${[...toBytes(field)].map((b) => b.toString(16).padStart(2, "0")).join("")}`).toString();
}

/**
 * The field a cursor goes on after (null: from the start): the cursor as `parseScanCursor` read
 * it (when the command is parsed), decoded once the key is found and its type checked, as Redis
 * orders its errors. A cursor that names no field is refused.
 * @throws ERR invalid cursor
 */
export function cursorField(n: bigint): string | null {
  if (n === 0n) return null;
  const digits = n.toString(16);
  const hex = digits.length % 2 === 0 ? digits : `0${digits}`;
  if (!hex.startsWith("01")) throw new RedisError("ERR invalid cursor");
  const bytes = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new RedisError("ERR invalid cursor");
  }
}


/**
 * [MATCH pattern] [COUNT count] and the flags a command allows (NOVALUES), read as Redis's
 * scanGenericCommand reads them: after the key is found and its type checked (a missing key
 * answers an empty page whatever follows the cursor).
 * @throws ERR syntax error, ERR value is not an integer or out of range
 */
export function parseScanOptions(rest: readonly string[], flags: readonly string[] = []) {
  let match: Glob | null = null;
  let count = 10;
  const set = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const option = rest[i]!.toUpperCase();
    if (flags.includes(option)) {
      set.add(option);
      continue;
    }
    const value = rest[++i];
    if (value === undefined) throw errors.syntax();
    if (option === "MATCH") match = compileGlob(value);
    else if (option === "COUNT") {
      count = parseInteger(value);
      if (count < 1) throw errors.syntax();
    } else throw errors.syntax();
  }
  return { match, count: Math.min(count, 10_000), flags: set };
}
