/**
 * The sorted set type (Redis's t_zset.c): a header row (element id, member count, deadline) and
 * one element row per member with its score, so ZADD or ZSCORE of one member touches one row, and
 * ranges by score, by member or by rank, ranks and counts are answered by the storage's index in
 * (score, member) order (ZsetIndex, range.ts; OrderIndex, types/order.ts), never by reading the
 * whole set.
 * Replicated as ZADD of resulting scores (ZINCRBY and ZADD INCR too: replicas never redo the
 * arithmetic) and ZREM (pops, range removals), DEL when a range removal takes every member, and a
 * *STORE destination written whole (effects.ts); an emptied sorted set is deleted.
 */
import { parseInteger, strtod } from "../../args";
import { type Bytes, toBytes } from "../../bytes";
import type { Reply } from "../../command";
import { RedisError, errors } from "../../errors";
import type { Change } from "../../keyspace";
import { Collection, emptyHeader, headerOf } from "../collection";
import { type ElementRow, type Entry, compareFields } from "../../storage";
import { type LexBound, type ScoreBound, type ZsetRange } from "./range";
import { type OrderKey } from "../order";
import { zadd, zrem } from "./effects";
import { scoreReply } from "./score";

/** Redis's zset-max-listpack-entries: what OBJECT ENCODING reports as `listpack`. */
const LISTPACK_ENTRIES = 128;

/** ZADD's conditions, as parsed once: NX cannot meet GT or LT, nor XX. */
export type AddMode =
  | { readonly only: "new" }
  | { readonly only: "existing" | "any"; readonly compare: "gt" | "lt" | null };

export interface AddOutcome {
  readonly added: number;
  readonly updated: number;
  /** Members the call acted on (not skipped by NX, XX, GT or LT). */
  readonly processed: number;
  /** The last acted-on member's resulting score (ZINCRBY's and ZADD INCR's reply). */
  readonly score: number | null;
}

/** A member with its score. */
export interface Scored {
  readonly field: string;
  readonly score: number;
}

/** Scores never keep the sign of a zero: SQLite stores -0.0 as 0, and every node must agree. */
const unsigned0 = (n: number) => n + 0;

export class Zset extends Collection {
  private constructor(db: Change, key: string, header: Entry) {
    super(db, key, header);
  }

  /** The sorted set at `key`, or null when there is none (a keyspace hit or miss). @throws WRONGTYPE */
  static find(db: Change, key: string): Zset | null {
    const header = headerOf(db, key, "zset");
    return header && new Zset(db, key, header);
  }

  /** The sorted set at `key`, created empty when missing (stored only once it has a member). @throws WRONGTYPE */
  static findOrCreate(db: Change, key: string): Zset {
    return Zset.find(db, key) ?? new Zset(db, key, emptyHeader(db, "zset"));
  }

  /**
   * Writes `members` as the new sorted set at `key` (a *STORE destination): whatever was there
   * goes (any type, its deadline too), and an empty result leaves no key: a DEL (when there was
   * a key) and a ZADD of the result. @returns the result's size
   */
  static store(db: Change, key: string, members: readonly Scored[]): number {
    db.delete(key);
    if (members.length > 0) db.apply(zadd, key, members.map((m) => [m.field, unsigned0(m.score)] as const));
    return members.length;
  }

  score(member: string): number | null {
    return this.db.element(this.eid, member)?.score ?? null;
  }

