/**
 * The lists' blocking commands (engine/blocking.ts): BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
 * Each takes what its non-blocking twin would, and is logged as that twin's effects.
 */
import { toBytes } from "../../../bytes";
import { blockOr, parseBlockTimeout } from "../../../blocking";
import { defineCommand, key, numkeys } from "../../../command";
import { parseEnd } from "../args";
import { type End, List } from "../list";
import { move } from "./lmove";
import lmpop from "./lmpop";

function popCommand(name: string, end: End) {
  return defineCommand({
    name,
    arity: -3,
    flags: ["write", "noscript", "blocking"],
    keys: key(1, -2),
    parse: (args) => ({ keys: args.slice(0, -1), timeoutMs: parseBlockTimeout(args[args.length - 1]!) }),
    run: (ctx, a) => {
      for (const k of a.keys) {
        const list = List.find(ctx.db, k);
        if (list !== null) return [toBytes(k), list.pop(end, 1)[0]!];
      }
      return blockOr(ctx, a.keys, a.timeoutMs);
    },
  });
}

/** BLPOP key [key ...] timeout → [key, element] from the first non-empty list. @see https://redis.io/docs/latest/commands/blpop/ */
export const blpop = popCommand("blpop", "left");
/** BRPOP key [key ...] timeout → [key, element] from the tail of the first non-empty list. @see https://redis.io/docs/latest/commands/brpop/ */
export const brpop = popCommand("brpop", "right");

/** BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout @see https://redis.io/docs/latest/commands/blmove/ */
export const blmove = defineCommand({
  name: "blmove",
  arity: 6,
  flags: ["write", "denyoom", "noscript", "blocking"],
  keys: key(1, 2),
  parse: ([source, destination, from, to, timeout]) => ({
    source: source!,
    destination: destination!,
    from: parseEnd(from!),
    to: parseEnd(to!),
    timeoutMs: parseBlockTimeout(timeout!),
  }),
  run: (ctx, a) => move(ctx.db, a.source, a.destination, a.from, a.to) ?? blockOr(ctx, [a.source], a.timeoutMs),
});

/** BRPOPLPUSH source destination timeout (BLMOVE … RIGHT LEFT) @see https://redis.io/docs/latest/commands/brpoplpush/ */
export const brpoplpush = defineCommand({
  name: "brpoplpush",
  arity: 4,
  flags: ["write", "denyoom", "noscript", "blocking"],
  keys: key(1, 2),
  parse: ([source, destination, timeout]) => ({ source: source!, destination: destination!, timeoutMs: parseBlockTimeout(timeout!) }),
  run: (ctx, a) => move(ctx.db, a.source, a.destination, "right", "left") ?? blockOr(ctx, [a.source], a.timeoutMs),
});

/** BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] @see https://redis.io/docs/latest/commands/blmpop/ */
export const blmpop = defineCommand({
  name: "blmpop",
  arity: -5,
  flags: ["write", "blocking"],
  keys: numkeys(2),
  // As Redis: the keys and options first, then the timeout.
  parse: ([timeout, ...rest], name) => {
    const pop = lmpop.parse(rest, name);
    return { pop, timeoutMs: parseBlockTimeout(timeout!) };
  },
  run: (ctx, a) => lmpop.run(ctx, a.pop) ?? blockOr(ctx, a.pop.keys, a.timeoutMs),
});
