import { type Command, type Flag, defineCommand, numkeys } from "../command";

// A function may touch keys it does not declare (anykeys): read-your-writes counts it as touching any.
const READ: readonly Flag[] = ["readonly", "noscript", "anykeys"];
const WRITE: readonly Flag[] = ["maywrite", "evicts", "noscript", "anykeys"];

/**
 * FCALL function numkeys [key ...] [arg ...] and FCALL_RO: calls a function of a FUNCTION LOAD'ed
 * library (scripting/functions.ts) with its keys and arguments as its two tables, atomically.
 * FCALL runs on the primary, each write it makes checked as it is made; FCALL_RO, which refuses
 * writes, where reads run (the nearest replica). The function is looked up before numkeys is read,
 * as in Redis.
 * @see https://redis.io/docs/latest/commands/fcall/
 */
function fcallFamily(name: string, readOnly: boolean): Command<{ name: string; count: string; rest: readonly string[] }> {
  return defineCommand({
    name,
    arity: -3,
    flags: readOnly ? READ : WRITE,
    keys: numkeys(2),
    parse: ([fn, count, ...rest]) => ({ name: fn!, count: count!, rest }),
    run: (ctx, a) => ctx.server.functions.fcall(ctx, a.name, a.count, a.rest, readOnly),
  });
}

export const fcall = fcallFamily("fcall", false);
export const fcallRo = fcallFamily("fcall_ro", true);
