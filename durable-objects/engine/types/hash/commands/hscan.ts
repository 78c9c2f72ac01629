import { parseInteger } from "../../../args";
import { toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import type { Reply } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { type Glob, compileGlob } from "../../../glob";
import { Hash, bulk } from "../hash";

interface Args {
  readonly key: string;
  /** The last field returned, or null from the start. */
  readonly after: string | null;
  readonly match: Glob | null;
  readonly count: number;
  readonly noValues: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A cursor names the last field returned: its UTF-8 bytes, after a 0x01 byte, read as one
 * decimal integer (Redis's cursors are integers; clients pass them back as they got them). So a
 * field present for the whole iteration is returned exactly once, whatever changes meanwhile.
 */
export function fieldCursor(field: string | null): string {
  if (field === null) return "0";
  return BigInt(`0x01${[...toBytes(field)].map((b) => b.toString(16).padStart(2, "0")).join("")}`).toString();
}

/** The field a cursor names (null for "0"). @throws ERR invalid cursor */
export function parseCursor(cursor: string): string | null {
  if (cursor === "0") return null;
  if (!/^[1-9][0-9]*$/.test(cursor)) throw new RedisError("ERR invalid cursor");
  const digits = BigInt(cursor).toString(16);
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

/** HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES] @see https://redis.io/docs/latest/commands/hscan/ */
export default defineCommand<Args>({
  name: "hscan",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, cursor, ...rest]) => {
    let match: Glob | null = null;
    let count = 10;
    let noValues = false;
    for (let i = 0; i < rest.length; i++) {
      const option = rest[i]!.toUpperCase();
      if (option === "NOVALUES") {
        noValues = true;
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
    return { key: k!, after: parseCursor(cursor!), match, count: Math.min(count, 10_000), noValues };
  },
  run: ({ db }, a) => {
    const hash = Hash.find(db, a.key);
    if (hash === null) return [toBytes("0"), []];
    const { rows, next } = hash.page(a.after, a.count);
    const out: Reply[] = [];
    for (const el of rows) {
      if (a.match !== null && !a.match.test(el.field)) continue;
      out.push(bulk(el.field));
      if (!a.noValues) out.push(el.value);
    }
    const last = rows.length > 0 ? rows[rows.length - 1]!.field : next;
    return [toBytes(next === null ? "0" : fieldCursor(last)), out];
  },
});