  /**
   * ZADD's work (Redis's zsetAdd per pair, in order): with `incr` each score is an increment.
   * One ZADD of the resulting scores that changed. @throws ERR when an increment gives NaN
   */
  add(pairs: readonly (readonly [number, string])[], mode: AddMode, incr: boolean): AddOutcome {
    let added = 0;
    let updated = 0;
    let processed = 0;
    let last: number | null = null;
    // ZADD INCR's and ZINCRBY's reply: a new member's score as given (Redis answers -0 for one
    // added with -0, though it stores 0, as its small sorted sets do: unsigned0), else the stored one.
    let reply: number | null = null;
    const changed = new Map<string, number>();
    for (const [given, member] of pairs) {
      // A member may repeat: each pair sees the ones before it.
      const current = changed.get(member) ?? this.score(member);
      let score = given;
      if (current !== null) {
        if (mode.only === "new") continue;
        if (incr) {
          score = current + given;
          if (Number.isNaN(score)) throw new RedisError("ERR resulting score is not a number (NaN)");
        }
        if ((mode.compare === "lt" && score >= current) || (mode.compare === "gt" && score <= current)) continue;
        processed++;
        last = unsigned0(score);
        if (score !== current) {
          updated++;
          changed.set(member, last);
        }
      } else {
        if (mode.only === "existing") continue;
        added++;
        processed++;
        last = unsigned0(score);
        changed.set(member, last);
      }
      reply = current === null ? score : last;
    }
    if (changed.size > 0) this.apply(zadd, [...changed]);
    return { added, updated, processed, score: reply };
  }

  /** Removes members: a ZREM of those that were there, an emptied set goes. @returns how many were */
  remove(members: readonly string[]): number {
    return this.removeFields(zrem, members);
  }

  /**
   * Removes the members within `range` (after `offset`, at most `limit`): ZREMRANGEBY*. When that
   * is every member the key goes, logged as DEL without reading them; else as ZREM of the removed.
   * @returns how many went
   */
  removeRange(range: ZsetRange, offset: number, limit: number): number {
    const total = this.range(range, false, offset, limit, true);
    if (total === this.length) {
      this.db.delete(this.key);
      return total;
    }
    return total === 0 ? 0 : this.remove(this.range(range, false, offset, limit).map((r) => r.field));
  }

  /**
   * The members within `range`, in (score, member) order or its reverse, `offset` skipped, at
   * most `limit` (negative: all); with `countOnly`, only how many that is.
   */
  range(range: ZsetRange, reverse: boolean, offset: number, limit: number): ElementRow[];
  range(range: ZsetRange, reverse: boolean, offset: number, limit: number, countOnly: true): number;
  range(range: ZsetRange, reverse: boolean, offset: number, limit: number, countOnly = false): ElementRow[] | number {
    if (countOnly) {
      const after = Math.max(0, this.count(range) - offset);
      return limit < 0 ? after : Math.min(after, limit);
    }
    if (range.by === "lex" && !this.uniform()) {
      const walked = this.lexWalk(range, reverse).slice(offset);
      return limit < 0 ? walked : walked.slice(0, limit);
    }
    // A small offset is skipped by the range's own read; a larger one is found by rank.
    const bounds = offset <= DIRECT_OFFSET ? null : this.bounds(range);
    if (bounds === null) return this.db.zsetRange(this.eid, range, reverse, offset, limit);
    const available = bounds.hi - bounds.lo - offset;
    const take = limit < 0 ? available : Math.min(limit, available);
    if (take <= 0) return [];
    const [first] = this.db.selectRanks(this.eid, [reverse ? bounds.hi - 1 - offset : bounds.lo + offset], true);
    return first === undefined ? [] : this.db.scanFrom(this.eid, { score: first.score ?? 0, field: first.field }, reverse, take, true);
  }

  /** How many members lie within `range`: two reads of the rank index (a lex range over several scores: walked). */
  count(range: ZsetRange): number {
    const bounds = this.bounds(range);
    if (bounds !== null) return Math.max(0, bounds.hi - bounds.lo);
    return range.by === "lex" ? this.lexWalk(range, false).length : this.db.zsetCount(this.eid, range);
  }

  /** True when every member has the same score (the first's and the last's are equal). */
  private uniform(): boolean {
    const n = this.length;
    if (n <= 1) return true;
    const [first, last] = this.db.selectRanks(this.eid, [0, n - 1], true);
    return (first?.score ?? 0) === (last?.score ?? 0);
  }

