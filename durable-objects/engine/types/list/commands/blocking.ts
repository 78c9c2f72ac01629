/**
 * The lists' blocking commands (engine/blocking.ts): BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
 * Each takes what its non-blocking twin would, and is logged as that twin's effects.
 */
import { toBytes } from "../../../bytes";
import { blockOr, blockingMpop, blockingPop, parseBlockTimeout } from "../../../blocking";
import { defineCommand, key } from "../../../command";
import { parseEnd } from "../args";
import { type End, List } from "../list";
import { move } from "./lmove";
import lmpop from "./lmpop";

const popCommand = (name: string, end: End) =>
  blockingPop(name, (db, k) => {
    const list = List.find(db, k);
    return list === null ? null : [toBytes(k), list.pop(end, 1)[0]!];
  });

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
export const blmpop = blockingMpop("blmpop", lmpop);
