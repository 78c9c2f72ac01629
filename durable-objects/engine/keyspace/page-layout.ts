/**
 * Strings stored in pages. A string longer than INLINE_MAX is kept as pages of PAGE_BYTES: the
 * elements of a negative element id (the storage keeps them in a table of their own, one row per
 * page), each named by its page number in fixed-width hex, so field order is page order. SETBIT,
 * SETRANGE, APPEND, GETRANGE and the bit commands then read and write only the pages they touch.
 *
 * The layout is canonical, the same on every node whatever wrote the value (a replica that built
 * it from a SET and SETRANGEs, or copied it from a snapshot's pages):
 * - a string is paged exactly when it is longer than INLINE_MAX;
 * - every page but the last is PAGE_BYTES long and is not stored while all its bytes are zero
 *   (a sparse string: `SETBIT k 4294967295 1` stores one page);
 * - the last page is always stored, (length - 1) % PAGE_BYTES + 1 bytes long: it gives the length.
 * A paged string's header keeps `eid`, `count` (its pages stored), `bytes` (their size, sizes.ts)
 * and the raw encoding. Strings never shrink in place (Redis has no command that truncates one),
 * so a paged string stays paged until it is replaced.
 */
import { RedisError } from "../errors";

/** Bytes of one page (a row: rows are what a write costs, bytes are not). */
export const PAGE_BYTES = 64 * 1024;
/** Strings up to this length are one row (`Entry.value`); longer ones are paged. */
export const INLINE_MAX = 1024 * 1024;
/**
 * Most bytes of one string that one command reads whole (GET, GETRANGE's span, MGET's each value,
 * BITOP's sources...): a reply must fit a Durable Object's 128 MB with its encodings.
 */
export const READ_MAX = 8 * 1024 * 1024;
/**
 * Most bytes of string values one request reads whole or in ranges, all its reads together (MGET
 * of several long strings, a MULTI or a pipeline of GETs): its reply must fit a Durable Object.
 */
export const READ_BUDGET = 32 * 1024 * 1024;

/** The error for a command whose string reads would pass READ_BUDGET. */
export const readsTooLarge = (): RedisError =>
  new RedisError(`ERR this request reads more than ${READ_BUDGET} bytes of string values; read them in parts or in several requests`);

/** Most bytes of a string write logged as one effect (a SET or SETRANGE past it is logged as several). */
export const WRITE_EFFECT_BYTES = INLINE_MAX;

/** The field naming page `n`. */
export const pageField = (n: number): string => n.toString(16).padStart(8, "0");
/** The page a field names. */
export const pageNumber = (field: string): number => parseInt(field, 16);

/** The error for a read of `size` bytes of one string, past READ_MAX. */
export const readTooLarge = (size: number): RedisError =>
  new RedisError(`ERR string of ${size} bytes is past the ${READ_MAX} bytes one command reads at once; read it in parts with GETRANGE`);

