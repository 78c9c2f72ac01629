import { toBytes } from "../bytes";
import { defineCommand } from "../command";
import { RedisError } from "../errors";
import type { Change } from "../keyspace";
import type { Entry } from "../storage";
import { typeNamed } from "../types";

/** The encoding OBJECT ENCODING names for `e`. */
export function encodingOf(e: Entry, db: Change): string {
  return typeNamed(e.type).encoding(e, db);
}

/** Redis's texts when the policy does not track what OBJECT IDLETIME or FREQ asks for. */
const SWITCHING = "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const NO_IDLETIME = `ERR An LFU maxmemory policy is selected, idle time not tracked. ${SWITCHING}`;
const NO_FREQ = `ERR An LFU maxmemory policy is not selected, access frequency not tracked. ${SWITCHING}`;

const HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Prints this help.",
];

/**
 * OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ key, OBJECT HELP; an unknown subcommand or a wrong
 * count is refused as Redis refuses it, before the command runs (Command.subcommands). IDLETIME
 * and FREQ answer from eviction's access tracking (eviction.ts), which counts the reads the
 * replicas served too (their reports): so OBJECT is answered by the primary, as INFO is. The
 * lookup is no access (Redis's LOOKUP_NOTOUCH).
 * @see https://redis.io/docs/latest/commands/object-encoding/
 */
export default defineCommand({
  name: "object",
  arity: -2,
  flags: ["readonly", "primary"],
  keys: { first: 2, last: 2, step: 1 },
  subcommands: { encoding: 3, freq: 3, help: 2, idletime: 3, refcount: 3 },
  parse: ([sub, ...rest]) => ({ sub: sub!.toLowerCase(), rest }),
  run: ({ db, server }, a) => {
    if (a.sub === "help") return HELP;
    const key = a.rest[0]!;
    const e = db.getUntouched(key);
    if (e === null) return null;
    if (a.sub === "encoding") return toBytes(encodingOf(e, db)); // a bulk string, as Redis replies it
    if (a.sub === "refcount") return 1;
    const usage = server.usage(key);
    if (a.sub === "idletime") {
      if (usage.lfu) throw new RedisError(NO_IDLETIME);
      return Math.floor(usage.idleMs / 1000);
    }
    if (!usage.lfu) throw new RedisError(NO_FREQ);
    return usage.frequency;
  },
});
