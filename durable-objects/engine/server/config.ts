import { toBytes } from "../bytes";
import { OK, defineCommand } from "../command";
import { RedisError, errors } from "../errors";

type ConfigArgs =
  | { readonly op: "get"; readonly patterns: readonly string[] }
  | { readonly op: "set"; readonly pairs: readonly (readonly [string, string])[] }
  | { readonly op: "resetstat" | "rewrite" | "help" };

/** CONFIG HELP's lines, as redis-server 7.0 prints them. */
const HELP = [
  "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
  "HELP",
  "    Prints this help.",
];

/**
 * CONFIG GET pattern [pattern ...] | CONFIG SET parameter value [parameter value ...] for every
 * parameter of redis-server 7.0 (engine/config.ts), CONFIG RESETSTAT, CONFIG REWRITE (no config
 * file: Redis's error), CONFIG HELP (admin token only). @see https://redis.io/docs/latest/commands/config-set/
 */
export default defineCommand<ConfigArgs>({
  name: "config",
  arity: -2,
  flags: ["admin", "noscript"],
  keys: null,
  subcommands: { get: -3, help: 2, resetstat: 2, rewrite: 2, set: -4 },
  parse: ([sub, ...rest]) => {
    const op = sub!.toLowerCase();
    if (op === "get") return { op, patterns: rest };
    if (op === "resetstat" || op === "rewrite" || op === "help") return { op };
    if (op !== "set") throw errors.unsupported(`config ${op}`);
    if (rest.length % 2 !== 0) throw errors.syntax();
    const pairs: [string, string][] = [];
    for (let i = 0; i < rest.length; i += 2) pairs.push([rest[i]!, rest[i + 1]!]);
    return { op, pairs };
  },
  run: ({ server }, a) => {
    if (a.op === "get") return server.configGet(a.patterns).map(toBytes);
    if (a.op === "set") server.configSet(a.pairs);
    else if (a.op === "resetstat") server.resetStats();
    else if (a.op === "rewrite") throw new RedisError("ERR The server is running without a config file");
    else return HELP.map(toBytes);
    return OK;
  },
});
