import { isInt64 } from "../args";
import { fromBytes } from "../bytes";
import { defineCommand } from "../command";
import { errors } from "../errors";
import type { Change } from "../keyspace";
import type { Entry } from "../storage";
import { typeNamed } from "../types";

/**
 * Redis's string encodings: a string changed in place (APPEND, SETRANGE) is `raw`; else a 64-bit
 * integer as string2ll reads it is `int` (unless written as text: INCRBYFLOAT's), up to 44 bytes
 * `embstr`, longer `raw`.
 */
function stringEncoding(e: Entry): string {
  if (e.encoding === "raw") return "raw";
  if (e.encoding !== "text" && e.value.length <= 20 && isInt64(fromBytes(e.value))) return "int";
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
 * OBJECT ENCODING key | REFCOUNT key | HELP; an unknown subcommand or a wrong count is refused
 * as Redis refuses it, before the command runs (Command.subcommands). IDLETIME and FREQ are
 * refused rather than answered with made-up numbers: the access tracking eviction keeps counts
 * accesses, not time, and only for the keys it samples.
 * @see https://redis.io/docs/latest/commands/object-encoding/
 */
export default defineCommand({
  name: "object",
  arity: -2,
  flags: ["readonly"],
  keys: { first: 2, last: 2, step: 1 },
  subcommands: { encoding: 3, freq: 3, help: 2, idletime: 3, refcount: 3 },
  parse: ([sub, ...rest]) => ({ sub: sub!.toLowerCase(), rest }),
  run: ({ db }, a) => {
    if (a.sub === "help") return HELP;
    if (a.sub !== "encoding" && a.sub !== "refcount") throw errors.unsupported(`object ${a.sub}`);
    const e = db.get(a.rest[0]!);
    if (e === null) return null;
    return a.sub === "encoding" ? encodingOf(e, db) : 1;
  },
});
