/**
 * SORT and SORT_RO (Redis's sort.c): the elements of a list, set or sorted set, sorted as numbers
 * or (ALPHA) as strings, by themselves or by the keys a BY pattern names, a LIMIT of them, each
 * given as itself or as what GET patterns name; SORT … STORE writes them as a list.
 *
 * The options are read before the key, in any order, as Redis reads them. Sorting reads the whole
 * collection, as Redis's does, up to MAX_SORT elements; `BY` a pattern without `*` (no sorting)
 * over a list or sorted set reads only the LIMIT's range. The patterns name keys the command
 * cannot declare: its keys are unknown to the routing (read-your-writes waits for the whole
 * position), as for a script.
 * @see https://redis.io/docs/latest/commands/sort/
 */
import { parseInteger, strtod } from "../args";
import { type Bytes, fromBytes, toBytes } from "../bytes";
import { type Context, type Reply, defineCommand, keysAfter } from "../command";
import { readsAllKeys } from "../acl/users";
import { RedisError, errors } from "../errors";
import type { Change } from "../keyspace";
import { Hash } from "../types/hash/hash";
import { List } from "../types/list/list";
import { RedisSet } from "../types/set/set";
import { Zset } from "../types/zset/zset";

/** The most elements one SORT sorts (a request's memory and CPU stay bounded); Redis has no bound. */
export const MAX_SORT = 100_000;
/** The most replies (elements, or elements times GET patterns) and bytes one SORT answers or stores. */
export const MAX_SORT_REPLIES = 1_000_000;
export const MAX_SORT_BYTES = 32 * 1024 * 1024;

/** The smallest normal double: below it (not 0) C's strtod reports ERANGE, which SORT refuses. */
const MIN_NORMAL = 2.2250738585072014e-308;

/** A value as C reads it (strtod, strcoll): up to its first NUL byte. */
const cString = (b: Bytes): Bytes => {
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
};

interface SortArgs {
  readonly key: string;
  readonly desc: boolean;
  readonly alpha: boolean;
  readonly limit: { readonly start: number; readonly count: number };
  readonly store: string | null;
  /** BY's pattern; `nosort` when it has no `*` (the elements are not sorted). */
  readonly by: string | null;
  readonly nosort: boolean;
  readonly gets: readonly string[];
}

/** Redis's option loop: each option where enough arguments follow it, else a syntax error. */
function parseSort(args: readonly string[], readonly: boolean): SortArgs {
  let desc = false, alpha = false, nosort = false;
  let start = 0, count = -1;
  let store: string | null = null, by: string | null = null;
  const gets: string[] = [];
  for (let j = 1; j < args.length; j++) {
    const left = args.length - j - 1;
    const option = args[j]!.toLowerCase();
    if (option === "asc") desc = false;
    else if (option === "desc") desc = true;
    else if (option === "alpha") alpha = true;
    else if (option === "limit" && left >= 2) {
      start = parseInteger(args[j + 1]!);
      count = parseInteger(args[j + 2]!);
      j += 2;
    } else if (!readonly && option === "store" && left >= 1) store = args[++j]!;
    else if (option === "by" && left >= 1) {
      by = args[++j]!;
      if (!by.includes("*")) nosort = true;
    } else if (option === "get" && left >= 1) gets.push(args[++j]!);
    else throw errors.syntax();
  }
  return { key: args[0]!, desc, alpha, limit: { start, count }, store, by, nosort, gets };
}

/**
 * What a BY or GET pattern names for `element` (Redis's lookupKeyByPattern): `#` the element; else
 * the string at the key made by putting the element in place of the first `*`, or with `->field`
 * after it, that hash field; null for none (no `*`, no such key, another type).
 */
function byPattern(db: Change, pattern: string, element: Bytes): Bytes | null {
  if (pattern === "#") return element;
  const star = pattern.indexOf("*");
  if (star < 0) return null;
  const arrow = pattern.indexOf("->", star + 1);
  const field = arrow >= 0 && arrow + 2 < pattern.length ? pattern.slice(arrow + 2) : null;
  const key = pattern.slice(0, star) + fromBytes(element) + pattern.slice(star + 1, field === null ? undefined : arrow);
  const e = db.lookup(key);
  if (e === null) return null;
  if (field !== null) return e.type === "hash" ? (Hash.find(db, key, false)?.get(field) ?? null) : null;
  return e.type === "string" ? db.stringValue(e) : null;
}

/** Redis's compareStringObjects: bytes, then length. */
function compareBytes(a: Bytes, b: Bytes): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

interface Item {
  readonly element: Bytes;
  score: number;
  by: Bytes | null;
}

