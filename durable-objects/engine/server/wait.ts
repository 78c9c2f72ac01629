import { parseInteger } from "../args";
import { WaitForReplicas, defineCommand } from "../command";
import { RedisError } from "../errors";

/**
 * WAIT numreplicas timeout: how many replicas acknowledged this connection's writes (here: every
 * write so far), waiting up to `timeout` ms (0: until they have) for `numreplicas` of them.
 * @see https://redis.io/docs/latest/commands/wait/
 */
export default defineCommand({
  name: "wait",
  arity: 3,
  flags: ["primary", "noscript"],
  keys: null,
  parse: ([n, t]) => {
    const numreplicas = parseInteger(n!);
    const timeout = parseInteger(t!);
    if (timeout < 0) throw new RedisError("ERR timeout is negative");
    return { numreplicas, timeout };
  },
  run: ({ db }, a) => {
    if (db.role !== "master")
      throw new RedisError(
        "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
      );
    return new WaitForReplicas(a.numreplicas, a.timeout);
  },
});
