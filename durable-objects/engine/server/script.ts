import { toBytes } from "../bytes";
import { OK, defineCommand } from "../command";
import { RedisError, errors } from "../errors";

const HELP = [
  "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "EXISTS <sha1> [<sha1> ...]",
  "    Return information about the existence of the scripts in the script cache.",
  "FLUSH [ASYNC|SYNC]",
  "    Flush the Lua scripts cache. Very dangerous on replicas.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the scripts cache.",
  "    * SYNC: Synchronously flush the scripts cache.",
  "KILL",
  "    Kill the currently executing Lua script.",
  "LOAD <script>",
  "    Load a script into the scripts cache without executing it.",
  "HELP",
  "    Prints this help.",
];

/**
 * SCRIPT LOAD | EXISTS | FLUSH | KILL | HELP, on this node's script cache (scripting/scripts.ts).
 * KILL always answers NOTBUSY: a script runs to its end or its bound while nothing else runs on the
 * node, so no request can arrive while one is running. SCRIPT DEBUG is refused: Redis's debugger
 * needs a connection the HTTP API does not keep.
 * @see https://redis.io/docs/latest/commands/script-load/
 */
export default defineCommand({
  name: "script",
  arity: -2,
  flags: ["noscript"],
  keys: null,
  subcommands: { load: 3, exists: -3, flush: -2, kill: 2, help: 2, debug: 3 },
  parse: ([sub, ...rest]) => {
    const name = sub!.toLowerCase();
    if (name === "flush" && (rest.length > 1 || (rest.length === 1 && !["sync", "async"].includes(rest[0]!.toLowerCase()))))
      throw new RedisError("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    if (name === "debug") throw errors.unsupported("script debug", "the Lua debugger needs a connection the HTTP API does not keep");
    return { sub: name, rest };
  },
  run: ({ server }, a) => {
    switch (a.sub) {
      case "load":
        return toBytes(server.scripts.load(a.rest[0]!));
      case "exists":
        return server.scripts.exists(a.rest);
      case "flush":
        server.scripts.flush();
        return OK;
      case "kill":
        throw new RedisError("NOTBUSY No scripts in execution right now.");
      default:
        return HELP;
    }
  },
});
