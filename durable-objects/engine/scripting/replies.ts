/**
 * Values between Redis and Lua, by Redis 7's rules for RESP2 (script_lua.c): a command's reply as
 * a script sees it (`toLua`), a script's result as the reply (`fromLua`), and Redis's error tables.
 */
import { fromBytes, toBytes } from "../bytes";
import type { Reply } from "../command";
import { RedisError } from "../errors";
import type { LuaTable, LuaValue, ToLua } from "./lua-values";

/**
 * A command's reply as `redis.call` returns it: nil as false, an integer as a number, a status as
 * `{ok=...}`, a bulk string as a string, an array as a table.
 */
export function toLua(reply: Reply): ToLua {
  if (reply === null) return false;
  if (typeof reply === "number") return reply;
  if (typeof reply === "bigint") return Number(reply);
  if (typeof reply === "string") return { ok: reply };
  if (reply instanceof Uint8Array) return reply;
  if (Array.isArray(reply)) return reply.map(toLua);
  throw new Error("a reply a script cannot see"); // WAIT's: WAIT is `noscript`
}

/**
 * Redis's error table for an error text (luaPushErrorBuff): "-CODE message" keeps its code, a
 * text without the dash gets ERR, and the ends lose their line breaks.
 */
export function errorTable(text: string): { err: string } {
  let code = "ERR";
  let message = text;
  if (text.startsWith("-")) {
    const space = text.indexOf(" ");
    if (space === -1) message = text.slice(1);
    else [code, message] = [text.slice(1, space), text.slice(space + 1)];
  }
  return { err: `${code} ${message.replace(/^[\r\n]+|[\r\n]+$/g, "")}` };
}

/** The smallest 64-bit integer: what C's cast of a double gives on x86 when the double is out of range or NaN. */
const LLONG_MIN = -(2n ** 63n);

/** A Lua number as Redis replies it: `(long long)` of the double, truncated toward zero. */
export function integerOf(n: number): number | bigint {
  if (!Number.isFinite(n) || Math.abs(n) >= 2 ** 63) return LLONG_MIN;
  const t = Math.trunc(n);
  return Number.isSafeInteger(t) ? t + 0 : BigInt(t);
}

/**
 * A script's result as Redis replies it over RESP2. A table is, by its first field that is set with
 * the right type: an error (`err`), a status (`ok`), a double (`double`, as "%.17g"), a big number,
 * a verbatim string, a map (flattened), a set, else the array up to its first nil. The HTTP API has
 * no error inside an array: one there is given as its text (docs/scripting.md).
 * @throws RedisError for a top-level error table
 */
export function fromLua(v: LuaValue, formatNumber: (n: number) => string, top = true): Reply {
  if (v === null) return null;
  if (typeof v === "boolean") return v ? 1 : null;
  if (typeof v === "number") return integerOf(v);
  if (v instanceof Uint8Array) return v;
  const t: LuaTable = v;
  if (t.err instanceof Uint8Array) {
    if (top) throw new RedisError(fromBytes(t.err));
    return fromBytes(t.err).replace(/[\r\n]/g, " ");
  }
  if (t.ok instanceof Uint8Array) return fromBytes(t.ok).replace(/[\r\n]/g, " ");
  if (typeof t.double === "number") return toBytes(doubleText(t.double, formatNumber));
  if (t.big_number instanceof Uint8Array) return t.big_number.map((b) => (b === 13 || b === 10 ? 32 : b));
  const verbatim = t.verbatim_string;
  if (verbatim !== undefined && verbatim !== null && typeof verbatim === "object" && !(verbatim instanceof Uint8Array)) {
    if (verbatim.format instanceof Uint8Array && verbatim.string instanceof Uint8Array) return verbatim.string;
  }
  if (t.map) return t.map.flatMap(([k, x]) => [fromLua(k, formatNumber, false), fromLua(x, formatNumber, false)]);
  if (t.set) return t.set.map((k) => fromLua(k, formatNumber, false));
  return t.array.map((x) => fromLua(x, formatNumber, false));
}

/** A double as RESP2 replies one (addReplyDouble). */
function doubleText(n: number, formatNumber: (n: number) => string): string {
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  return formatNumber(n);
}