  /**
   * A lex range over members of different scores, as Redis walks it in (score, member) order
   * (its listpack's zzlFirstInLexRange; a skiplist's answer depends on its random levels): nothing
   * unless the first member is at most the max and the last at least the min; then from the first
   * member at or past the min (from the tail: the first at or before the max), none unless that
   * one is in range, and on while members stay on the range's side of its other end.
   */
  private lexWalk(range: Extract<ZsetRange, { by: "lex" }>, reverse: boolean): ElementRow[] {
    const { min, max } = range;
    const gteMin = (f: string) => (min === "-" ? true : min === "+" ? false : min.ex ? compareFields(f, min.value) > 0 : compareFields(f, min.value) >= 0);
    const lteMax = (f: string) => (max === "+" ? true : max === "-" ? false : max.ex ? compareFields(f, max.value) < 0 : compareFields(f, max.value) <= 0);
    const n = this.length;
    if (n === 0) return [];
    const [first, last] = this.db.selectRanks(this.eid, n === 1 ? [0, 0] : [0, n - 1], true);
    if (!lteMax(first!.field) || !gteMin(last!.field)) return [];
    const [reach, within] = reverse ? [lteMax, gteMin] : [gteMin, lteMax];
    const out: ElementRow[] = [];
    let started = false;
    for (const el of this.walk(reverse)) {
      if (!started) {
        if (!reach(el.field)) continue;
        started = true;
      }
      if (!within(el.field)) break;
      out.push(el);
    }
    return out;
  }

  /** Every member in (score, member) order, or from the last, read a page at a time. */
  private *walk(reverse: boolean): Generator<ElementRow> {
    let page = this.db.zsetRange(this.eid, { by: "all" }, reverse, 0, WALK_PAGE);
    while (page.length > 0) {
      yield* page;
      if (page.length < WALK_PAGE) return;
      const lastRow = page[page.length - 1]!;
      page = this.db.scanFrom(this.eid, { score: lastRow.score ?? 0, field: lastRow.field }, reverse, WALK_PAGE + 1, true).slice(1);
    }
  }

  /**
   * The ranks [lo, hi) of the members within `range`, from the rank index; null for a member range
   * over members of different scores (Redis's lex ranges assume one score), counted by member instead.
   */
  private bounds(range: ZsetRange): { lo: number; hi: number } | null {
    const n = this.length;
    if (range.by === "all") return { lo: 0, hi: n };
    if (n === 0) return { lo: 0, hi: 0 };
    const below = (key: OrderKey) => this.db.rankOf(this.eid, key, true);
    if (range.by === "score") {
      // Members below a score, or (after) at or below it.
      const at = (b: ScoreBound, after: boolean) =>
        !after ? below({ score: b.value, field: "" }) : b.value === Infinity ? n : below({ score: nextUp(b.value), field: "" });
      return { lo: at(range.min, range.min.ex), hi: at(range.max, !range.max.ex) };
    }
    const ends = this.db.selectRanks(this.eid, n === 1 ? [0] : [0, n - 1], true);
    const score = ends[0]?.score ?? 0;
    if ((ends[ends.length - 1]?.score ?? 0) !== score) return null;
    // Members below a member, or (after) at or below it: the member followed by a NUL is the next string.
    const at = (b: LexBound, after: boolean) => (b === "-" ? 0 : b === "+" ? n : below({ score, field: after ? `${b.value}\0` : b.value }));
    const exclusive = (b: LexBound) => typeof b === "object" && b.ex;
    return { lo: at(range.min, exclusive(range.min)), hi: at(range.max, !exclusive(range.max)) };
  }

  /**
   * A member's 0-based rank (from the highest score when `reverse`) and score, or null: a read of
   * the rank index (its cost grows with the logarithm of the set's size).
   */
  rank(member: string, reverse: boolean): { rank: number; score: number } | null {
    const score = this.score(member);
    if (score === null) return null;
    const before = this.db.rankOf(this.eid, { score, field: member }, true);
    return { rank: reverse ? this.length - 1 - before : before, score };
  }

