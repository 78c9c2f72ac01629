import { toBytes } from "../bytes";
import { OK, defineCommand } from "../command";
import { RedisError, errors } from "../errors";

type ConfigArgs = { readonly op: "get"; readonly patterns: readonly string[] } | { readonly op: "set"; readonly pairs: readonly (readonly [string, string])[] };

/**
 * CONFIG GET pattern [pattern ...] | CONFIG SET parameter value [parameter value ...], for the
 * parameters of engine/config.ts (admin token only). @see https://redis.io/docs/latest/commands/config-set/
 */
export default defineCommand<ConfigArgs>({
  name: "config",
  arity: -2,
  flags: ["admin"],
  keys: null,
  parse: ([sub, ...rest]) => {
    const op = sub!.toLowerCase();
    if (op === "get" && rest.length > 0) return { op, patterns: rest };
    if (op === "set" && rest.length > 0 && rest.length % 2 === 0) {
      const pairs: [string, string][] = [];
      for (let i = 0; i < rest.length; i += 2) pairs.push([rest[i]!, rest[i + 1]!]);
      return { op, pairs };
    }
    if (op === "get" || op === "set") throw errors.arity(`config|${op}`);
    throw new RedisError(`ERR unknown subcommand '${sub}'. Try CONFIG HELP.`);
  },
  run: ({ server }, a) => (a.op === "get" ? server.configGet(a.patterns).map(toBytes) : (server.configSet(a.pairs), OK)),
});
