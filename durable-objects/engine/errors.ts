/**
 * The one error type of Flaredis. Its message is Redis's own error text, prefix first
 * (`ERR`, `WRONGTYPE`, `READONLY`, `NOREPLICAS`, `NOQUORUM`, `TRYAGAIN`, `OOM`, `NOPERM`, `EXECABORT`, `WRONGPASS`), so the
 * HTTP layer and (later) the RESP bridge turn it into their format in one place each.
 *
 * @example throw new RedisError("WRONGTYPE Operation against a key holding the wrong kind of value")
 */
export class RedisError extends Error {
  override readonly name = "RedisError";

  /** The Redis error prefix, e.g. `ERR` or `WRONGTYPE`. */
  get prefix(): string {
    const space = this.message.indexOf(" ");
    return space === -1 ? this.message : this.message.slice(0, space);
  }
}

/** Redis's texts for the errors many commands share. */
export const errors = {
  syntax: () => new RedisError("ERR syntax error"),
  /** EXEC of a transaction one of whose commands could not be queued (Redis's exact text). */
  execAbort: () => new RedisError("EXECABORT Transaction discarded because of previous errors."),
  notInteger: () => new RedisError("ERR value is not an integer or out of range"),
  notFloat: () => new RedisError("ERR value is not a valid float"),
  overflow: () => new RedisError("ERR increment or decrement would overflow"),
  wrongType: () => new RedisError("WRONGTYPE Operation against a key holding the wrong kind of value"),
  noSuchKey: () => new RedisError("ERR no such key"),
  arity: (name: string) => new RedisError(`ERR wrong number of arguments for '${name.toLowerCase()}' command`),
  unknownCommand: (name: string, args: readonly string[]) =>
    new RedisError(
      `ERR unknown command '${name}', with args beginning with: ${args
        .slice(0, 8)
        .map((a) => `'${a.length > 128 ? a.slice(0, 128) : a}' `)
        .join("")}`,
    ),
  invalidExpire: (name: string) => new RedisError(`ERR invalid expire time in '${name.toLowerCase()}' command`),
  noPermission: (name: string) =>
    new RedisError(`NOPERM this user has no permissions to run the '${name.toLowerCase()}' command`),
  readOnly: () => new RedisError("READONLY You can't write against a read only replica."),
  loading: () => new RedisError("LOADING Redis is loading the dataset in memory"),
  masterDown: () =>
    new RedisError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."),
  /** A write that may grow the dataset, over maxmemory with nothing to evict (eviction.ts). */
  oom: () => new RedisError("OOM command not allowed when used memory > 'maxmemory'."),
  noReplicas: () => new RedisError("NOREPLICAS Not enough good replicas to write."),
  /** A master that has not heard from a quorum of sentinels (Flaredis's own, in Redis's style). */
  noQuorum: (heard: number, quorum: number) =>
    new RedisError(`NOQUORUM this primary hears ${heard} of the ${quorum} sentinels a write needs; a failover may be under way`),
  /** A master fenced by a failover in progress (Redis's TRYAGAIN prefix). */
  tryAgain: () => new RedisError("TRYAGAIN a failover is in progress; retry shortly"),
  keyTooLarge: (limit: number, actual: number) =>
    new RedisError(`ERR max key size exceeded. Limit: ${limit} bytes, Actual: ${actual} bytes`),
  tooManyCommands: (limit: number, actual: number) =>
    new RedisError(`ERR too many commands in one request. Limit: ${limit}, Actual: ${actual}`),
  tooManyArguments: (limit: number, actual: number) =>
    new RedisError(`ERR too many arguments in one request. Limit: ${limit}, Actual: ${actual}`),
  logTooLarge: (limit: number) =>
    new RedisError(`ERR this request would add more than ${limit} bytes to the replication log; split it`),
  keysReplyTooLarge: (limit: number) => new RedisError(`ERR KEYS reply exceeds ${limit} bytes; use SCAN`),
  valueTooLarge: (limit: number, actual: number) =>
    new RedisError(`ERR max single record size exceeded. Limit: ${limit} bytes, Actual: ${actual} bytes`),
};
