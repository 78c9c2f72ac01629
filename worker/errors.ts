/**
 * The one place where errors become HTTP. Command errors keep Redis's text and prefix; the
 * status follows the prefix, except for errors of the request itself (auth, size, route), which
 * carry their status.
 */
import { toText } from "../durable-objects/engine/bytes";
import { RedisError } from "../durable-objects/engine/errors";

/** An error of the HTTP request rather than of a command. */
export class RequestError extends RedisError {
  constructor(
    message: string,
    readonly status: 400 | 401 | 403 | 404 | 405 | 408 | 409 | 413 | 503,
  ) {
    super(message);
  }
}

/**
 * Errors that say "not now" rather than "not this": the data is being loaded (LOADING), the
 * primary cannot be reached (MASTERDOWN), cannot hear a quorum of sentinels (NOQUORUM) or is
 * fenced by a failover in progress (TRYAGAIN). A client may retry them, so they are 503s.
 */
const STATUS_BY_PREFIX: Record<string, number> = {
  WRONGPASS: 401,
  NOPERM: 403,
  LOADING: 503,
  MASTERDOWN: 503,
  NOQUORUM: 503,
  TRYAGAIN: 503,
};

export function statusOf(error: RedisError): number {
  return error instanceof RequestError ? error.status : (STATUS_BY_PREFIX[error.prefix] ?? 400);
}

/** The JSON body and status of an error response; unknown errors are 500s without details. */
export function errorResponse(error: unknown): { body: { error: string }; status: number } {
  if (error instanceof RedisError) return { body: { error: toText(error.message) }, status: statusOf(error) };
  console.error("flaredis: internal error", error);
  return { body: { error: "ERR internal error" }, status: 500 };
}

export const requestErrors = {
  notConfigured: () =>
    new RequestError(
      "ERR flaredis is not configured: set the FLAREDIS_TOKEN, FLAREDIS_READONLY_TOKEN and FLAREDIS_ADMIN_TOKEN secrets",
      503,
    ),
  wrongPass: () => new RequestError("WRONGPASS invalid or missing auth token", 401),
  tooLarge: (limit: number, actual: number) =>
    new RequestError(`ERR max request size exceeded. Limit: ${limit} bytes, Actual: ${actual} bytes`, 413),
  /** The body could not be read to its end (a broken chunked encoding, a dropped connection). */
  malformedBody: () => new RequestError("ERR malformed request body", 400),
  /** The body stopped arriving (a declared length never sent on a connection kept open). */
  bodyTimeout: (ms: number) => new RequestError(`ERR timed out reading the request body: no data for ${ms} ms`, 408),
  notFound: (path: string) => new RequestError(`ERR not found: ${path}`, 404),
  /** Only GET and POST mean anything here. */
  methodNotAllowed: () => new RequestError("ERR method not allowed (GET and POST only)", 405),
  badRequest: (message: string) => new RequestError(`ERR ${message}`, 400),
};

/** The primary cannot be asked (see routing.ts); MASTERDOWN, as a Redis replica says when its master is gone. */
export const outageErrors = {
  primaryDown: (primary: string) =>
    new RedisError(`MASTERDOWN the primary (${primary}) cannot be reached; a failover is under way or needed`),
  /** A write whose call to the primary failed: the node may have committed it before it was lost. */
  writeFailed: (primary: string) =>
    new RedisError(`MASTERDOWN the primary (${primary}) cannot be reached; the write may or may not have been applied; a failover is under way or needed`),
  /** A write sent to the primary that did not answer in time: it may still be applied. */
  writeTimedOut: (primary: string, ms: number) =>
    new RedisError(`MASTERDOWN the primary (${primary}) did not answer within ${ms} ms; the write may or may not have been applied`),
  noReplicaServes: (primary: string) =>
    new RedisError(
      `MASTERDOWN the primary (${primary}) cannot be reached and no replica can serve this read (behind the client's sync token, staler than its Flaredis-Max-Staleness, or unreachable)`,
    ),
};

/** A refusal of `what` in a sharded deployment (protocol/shards.ts), which reads or writes one shard's keyspace only. */
export const shardedRefusal = (what: string) => new RequestError(`ERR ${what} is served without sharding only (one shard holds every slot)`, 409);
