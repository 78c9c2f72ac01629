import { fromBytes } from "../bytes";
import { defineCommand } from "../command";
import { RedisError } from "../errors";
import type { Change } from "../keyspace";
import type { Entry } from "../storage";
import { typeNamed } from "../types";

/**
 * Redis's string encodings: a string changed in place (APPEND, SETRANGE) is `raw`; else a 64-bit
 * integer is `int`, up to 44 bytes `embstr`, longer `raw`.
 */
function stringEncoding(e: Entry): string {
  if (e.raw) return "raw";
  const text = e.value.length <= 20 ? fromBytes(e.value) : "";
  if (/^-?(0|[1-9][0-9]*)$/.test(text)) {
    const n = BigInt(text);
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return "int";
  }
  return e.value.length <= 44 ? "embstr" : "raw";
}

/** The encoding OBJECT ENCODING names for `e`. */
export function encodingOf(e: Entry, db: Change): string {
  return e.type === "string" ? stringEncoding(e) : typeNamed(e.type).encoding(e, db);
}

const HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Print this help.",
];

/**
 * OBJECT ENCODING key | REFCOUNT key | HELP. (IDLETIME and FREQ wait for eviction's access
 * tracking: they are refused rather than answered with made-up numbers.)
 * @see https://redis.io/docs/latest/commands/object-encoding/
 */
export default defineCommand({
  name: "object",
  arity: -2,
  flags: ["readonly"],
  keys: { first: 2, last: 2, step: 1 },
  parse: ([sub, ...rest]) => ({ sub: sub!.toUpperCase(), original: sub!, rest }),
  run: ({ db }, a) => {
    if (a.sub === "HELP" && a.rest.length === 0) return HELP;
    if ((a.sub === "ENCODING" || a.sub === "REFCOUNT") && a.rest.length === 1) {
      const e = db.get(a.rest[0]!);
      if (e === null) return null;
      return a.sub === "ENCODING" ? encodingOf(e, db) : 1;
    }
    throw new RedisError(`ERR unknown subcommand or wrong number of arguments for '${a.original}'. Try OBJECT HELP.`);
  },
});
