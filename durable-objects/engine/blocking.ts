/**
 * Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP): each
 * first does what its non-blocking twin does (no script may call the older six, noscript in
 * Redis 7; BLMPOP and BZMPOP it may). With nothing to take it answers nil at once where Redis does
 * (in a MULTI, a script: `Context.mayBlock` unset), and otherwise BlockOn: the
 * primary then holds the request (node/blocked.ts) and runs the command again each time one of
 * its keys is written, first come first served, until it takes something or the timeout passes
 * (at most MAX_BLOCK_MS: a longer or endless timeout answers nil then, and the client asks again).
 */
import { BlockOn, type Command, type Context, type Reply, defineCommand, key, numkeys } from "./command";
import type { Change } from "./keyspace";
import { RedisError } from "./errors";
import { parseLongDouble } from "./long-double";

/** The longest a blocking command waits on the primary, in ms: well within a request's life. */
export const MAX_BLOCK_MS = 25_000;

const MAX_MS = 2n ** 63n - 1n;

/**
 * A timeout in seconds as Redis 7.0 reads one (a long double; milliseconds rounded up), in ms;
 * 0 is none. An infinity, or past 2^63 - 1 ms, overflows Redis's cast to a negative.
 * @throws ERR timeout is not a float or out of range, ERR timeout is negative
 */
export function parseBlockTimeout(s: string): number {
  const v = parseLongDouble(s);
  if (v === null) throw new RedisError("ERR timeout is not a float or out of range");
  const negative = new RedisError("ERR timeout is negative");
  if (v.kind === "inf" || v.m === 0n) {
    if (v.kind === "inf") throw negative;
    return 0;
  }
  // |v| x 1000 = m x 1000 x 2^e, rounded up (towards +inf: a negative one rounds towards 0).
  const scaled = v.m * 1000n;
  const whole = v.e >= 0 ? scaled << BigInt(v.e) : scaled >> BigInt(-v.e);
  const exact = v.e >= 0 || (whole << BigInt(-v.e)) === scaled;
  if (v.negative) {
    if (whole > 0n) throw negative;
    return 0;
  }
  const ms = exact ? whole : whole + 1n;
  if (ms > MAX_MS) throw negative;
  return Number(ms);
}

/** What a blocking command answers when it found nothing: BlockOn where it may wait, else nil. */
export function blockOr(ctx: Context, keys: readonly string[], timeoutMs: number): Reply {
  return ctx.mayBlock ? new BlockOn(keys, timeoutMs) : null;
}

/**
 * BLPOP, BRPOP, BZPOPMIN, BZPOPMAX: `key [key ...] timeout`; `take` answers what the first key
 * that holds something gives (null: nothing there; it throws WRONGTYPE as its twin does).
 */
export function blockingPop(name: string, take: (db: Change, key: string) => Reply | null): Command<{ keys: string[]; timeoutMs: number }> {
  return defineCommand({
    name,
    arity: -3,
    flags: ["write", "noscript", "blocking"],
    keys: key(1, -2),
    parse: (args) => ({ keys: args.slice(0, -1), timeoutMs: parseBlockTimeout(args[args.length - 1]!) }),
    run: (ctx, a) => {
      for (const k of a.keys) {
        const taken = take(ctx.db, k);
        if (taken !== null) return taken;
      }
      return blockOr(ctx, a.keys, a.timeoutMs);
    },
  });
}

/** BLMPOP and BZMPOP: `timeout numkeys key [key ...]` and the rest of their twin's (LMPOP's, ZMPOP's) arguments, read first, as Redis reads them. */
export function blockingMpop<A extends { readonly keys: readonly string[] }>(name: string, twin: Command<A>): Command<{ pop: A; timeoutMs: number }> {
  return defineCommand({
    name,
    arity: twin.arity - 1,
    flags: ["write", "blocking"],
    keys: numkeys(2),
    parse: ([timeout, ...rest], as) => {
      const pop = twin.parse(rest, as);
      return { pop, timeoutMs: parseBlockTimeout(timeout!) };
    },
    run: (ctx, a) => twin.run(ctx, a.pop) ?? blockOr(ctx, a.pop.keys, a.timeoutMs),
  });
}
