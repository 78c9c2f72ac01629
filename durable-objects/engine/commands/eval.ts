import { parseInteger } from "../args";
import { type Command, defineCommand, numkeys } from "../command";
import { RedisError } from "../errors";

/** EVAL's arguments after the script: `numkeys` keys, then the script's arguments. */
function parseCall(script: string, count: string, rest: readonly string[]) {
  const n = parseInteger(count);
  if (n > rest.length) throw new RedisError("ERR Number of keys can't be greater than number of args");
  if (n < 0) throw new RedisError("ERR Number of keys can't be negative");
  return { script, keys: rest.slice(0, n), args: rest.slice(n) };
}

/**
 * EVAL script numkeys [key ...] [arg ...], and EVALSHA, EVAL_RO, EVALSHA_RO: runs a Lua script
 * atomically (scripting/scripts.ts). EVAL and EVALSHA run on the primary; the _RO forms, which
 * refuse writes, where reads run (the nearest replica). An EVALSHA whose SHA-1 is not 40
 * characters is NOSCRIPT before its other arguments are read, as in Redis.
 * @see https://redis.io/docs/latest/commands/eval/
 */
function evalFamily(name: string, bySha: boolean, readOnly: boolean): Command {
  return defineCommand({
    name,
    arity: -3,
    flags: readOnly ? ["readonly", "noscript"] : ["write", "evicts", "noscript"],
    keys: numkeys(2),
    parse: ([script, count, ...rest]) => {
      if (bySha && script!.length !== 40) throw new RedisError("NOSCRIPT No matching script. Please use EVAL.");
      return parseCall(script!, count!, rest);
    },
    run: (ctx, a) => ctx.server.scripts.eval(ctx, { ...a, bySha, readOnly }),
  });
}

export const evalCommand = evalFamily("eval", false, false);
export const evalsha = evalFamily("evalsha", true, false);
export const evalRo = evalFamily("eval_ro", false, true);
export const evalshaRo = evalFamily("evalsha_ro", true, true);
