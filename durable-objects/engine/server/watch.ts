import { OK, defineCommand, key } from "../command";
import { RedisError } from "../errors";

/**
 * WATCH key [key ...]: answers OK at the primary, whose response's sync token is the position the
 * keys are watched from. The watch itself is the client's, not a session's (the API keeps none):
 * `POST /multi-exec` with a leading `["WATCH", key ...]` and that token in
 * `Flaredis-Watch-Position` runs the transaction only if no watched key was written since
 * (Engine.run; `flaredis proxy` does this for a connection's WATCH, MULTI and EXEC). Inside a
 * transaction it is Redis's error, and the transaction goes on.
 * @see https://redis.io/docs/latest/commands/watch/
 */
export const watch = defineCommand({
  name: "watch",
  arity: -2,
  flags: ["readonly", "primary", "noscript"],
  keys: key(1, -1),
  parse: (keys) => keys,
  run: (ctx, keys) => {
    if (ctx.inMulti) throw new RedisError("ERR WATCH inside MULTI is not allowed");
    // A key already past its deadline is deleted now (logged before the position WATCH answers),
    // so that one expiring after WATCH is told from one that had (Redis's isWatchedKeyExpired).
    for (const k of keys) ctx.db.getUntouched(k);
    return OK;
  },
});

/** UNWATCH: OK (a watch lives with the client's transaction: see WATCH). @see https://redis.io/docs/latest/commands/unwatch/ */
export const unwatch = defineCommand({
  name: "unwatch",
  arity: 1,
  flags: ["readonly", "noscript"],
  keys: null,
  parse: () => null,
  run: () => OK,
});
