/**
 * The cursors of HSCAN, SSCAN and ZSCAN: a cursor names the last field returned (a 0x01 byte, its
 * UTF-8 bytes and a 16-bit check of them, read as one decimal integer: Redis's cursors are
 * integers, and clients pass them back as they got them). So an element present for the whole
 * iteration is returned exactly once, whatever changes meanwhile. A field of 6 bytes or more makes
 * a cursor past 64 bits, which Redis would refuse: these commands take it back (`parseScanCursor`
 * with `wide`), and the check makes any other integer past 64 bits as invalid as Redis finds it
 * (but one in 65,536). Clients that read a cursor as a 64-bit integer (go-redis; node-redis 4,
 * as a JS number) cannot page through fields that long: they get a cursor they cannot send back.
 */
import { fromBytes, toBytes } from "../bytes";
import { RedisError, errors } from "../errors";
import { type Glob, compileGlob } from "../glob";
import { parseInteger, parseScanCursor } from "../args";


/** FNV-1a of the bytes, folded to 16 bits. */
function check(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return (h ^ (h >>> 16)) & 0xffff;
}

const hex = (bytes: Iterable<number>) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** The cursor that goes on after `field` ("0": from the start, or done). */
export function fieldCursor(field: string | null): string {
  if (field === null) return "0";
  const bytes = toBytes(field);
  const c = check(bytes);
  return BigInt(`0x01${hex(bytes)}${hex([c >> 8, c & 0xff])}`).toString();
}

const ULONG_MAX = 2n ** 64n - 1n;

/**
 * An element scan's cursor as the command parses it, before the key is looked up: as Redis reads
 * one (parseScanCursor), and, past 64 bits, only one of these cursors (which Redis would refuse
 * there and then). @throws ERR invalid cursor
 */
export function parseElementCursor(s: string): bigint {
  const n = parseScanCursor(s, true);
  if (n > ULONG_MAX) cursorField(n);
  return n;
}

/**
 * The field a cursor goes on after (null: from the start): the cursor as `parseScanCursor` read
 * it (when the command is parsed), decoded once the key is found and its type checked, as Redis
 * orders its errors. A cursor that names no field, or fails its check, is refused.
 * @throws ERR invalid cursor
 */
export function cursorField(n: bigint): string | null {
  if (n === 0n) return null;
  const invalid = () => new RedisError("ERR invalid cursor");
  const digits = n.toString(16);
  const text = digits.length % 2 === 0 ? digits : `0${digits}`;
  if (!text.startsWith("01") || text.length < 6) throw invalid();
  const all = new Uint8Array((text.length - 2) / 2);
  for (let i = 0; i < all.length; i++) all[i] = parseInt(text.slice(2 + 2 * i, 4 + 2 * i), 16);
  const bytes = all.subarray(0, all.length - 2);
  if (check(bytes) !== (all[all.length - 2]! << 8) + all[all.length - 1]!) throw invalid();
  return fromBytes(bytes);
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
