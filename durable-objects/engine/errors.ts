/**
 * The one error type of Flaredis. Its message is Redis's own error text, prefix first
 * (`ERR`, `WRONGTYPE`, `READONLY`, `NOREPLICAS`, `NOQUORUM`, `TRYAGAIN`, `OOM`, `NOPERM`, `EXECABORT`, `WRONGPASS`), so the
 * HTTP layer and (later) the RESP bridge turn it into their format in one place each.
 *
 * @example throw new RedisError("WRONGTYPE Operation against a key holding the wrong kind of value")
 */
export class RedisError extends Error {
  override readonly name = "RedisError";

  /** Newlines at the ends dropped and inside made spaces, as Redis does to every error it formats (one protocol line). */
  constructor(message: string) {
    super(/[\r\n]/.test(message) ? message.replace(/^[\r\n]+|[\r\n]+$/g, "").replace(/[\r\n]/g, " ") : message);
  }

  /**
   * The command's writes made before the error stay (the one case: PFADD stopped by a corrupted
   * HLL keeps the registers it set, as Redis keeps them). Every other error leaves nothing.
   */
  keepsWrites = false;

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
  /** Redis's text: the name and the arguments quoted while the list is under 128 bytes, each cut to what is left of them. */
  unknownCommand: (name: string, args: readonly string[]) => {
    let list = "";
    let bytes = 0;
    for (let i = 0; i < args.length && bytes < 128; i++) {
      const [text, length] = cString(args[i]!, 128 - bytes);
      list += `'${text}' `;
      bytes += length + 3;
    }
    return new RedisError(`ERR unknown command '${cString(name, 128)[0]}', with args beginning with: ${list}`);
  },
  /** A container command (OBJECT, CONFIG, MEMORY) with a subcommand it does not have. */
  unknownSubcommand: (name: string, sub: string) => new RedisError(`ERR unknown subcommand '${cString(sub, 128)[0]}'. Try ${name.toUpperCase()} HELP.`),
  /** A subcommand Redis has and Flaredis does not serve (README, Limits). */
  unsupported: (what: string, why?: string) => new RedisError(`ERR ${what.toUpperCase()} is not supported by Flaredis${why ? ` (${why})` : ""}`),
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

/** C's `%.<max>s` of binary string `s`: its bytes up to a NUL, at most `max` of them. @returns the text and its length in bytes */
/**
 * An argument in an error text as Redis's addReplyErrorFormat writes one with `%s` (`%.Ns`: at most
 * `max` bytes): up to its first NUL, CR and LF as spaces (a RESP error is one line).
 */
export const cArg = (s: string, max = Number.MAX_SAFE_INTEGER): string => cString(s, max)[0].replace(/[\r\n]/g, " ");

function cString(s: string, max: number): [string, number] {
  const nul = s.indexOf("\0");
  const text = (nul === -1 ? s : s.slice(0, nul)).slice(0, max);
  return [text, text.length];
}