  /** One page of members after `after` (null: from the first), in member order (ZSCAN). */
  page(after: string | null, limit: number): { rows: ElementRow[]; next: string | null } {
    return this.db.elementsPage(this.eid, after, limit);
  }

  /** Every member with its score, in member order (ZUNION's inputs...). */
  all(): Scored[] {
    return this.db.allElements(this.eid).map((el) => ({ field: el.field, score: el.score ?? 0 }));
  }

}

/** Members read a page when a lex range over several scores is walked. */
const WALK_PAGE = 256;
/** Offsets up to this are skipped by reading past them; larger ones are found in the rank index. */
const DIRECT_OFFSET = 64;

/** The smallest double above `x`. */
function nextUp(x: number): number {
  if (x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

/** OBJECT ENCODING of a sorted set: small ones are `listpack` in Redis, larger ones `skiplist`. */
export const zsetEncoding = (e: Entry) => ((e.count ?? 0) <= LISTPACK_ENTRIES ? "listpack" : "skiplist");

const notFloatRange = () => new RedisError("ERR min or max is not a float");
const notLexRange = () => new RedisError("ERR min or max not valid string range item");

/**
 * One end of a score range: `1.5`, `(1.5` (exclusive), `-inf`, `+inf`, as Redis's zslParseRange
 * reads it with strtod: leading spaces, hexadecimal and overflow (an infinity) are fine, NaN is
 * not; "" and "(" read as 0; strtod stops at a NUL byte, and so does the bound.
 */
function scoreBound(s: string): ScoreBound {
  const ex = s.startsWith("(");
  let text = ex ? s.slice(1) : s;
  if (text.includes("\0")) text = text.slice(0, text.indexOf("\0"));
  if (text === "") return { value: 0, ex };
  const read = strtod(text);
  if (read === null || Number.isNaN(read.value)) throw notFloatRange();
  return { value: read.value, ex };
}

/** ZRANGEBYSCORE's min and max. @throws ERR min or max is not a float */
export function parseScoreRange(min: string, max: string): ZsetRange {
  return { by: "score", min: scoreBound(min), max: scoreBound(max) };
}

function lexBound(s: string): LexBound {
  if (s === "-" || s === "+") return s;
  if (s.startsWith("(")) return { value: s.slice(1), ex: true };
  if (s.startsWith("[")) return { value: s.slice(1), ex: false };
  throw notLexRange();
}

/** ZRANGEBYLEX's min and max: `[a`, `(a`, `-`, `+`. @throws ERR min or max not valid string range item */
export function parseLexRange(min: string, max: string): ZsetRange {
  return { by: "lex", min: lexBound(min), max: lexBound(max) };
}

/**
 * A rank range (ZRANGE start stop, negative from the end) over a set of `length` members, as
 * Redis sanitizes it: the offset and count it covers, or null when it is empty.
 */
export function rankWindow(start: number, stop: number, length: number): { offset: number; limit: number } | null {
  if (start < 0) start += length;
  if (stop < 0) stop += length;
  if (start < 0) start = 0;
  if (start > stop || start >= length) return null;
  if (stop >= length) stop = length - 1;
  return { offset: start, limit: stop - start + 1 };
}

/** A member as a bulk reply. */
export const bulk = (s: string): Bytes => toBytes(s);

/** Members, each followed by its score when `withScores` (RESP2's flat WITHSCORES shape). */
export function membersReply(rows: readonly Scored[] | readonly ElementRow[], withScores: boolean): Reply[] {
  const out: Reply[] = [];
  for (const r of rows) {
    out.push(bulk(r.field));
    if (withScores) out.push(scoreReply(r.score ?? 0));
  }
  return out;
}

/** A `numkeys` argument. @throws ERR at least 1 input key is needed / syntax error when too few follow */
export function parseNumkeys(name: string, count: string, following: number): number {
  const n = parseInteger(count);
  if (n < 1) throw new RedisError(`ERR at least 1 input key is needed for '${name}' command`);
  if (n > following) throw errors.syntax();
  return n;
}

