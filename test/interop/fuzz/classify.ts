/**
 * A divergence's class, so that one bug seen a hundred times is minimized and reported once:
 * the command (an unknown name as one class), the option words it used, and what each side
 * answered (its kind, or its error text with the arguments it quotes and its numbers elided).
 */
import { specOf } from "./generator.ts";
import { type Command, type Reply, commandName, isError, kindOf } from "./reply.ts";
import type { Mismatch } from "./runner.ts";
import type { StateDifference } from "./state.ts";

const OPTION_WORDS = new Set([
  "NX", "XX", "GT", "LT", "CH", "INCR", "GET", "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "PERSIST", "WITHSCORES", "WITHSCORE", "WITHVALUES",
  "BYSCORE", "BYLEX", "REV", "LIMIT", "WEIGHTS", "AGGREGATE", "COUNT", "RANK", "MAXLEN", "MATCH", "TYPE", "REPLACE", "DB", "BEFORE", "AFTER",
  "NOMKSTREAM", "MINID", "=", "NOACK", "MKSTREAM", "ENTRIESREAD", "ENTRIESADDED", "MAXDELETEDID", "IDLE", "TIME", "RETRYCOUNT", "FORCE", "JUSTID", "LASTID",
]);
/** Commands whose subcommand is part of the class (OBJECT's other subcommands are one class). */
const SUBCOMMANDS: Record<string, readonly string[]> = {
  OBJECT: ["ENCODING"],
  XGROUP: ["CREATE", "SETID", "CREATECONSUMER", "DELCONSUMER", "DESTROY"],
  XINFO: ["STREAM", "GROUPS", "CONSUMERS"],
};

/** The error text with what varies from case to case elided: quoted arguments, numbers. */
export function errorClass(text: string): string {
  return text.replace(/'[^']*'/g, "'…'").replace(/(?<![\w-])-?\d+/g, "N");
}

function side(r: Reply): string {
  return isError(r) ? `error "${errorClass(r.error)}"` : kindOf(r);
}

/** The command's name; with its option words unless `bare` (two errors: their texts tell the class). */
function commandClass(command: Command, bare: boolean): string {
  const name = commandName(command);
  if (name === "EXEC" || name === "(PIPELINE)") return name;
  if (!specOf(command)) return "<unknown command>";
  const known = SUBCOMMANDS[name];
  const word = String(command[1]).toUpperCase();
  const sub = !known ? "" : known.includes(word) ? ` ${word}` : " <other subcommand>";
  const words = [...new Set(command.slice(1).flatMap((a) => (typeof a === "string" && OPTION_WORDS.has(a.toUpperCase()) ? [a.toUpperCase()] : [])))].sort();
  return `${name}${sub}${words.length > 0 && !bare ? ` [${words.join(" ")}]` : ""}`;
}

export function mismatchSignature(m: Mismatch): string {
  return `${commandClass(m.command, isError(m.redis) && isError(m.flaredis))}: redis ${side(m.redis)}, flaredis ${side(m.flaredis)}`;
}

export function stateSignature(s: StateDifference): string {
  return s.what === "keys" ? "final state: the keys differ" : `final state: the ${s.what} of a ${s.type || "key"} differs`;
}
