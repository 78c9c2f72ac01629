import { parseInteger } from "../args";
import { toBytes } from "../bytes";
import { type Command, type Flag, defineCommand, numkeys } from "../command";
import { RedisError } from "../errors";
import { keysAndArgs } from "../scripting/runner";
import { shebang } from "../scripting/scripts";

// A script may touch keys it does not declare (anykeys): read-your-writes counts it as touching any.
const READ: readonly Flag[] = ["readonly", "noscript", "anykeys"];
const WRITE: readonly Flag[] = ["maywrite", "evicts", "noscript", "anykeys"];

/** A script whose shebang is valid and declares `no-writes`. */
function declaresNoWrites(script: string): boolean {
  if (!script.startsWith("#!")) return false;
  try {
    return shebang(toBytes(script.slice(0, script.indexOf("\n") + 1))).flags.noWrites;
  } catch {
    return false;
  }
}

/**
 * EVAL script numkeys [key ...] [arg ...], and EVALSHA, EVAL_RO, EVALSHA_RO: runs a Lua script
 * atomically (scripting/scripts.ts). EVAL and EVALSHA run on the primary, refused nothing before
 * they run (Redis's may-replicate): each write a script makes is checked as it is made; the _RO forms, which
 * refuse writes, and an EVAL whose script declares `no-writes`, where reads run (the nearest replica). An EVALSHA whose SHA-1 is not 40
 * characters is NOSCRIPT before its other arguments are read, as in Redis.
 * @see https://redis.io/docs/latest/commands/eval/
 */
function evalFamily(name: string, bySha: boolean, readOnly: boolean): Command {
  return defineCommand({
    name,
    arity: -3,
    flags: readOnly ? READ : WRITE,
    // EVAL of a script that declares `no-writes` is a read, which a replica serves (Redis's
    // evalGetCommandFlags); an EVALSHA's script is not known before a node looks it up.
    ...(bySha || readOnly ? {} : { flagsFor: (argv: readonly string[]) => (declaresNoWrites(argv[1] ?? "") ? READ : WRITE) }),
    keys: numkeys(2),
    parse: ([script, count, ...rest]) => {
      if (bySha && script!.length !== 40) throw new RedisError("NOSCRIPT No matching script. Please use EVAL.");
      return { script: script!, ...keysAndArgs(parseInteger(count!), rest) };
    },
    run: (ctx, a) => ctx.server.scripts.eval(ctx, { ...a, bySha, readOnly }),
  });
}

export const evalCommand = evalFamily("eval", false, false);
export const evalsha = evalFamily("evalsha", true, false);
export const evalRo = evalFamily("eval_ro", false, true);
export const evalshaRo = evalFamily("evalsha_ro", true, true);
