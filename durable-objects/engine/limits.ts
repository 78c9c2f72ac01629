/**
 * Bounds on one request's work, so that it finishes within a Durable Object's limits (30 s of CPU,
 * 128 MB of memory per isolate) and never holds a node for long: past a bound the request gets a
 * clear error and nothing of it is applied. The worker checks the first two before it parses a
 * body into objects (a 10 MiB pipeline of short commands is ~870k arrays, ~150 MB of heap); the
 * engine checks them again, as the node may be called by other means.
 */
import { type RedisError, errors } from "./errors";

/** Redis's proto-max-bulk-len: the largest string value (and SETBIT's offset, in bytes). */
export const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;

/** The largest string value a deployment takes: FLAREDIS_MAX_VALUE_BYTES when it is a positive integer, else PROTO_MAX_BULK_LEN. */
export function maxValueBytesOf(setting: string | number | undefined): number {
  const n = Number(setting);
  return setting !== undefined && Number.isSafeInteger(n) && n > 0 ? n : PROTO_MAX_BULK_LEN;
}

/**
 * The largest element of a collection (a hash field and its value, a member...): one row, within
 * SQLite's 2 MB row limit. Strings are not bound by it: a long one is stored in pages.
 */
export const ELEMENT_MAX_BYTES = 1024 * 1024;

export const REQUEST_LIMITS = {
  /** Commands in one pipeline or transaction. */
  maxCommands: 10_000,
  /** Arguments (command names included) in one request, over all its commands. */
  maxArguments: 100_000,
  /**
   * Bytes one request may add to the replication log. A command that would pass it fails (in a
   * transaction, the whole transaction), so one request cannot grow the backlog without bound
   * (COPY or RENAME of a large value repeated in a pipeline).
   */
  maxLogBytes: 32 * 1024 * 1024,
  /** Bytes KEYS may buffer for its reply (each key's bytes plus its framing); past it, use SCAN. */
  maxKeysReplyBytes: 8 * 1024 * 1024,
  /** A script's reply (or error value): its values (a table shared twice counts twice) and its strings' bytes. */
  maxScriptReplyValues: 1_000_000,
  maxScriptReplyBytes: 32 * 1024 * 1024,
} as const;

/** Why a request of `commands` commands and `args` arguments in all is past the bounds, or null. */
export function overBounds(commands: number, args: number): RedisError | null {
  const { maxCommands, maxArguments } = REQUEST_LIMITS;
  if (commands > maxCommands) return errors.tooManyCommands(maxCommands, commands);
  return args > maxArguments ? errors.tooManyArguments(maxArguments, args) : null;
}
