import { toBytes } from "../bytes";
import { type Flag, OK, defineCommand } from "../command";
import { RedisError } from "../errors";
import type { RestorePolicy } from "../scripting/functions";

const HELP = [
  "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "LOAD [REPLACE] <FUNCTION CODE>",
  "    Create a new library with the given library name and code.",
  "DELETE <LIBRARY NAME>",
  "    Delete the given library.",
  "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
  "    Return general information on all the libraries:",
  "    * Library name",
  "    * The engine used to run the Library",
  "    * Library description",
  "    * Functions list",
  "    * Library code (if WITHCODE is given)",
  "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
  "STATS",
  "    Return information about the current function running:",
  "    * Function name",
  "    * Command used to run the function",
  "    * Duration in MS that the function is running",
  "    If no function is running, return nil",
  "    In addition, returns a list of available engines.",
  "KILL",
  "    Kill the current running function.",
  "FLUSH [ASYNC|SYNC]",
  "    Delete all the libraries.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the libraries.",
  "    * SYNC: Synchronously flush the libraries.",
  "DUMP",
  "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
  "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
  "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
  "    control how to handle existing libraries (default APPEND):",
  "    * FLUSH: delete all existing libraries.",
  "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
  "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
  "      libraries with the new libraries (notice that even on this option there is a chance of failure",
  "      in case of functions name collision with another library).",
  "HELP",
  "    Prints this help.",
];

// LOAD and RESTORE may grow the dataset (Redis's denyoom); DELETE and FLUSH only write. The others
// read the libraries, which every node holds: a replica serves them.
const GROWS: readonly Flag[] = ["write", "denyoom", "noscript"];
const WRITES: readonly Flag[] = ["write", "noscript"];
const READS: readonly Flag[] = ["readonly", "noscript"];
const FLAGS: Readonly<Record<string, readonly Flag[]>> = { load: GROWS, restore: GROWS, delete: WRITES, flush: WRITES };

type FunctionArgs =
  | { readonly sub: "load"; readonly code: string; readonly replace: boolean }
  | { readonly sub: "delete"; readonly name: string }
  | { readonly sub: "flush" | "stats" | "dump" | "kill" | "help" }
  | { readonly sub: "list"; readonly pattern: string | null; readonly withCode: boolean }
  | { readonly sub: "restore"; readonly payload: string; readonly policy: RestorePolicy };

const syntax = (sub: string) => new RedisError(`ERR unknown subcommand or wrong number of arguments for '${sub}'. Try FUNCTION HELP.`);

/**
 * FUNCTION LOAD | DELETE | FLUSH | LIST | STATS | DUMP | RESTORE | KILL | HELP: Redis 7's function
 * libraries, kept in storage and replicated (scripting/functions.ts). KILL always answers NOTBUSY:
 * nothing else runs on a node while a function does. DUMP's payload is Redis's, which redis-server
 * restores; RESTORE reads Redis's, whose bytes are not UTF-8: the HTTP API carries them once
 * arguments may be bytes (issue #33).
 * @see https://redis.io/docs/latest/commands/function-load/
 */
export default defineCommand<FunctionArgs>({
  name: "function",
  arity: -2,
  flags: READS,
  flagsFor: (argv) => FLAGS[(argv[1] ?? "").toLowerCase()] ?? READS,
  keys: null,
  subcommands: { load: -3, delete: 3, flush: -2, list: -2, stats: 2, dump: 2, restore: -3, kill: 2, help: 2 },
  parse: ([written, ...rest]) => {
    const sub = written!.toLowerCase();
    switch (sub) {
      case "load": {
        let replace = false;
        for (const option of rest.slice(0, -1)) {
          if (option.toLowerCase() !== "replace") throw new RedisError(`ERR Unknown option given: ${option}`);
          replace = true;
        }
        return { sub, code: rest[rest.length - 1]!, replace };
      }
      case "delete":
        return { sub, name: rest[0]! };
      case "flush":
        if (rest.length > 1) throw syntax(written!);
        if (rest.length === 1 && !["sync", "async"].includes(rest[0]!.toLowerCase())) throw new RedisError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return { sub };
      case "list": {
        let pattern: string | null = null;
        let withCode = false;
        for (let i = 0; i < rest.length; i++) {
          const word = rest[i]!.toLowerCase();
          if (!withCode && word === "withcode") withCode = true;
          else if (pattern === null && word === "libraryname") {
            if (i === rest.length - 1) throw new RedisError("ERR library name argument was not given");
            pattern = rest[++i]!;
          } else throw new RedisError(`ERR Unknown argument ${rest[i]}`);
        }
        return { sub, pattern, withCode };
      }
      case "restore": {
        if (rest.length > 2) throw syntax(written!);
        const policy = (rest[1] ?? "append").toLowerCase();
        if (policy !== "append" && policy !== "replace" && policy !== "flush")
          throw new RedisError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
        return { sub, payload: rest[0]!, policy };
      }
      default:
        return { sub: sub as "stats" | "dump" | "kill" | "help" };
    }
  },
  run: (ctx, a) => {
    const { functions } = ctx.server;
    switch (a.sub) {
      case "load":
        return functions.load(ctx, a.code, a.replace);
      case "delete":
        functions.delete(ctx, a.name);
        return OK;
      case "flush":
        functions.flush(ctx);
        return OK;
      case "list":
        return functions.list(a.pattern, a.withCode);
      case "stats":
        return functions.stats();
      case "dump":
        return functions.dump();
      case "restore":
        functions.restore(ctx, toBytes(a.payload), a.policy);
        return OK;
      case "kill":
        throw new RedisError("NOTBUSY No scripts in execution right now.");
      default:
        return HELP.map(toBytes);
    }
  },
});
