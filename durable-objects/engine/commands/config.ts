import { toBytes } from "../bytes";
import { OK, defineCommand } from "../command";
import { errors } from "../errors";

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
  subcommands: { get: -3, help: 2, resetstat: 2, rewrite: 2, set: -4 },
  parse: ([sub, ...rest]) => {
    const op = sub!.toLowerCase();
    if (op === "get") return { op, patterns: rest };
    if (op !== "set") throw errors.unsupported(`config ${op}`);
    if (rest.length % 2 !== 0) throw errors.arity("config|set");
    const pairs: [string, string][] = [];
    for (let i = 0; i < rest.length; i += 2) pairs.push([rest[i]!, rest[i + 1]!]);
    return { op, pairs };
  },
  run: ({ server }, a) => (a.op === "get" ? server.configGet(a.patterns).map(toBytes) : (server.configSet(a.pairs), OK)),
});
