/**
 * The sorted sets' blocking commands (engine/blocking.ts): BZPOPMIN, BZPOPMAX, BZMPOP. Each
 * takes what its non-blocking twin would, and is logged as ZREM.
 */
import { blockOr, parseBlockTimeout } from "../../../blocking";
import { defineCommand, key, numkeys } from "../../../command";
import { scoreReply } from "../score";
import { Zset, bulk } from "../zset";
import { pop, zmpop } from "./zpop";

function popCommand(name: string, max: boolean) {
  return defineCommand({
    name,
    arity: -3,
    flags: ["write", "noscript", "blocking"],
    keys: key(1, -2),
    parse: (args) => ({ keys: args.slice(0, -1), timeoutMs: parseBlockTimeout(args[args.length - 1]!) }),
    run: (ctx, a) => {
      for (const k of a.keys) {
        const zset = Zset.find(ctx.db, k);
        if (zset === null) continue;
        const [row] = pop(zset, 1, max);
        return [bulk(k), bulk(row!.field), scoreReply(row!.score ?? 0)];
      }
      return blockOr(ctx, a.keys, a.timeoutMs);
    },
  });
}

/** BZPOPMIN key [key ...] timeout → [key, member, score] @see https://redis.io/docs/latest/commands/bzpopmin/ */
export const bzpopmin = popCommand("bzpopmin", false);
/** BZPOPMAX key [key ...] timeout → [key, member, score] @see https://redis.io/docs/latest/commands/bzpopmax/ */
export const bzpopmax = popCommand("bzpopmax", true);

/** BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] @see https://redis.io/docs/latest/commands/bzmpop/ */
export const bzmpop = defineCommand({
  name: "bzmpop",
  arity: -5,
  flags: ["write", "blocking"],
  keys: numkeys(2),
  // As Redis: the keys and options first, then the timeout.
  parse: ([timeout, ...rest], name) => {
    const pop = zmpop.parse(rest, name);
    return { pop, timeoutMs: parseBlockTimeout(timeout!) };
  },
  run: (ctx, a) => zmpop.run(ctx, a.pop) ?? blockOr(ctx, a.pop.keys, a.timeoutMs),
});