function runSort(db: Change, a: SortArgs): Reply {
  const header = db.get(a.key);
  if (header === null) db.lookup(a.key); // a miss, counted
  else if (header.type !== "list" && header.type !== "set" && header.type !== "zset") throw errors.wrongType();
  const list = header?.type === "list" ? List.find(db, a.key) : null;
  const set = header?.type === "set" ? RedisSet.find(db, a.key) : null;
  const zset = header?.type === "zset" ? Zset.find(db, a.key) : null;
  let { nosort, alpha, by } = a;
  // A set has no order of its own: stored, it is sorted (ALPHA), so that replicas store the same.
  if (nosort && set !== null && a.store !== null) [nosort, alpha, by] = [false, true, null];

  // LIMIT as Redis bounds it.
  let length = list?.length ?? set?.length ?? zset?.length ?? 0;
  let start = Math.min(Math.max(a.limit.start, 0), length);
  const count = Math.min(Math.max(a.limit.count, -1), length);
  let end = count < 0 ? length - 1 : start + count - 1;
  if (start >= length) [start, end] = [length - 1, length - 2];
  if (end >= length) end = length - 1;
  const ranged = nosort && (list !== null || zset !== null);
  if (ranged && (start !== 0 || end !== length - 1)) length = end - start + 1;
  if (length > MAX_SORT) throw new RedisError(`ERR SORT of more than ${MAX_SORT} elements is not served by Flaredis (use LIMIT with BY nosort, or SCAN)`);

  let elements: Bytes[] = [];
  if (ranged) {
    if (end >= start) {
      const n = list?.length ?? zset!.length;
      if (list) elements = a.desc ? list.range(n - 1 - end, n - 1 - start).reverse() : list.range(start, end);
      else elements = (zset!.range({ by: "all" }, a.desc, start, end - start + 1) as { field: string }[]).map((r) => toBytes(r.field));
      [start, end] = [0, end - start];
    }
  } else if (list) elements = list.range(0, -1);
  else if (set) elements = set.members().map(toBytes);
  else if (zset) elements = zset.all().map((m) => toBytes(m.field));

  const items: Item[] = elements.map((element) => ({ element, score: 0, by: null }));
  if (!nosort) {
    let notNumbers = false;
    for (const item of items) {
      const value = by === null ? item.element : byPattern(db, by, item.element);
      if (value === null) continue;
      if (alpha) {
        if (by !== null) item.by = value;
      } else {
        // Read as C's strtod reads it: up to a NUL; an empty string is 0 (it stops at once, at the
        // end), spaces alone are not; a result out of range, subnormal ones too, is ERANGE.
        const text = fromBytes(cString(value));
        const read = text === "" ? { value: 0, erange: false } : strtod(text);
        const subnormal = read !== null && read.value !== 0 && Math.abs(read.value) < MIN_NORMAL;
        if (read === null || read.erange || subnormal || Number.isNaN(read.value)) notNumbers = true;
        else item.score = read.value;
      }
    }
    if (notNumbers) throw new RedisError("ERR One or more scores can't be converted into double");
    const sign = a.desc ? -1 : 1;
    // ALPHA compares as strcoll (C strings, up to a NUL) unless the result is stored (all bytes).
    const text = a.store === null ? cString : (b: Bytes) => b;
    items.sort((x, y) => {
      let cmp: number;
      if (!alpha) cmp = x.score > y.score ? 1 : x.score < y.score ? -1 : compareBytes(x.element, y.element);
      else if (by !== null) cmp = x.by === null || y.by === null ? (x.by === y.by ? 0 : x.by === null ? -1 : 1) : compareBytes(text(x.by), text(y.by));
      else cmp = compareBytes(text(x.element), text(y.element));
      return sign * cmp;
    });
  }

  // The reply's size is bounded (GET patterns multiply it, and may each name a large value).
  const replies = Math.max(0, end - start + 1) * Math.max(1, a.gets.length);
  if (replies > MAX_SORT_REPLIES) throw new RedisError(`ERR SORT reply of ${replies} elements exceeds ${MAX_SORT_REPLIES}; use LIMIT`);
  const out: (Bytes | null)[] = [];
  let bytes = 0;
  const add = (v: Bytes | null) => {
    bytes += v?.length ?? 0;
    if (bytes > MAX_SORT_BYTES) throw new RedisError(`ERR SORT reply exceeds ${MAX_SORT_BYTES} bytes; use LIMIT`);
    out.push(v);
  };
  for (let j = start; j <= end; j++) {
    const element = items[j]!.element;
    if (a.gets.length === 0) add(element);
    for (const pattern of a.gets) add(byPattern(db, pattern, element));
  }
  if (a.store === null) return out;
  // Stored as a list (a GET that names nothing as an empty string), replacing what was there.
  db.delete(a.store);
  if (out.length > 0) List.create(db, a.store).push(out.map((v) => v ?? new Uint8Array(0)), "right");
  return out.length;
}

/** The key sorted and, as far as the options can be read, the STORE destination (for the key size limit). */
const sortKeys = (argv: readonly string[]): string[] => [...argv.slice(1, 2), ...keysAfter(argv, ["store"])];

/** SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC | DESC] [ALPHA] [STORE destination] */
export default defineCommand<SortArgs>({
  name: "sort",
  arity: -2,
  flags: ["write", "denyoom"],
  keys: null,
  parse: (args) => parseSort(args, false),
  otherKeys: sortKeys,
  run: (ctx, a) => runSort(ctx.db, patternsAllowed(ctx, a)),
});

/**
 * An ACL user may sort BY a pattern (with `*`) or GET one only if it may read every key, as
 * Redis 7.0 refuses them (they name keys its rules could not check). @returns the arguments
 */
function patternsAllowed(ctx: Context, a: SortArgs): SortArgs {
  if (ctx.user === undefined || readsAllKeys(ctx.user)) return a;
  if (a.by !== null && !a.nosort) throw new RedisError("ERR BY option of SORT denied due to insufficient ACL permissions.");
  if (a.gets.length > 0) throw new RedisError("ERR GET option of SORT denied due to insufficient ACL permissions.");
  return a;
}

/** SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC | DESC] [ALPHA] */
export const sortRo = defineCommand<SortArgs>({
  name: "sort_ro",
  arity: -2,
  flags: ["readonly"],
  keys: null,
  parse: (args) => parseSort(args, true),
  otherKeys: sortKeys,
  run: (ctx, a) => runSort(ctx.db, patternsAllowed(ctx, a)),
});
