/**
 * THE one place where the differential forgives a difference: each entry is a change Redis made
 * in a named release (source: release notes, pull request or source file), so the reference
 * redis-server, when older, answers otherwise than Flaredis (which follows Redis 7.2+ there).
 * An entry applies only while the reference is older than `since`; one whose `since` is
 * "flaredis" is a difference Flaredis chose and documents in the README (Limits), forgiven against
 * every reference. One with `until` is a change Flaredis has not followed (it answers as the
 * Redis before it): it applies only while the reference is that release or later. Anything not forgiven here is a divergence. Keep entries narrow: each says exactly which replies it touches and how.
 *
 * Not here, on purpose: INCRBYFLOAT and HINCRBYFLOAT. Their replies go through ld2string(…,
 * LD_STR_HUMAN) ("%.17Lf", trailing zeros trimmed, on a long double) in 7.0 and 7.2 alike
 * (src/util.c, src/t_string.c incrbyfloatCommand): no version difference to forgive.
 */
import { type Command, type Reply, argText, commandName, isError } from "./reply.ts";

export interface KnownDifference {
  readonly name: string;
  /** The first Redis release that answers as Flaredis does, or "flaredis" for none (a documented choice). */
  readonly since?: string;
  /** The first Redis release that answers otherwise than Flaredis, which keeps the older answer. */
  readonly until?: string;
  /** What changed and where it is written. */
  readonly reason: string;
  /** Makes the two replies comparable (Redis's first); applied to every reply pair. */
  readonly normalize?: (command: Command, redis: Reply, flaredis: Reply) => [Reply, Reply];
  /** True for a command the reference cannot run at all: the generator does not make it. */
  readonly unavailable?: (command: Command) => boolean;
}

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    name: "BITCOUNT and BITPOS: arguments checked before the key since 7.4",
    since: "7.4.0",
    reason:
      "redis/redis#11734 and #12394 (7.4.0, src/bitops.c bitcountCommand, bitposCommand): the range and BYTE|BIT are parsed before the key " +
      "is looked up, so a missing key (0, or BITPOS's -1/0), a key of another type (WRONGTYPE) or BITCOUNT's empty negative range (0, " +
      "answered before BYTE|BIT was read) give the argument's error. Forgiven only when Flaredis answers exactly the error 7.4's parse of " +
      "those arguments gives (badBitRange), against an integer or a WRONGTYPE error from Redis.",
    normalize: (command, redis, flaredis) =>
      ["BITCOUNT", "BITPOS"].includes(commandName(command)) &&
      isError(flaredis) &&
      flaredis.error === badBitRange(command) &&
      (typeof redis === "bigint" || (isError(redis) && redis.error.startsWith("WRONGTYPE")))
        ? [flaredis, flaredis]
        : [redis, flaredis],
  },
  {
    name: "double replies: %.17g before 7.2, d2string() (integer or shortest round-trip form) since",
    since: "7.2.0",
    reason:
      "redis/redis#10587 (7.2.0): addReplyDouble() prints through d2string(), which writes an integral double within ±2^62 as an integer " +
      "(double2ll) and any other through fpconv_dtoa (the shortest text that round-trips, src/util.c, deps/fpconv/fpconv_dtoa.c); before, " +
      "snprintf(\"%.17g\"). Touches every score reply (ZSCORE, ZMSCORE, ZINCRBY, ZADD INCR, WITHSCORES, ZPOPMIN/MAX, ZMPOP, their blocking forms, ZRANDMEMBER) and " +
      "ZSCAN's scores of a listpack sorted set (stored in d2string's form). Forgiven only when Redis's text is exactly %.17g of the double " +
      "and Flaredis's exactly 7.2's d2string() of the same double.",
    normalize: (command, redis, flaredis) => {
      const pairs: [Buffer, Buffer][] = [];
      collectScores(command, redis, flaredis, pairs);
      const forgiven = new Map<Buffer, Buffer>();
      for (const [r, f] of pairs) if (!r.equals(f) && isVersionFormatPair(r.toString(), f.toString())) forgiven.set(r, f);
      return forgiven.size === 0 ? [redis, flaredis] : [replaceLeaves(redis, forgiven), flaredis];
    },
  },
  {
    name: "OBJECT ENCODING of a small list: quicklist before 7.2, listpack since",
    since: "7.2.0",
    reason: "redis/redis#11303 (7.2.0, commit 2168ccc66): small lists are listpack-encoded; before, every list was a quicklist.",
    normalize: (command, redis, flaredis) => (isEncoding(command) && is(redis, "quicklist") && is(flaredis, "listpack") ? [flaredis, flaredis] : [redis, flaredis]),
  },
  {
    name: "OBJECT ENCODING of a small set of non-integers: hashtable before 7.2, listpack since",
    since: "7.2.0",
    reason: "redis/redis#11290 (7.2.0, commit 4e472a1a7): sets of up to set-max-listpack-entries (128) short members are listpack-encoded; before, hashtable.",
    normalize: (command, redis, flaredis) => (isEncoding(command) && is(redis, "hashtable") && is(flaredis, "listpack") ? [flaredis, flaredis] : [redis, flaredis]),
  },
  {
    name: "LPOS … RANK -9223372036854775808: accepted before 7.2 (as -1, by overflow), refused since",
    since: "7.2.0",
    reason:
      "redis/redis#12167 (7.2.0, fixing #12165): RANK is parsed with getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX), so LONG_MIN answers " +
      "\"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\" before the key is looked up. " +
      "Forgiven only for that exact error against a Redis reply that is not an error (or is WRONGTYPE).",
    normalize: (command, redis, flaredis) =>
      commandName(command) === "LPOS" &&
      command.some((a, i) => typeof a === "string" && a.toUpperCase() === "RANK" && command[i + 1] === LONG_MIN) &&
      isError(flaredis) &&
      flaredis.error === `ERR value is out of range, value must between -${LONG_MAX} and ${LONG_MAX}` &&
      (!isError(redis) || redis.error.startsWith("WRONGTYPE"))
        ? [flaredis, flaredis]
        : [redis, flaredis],
  },
  {
    name: "LREM key -9223372036854775808: accepted before 7.4 (every match removed from the tail, by overflow), refused since",
    since: "7.4.0",
    reason:
      "redis/redis#12465 (7.4.0): LREM's count is parsed with getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX), so LONG_MIN answers " +
      "\"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\" before the key is looked up. " +
      "Before, a list loses its matches where Flaredis changes nothing, so the keyspaces would part: not generated against an older " +
      "reference (test/conformance/lists.ts checks Flaredis's answer).",
    unavailable: (command) => commandName(command) === "LREM" && command[2] === LONG_MIN,
  },
  {
    name: "ZRANK/ZREVRANK … WITHSCORE: added in 7.2",
    since: "7.2.0",
    reason: "redis/redis#11235 (7.2.0): the WITHSCORE option; before, ZRANK takes exactly 3 arguments (a wrong-arity error, which aborts a MULTI block).",
    unavailable: (command) => ["ZRANK", "ZREVRANK"].includes(commandName(command)) && command.length > 3,
  },
  {
    name: "SORT does not convert a sorted set to a skiplist",
    since: "flaredis",
    reason:
      "Redis's SORT and SORT_RO convert the sorted set they read to the skiplist encoding (src/sort.c, zsetConvert) and leave it so: OBJECT " +
      "ENCODING then answers skiplist, and a lex range over members of different scores walks the skiplist's random levels. Flaredis's SORT only " +
      "reads (README, Limits). Forgiven by not comparing that state: SORT comes as a single step, after which the runner has redis-server " +
      "load the key again (DUMP, RESTORE), in its default encoding (runner.ts reencode; CommandSpec.reencodes).",
  },
  {
    name: "OBJECT ENCODING of a collection that held an element past 64 bytes",
    since: "flaredis",
    reason:
      "Redis converts a hash, set or sorted set to hashtable or skiplist for good once a field, value or member is longer than 64 bytes " +
      "(hash-max-listpack-value, src/t_hash.c hashTypeTryConversion); Flaredis's OBJECT ENCODING follows the element count only (README, " +
      "Limits). Forgiven only for OBJECT ENCODING, when Redis answers hashtable and Flaredis listpack or listpackex (a hash or set), or " +
      "Redis skiplist and Flaredis listpack (a sorted set); an intset holds no such member, and is not forgiven.",
    normalize: (command, redis, flaredis) =>
      isEncoding(command) &&
      Buffer.isBuffer(redis) &&
      Buffer.isBuffer(flaredis) &&
      ((redis.toString() === "hashtable" && ["listpack", "listpackex"].includes(flaredis.toString())) ||
        (redis.toString() === "skiplist" && flaredis.toString() === "listpack"))
        ? [flaredis, flaredis]
        : [redis, flaredis],
  },
  {
    name: "HSCAN, SSCAN and ZSCAN from a cursor Flaredis never gave",
    since: "flaredis",
    reason:
      "A cursor of Flaredis's element scans names the field it goes on after (scan-cursor.ts); one that names none answers ERR invalid " +
      "cursor (README, Limits), where Redis scans a small collection whole whatever the cursor, a large one from that bucket. Forgiven only " +
      "for that error from Flaredis against an array from Redis, for a cursor that names no field.",
    normalize: (command, redis, flaredis) =>
      ["HSCAN", "SSCAN", "ZSCAN"].includes(commandName(command)) &&
      command[2] !== undefined &&
      namesNoField(argText(command[2])) &&
      Array.isArray(redis) &&
      isError(flaredis) &&
      flaredis.error === "ERR invalid cursor"
        ? [flaredis, flaredis]
        : [redis, flaredis],
  },
  {
    name: "SCAN-family cursors: strtoul before 7.4, string2ull since",
    since: "7.4.0",
    reason:
      "7.4.0's parseScanCursorOrReply (src/db.c) reads the cursor with string2ull (src/util.c): \"\" and a negative int64 are refused, a " +
      "leading space accepted; before, strtoul took \"\" as 0, wrapped a negative one round 2^64 and refused a leading space. Flaredis " +
      "reads it as 7.4 does. Forgiven only for a cursor the two read differently, when Flaredis refuses it exactly when 7.4 would.",
    normalize: (command, redis, flaredis) => {
      const at = commandName(command) === "SCAN" ? 1 : 2;
      if (!["SCAN", "SSCAN", "HSCAN", "ZSCAN"].includes(commandName(command)) || command[at] === undefined) return [redis, flaredis];
      const cursor = argText(command[at]);
      const [before, since] = [cursorBefore74(cursor), cursorSince74(cursor)];
      return before !== since && isError(flaredis) === !since ? [flaredis, flaredis] : [redis, flaredis];
    },
  },
  {
    name: "score ranges in hexadecimal or after a space: taken before 8.0, refused since",
    until: "8.0.0",
    reason:
      "8.0's zslParseRange (src/t_zset.c) reads a range's ends with fast_float_strtod, which takes no hexadecimal (0x10, 0x1p3) and no " +
      "leading space: ERR min or max is not a float, before the key is looked up; 7.x read them with strtod. Flaredis answers as 7.x. Not " +
      "generated against an 8.0 or later reference (a score-range command with such an end).",
    unavailable: (command) =>
      /^Z(REV)?RANGEBYSCORE$|^ZCOUNT$|^ZREMRANGEBYSCORE$/.test(commandName(command))
        ? command.slice(2, 4).some(strtodOnly)
        : /^ZRANGE(STORE)?$/.test(commandName(command)) && command.slice(2, 5).some(strtodOnly),
  },
  {
    name: "GEOPOS and WITHCOORD coordinates: %.17Lg before 8.0, the shortest round trip since",
    until: "8.0.0",
    reason:
      "8.0's geoposCommand and geoAppendIfWithinShape's WITHCOORD reply (src/geo.c) use addReplyDouble (d2string, the shortest string that " +
      "reads back as the same double), where 7.x used addReplyHumanLongDouble (85.0511287799999991 for 85.05112878). Flaredis prints as " +
      "7.x. Forgiven only for coordinates, leaf by leaf, when both read as the same double.",
    normalize: (command, redis, flaredis) =>
      commandName(command) === "GEOPOS" || (/^GEO(SEARCH|RADIUS)/.test(commandName(command)) && command.some((a) => argText(a).toUpperCase() === "WITHCOORD"))
        ? [sameDoubles(redis, flaredis), flaredis]
        : [redis, flaredis],
  },
  {
    name: "hash-field expiry (HEXPIRE, HTTL, HPERSIST and their kin): added in 7.4",
    since: "7.4.0",
    reason: "redis/redis#13172 and the 7.4.0 release notes: hash fields with deadlines; before, these commands are unknown.",
    unavailable: (command) => HFE_74.has(commandName(command)),
  },
  {
    name: "HGETDEL, HGETEX and HSETEX: added in 8.0",
    since: "8.0.0",
    reason: "The 8.0 release notes (src/t_hash.c hgetdelCommand, hgetexCommand, hsetexCommand); before, these commands are unknown.",
    unavailable: (command) => ["HGETDEL", "HGETEX", "HSETEX"].includes(commandName(command)),
  },
  {
    name: "XINFO STREAM's radix-tree-keys and radix-tree-nodes: Redis's internals, not compared",
    since: "flaredis",
    reason:
      "Redis keeps a stream as a radix tree of listpack nodes and XINFO STREAM reports its size (src/t_stream.c xinfoReplyWithStreamInfo: " +
      "raxSize, s->rax->numnodes), which follows stream-node-max-bytes and stream-node-max-entries; Flaredis does not store a stream so " +
      "(README, Limits). Forgiven by dropping those two fields (name and integer value) from both replies of XINFO STREAM, whether " +
      "Flaredis answers them or not; every other field is compared.",
    normalize: (command, redis, flaredis) => (isXinfo(command, "STREAM") ? [withoutFields(redis, RADIX_FIELDS), withoutFields(flaredis, RADIX_FIELDS)] : [redis, flaredis]),
  },
  {
    name: "XREAD and XREADGROUP's unbalanced-streams error: the command's name and its special ID since 7.2",
    since: "7.2.0",
    reason:
      "redis/redis#11799 and #12238 (7.2.0, src/t_stream.c xreadCommand): \"ERR Unbalanced 'xread' list of streams: for each stream key an " +
      "ID or '$' must be specified.\" ('xreadgroup' and '>' for XREADGROUP); before, \"ERR Unbalanced XREAD list of streams: for each " +
      "stream key an ID or '$' must be specified.\" for both. Forgiven only for those exact texts. (7.4 changed XREAD's again: #13474.)",
    normalize: (command, redis, flaredis) => {
      const name = commandName(command);
      if (!["XREAD", "XREADGROUP"].includes(name) || !isError(redis) || !isError(flaredis)) return [redis, flaredis];
      const before = "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
      const since = `ERR Unbalanced '${name.toLowerCase()}' list of streams: for each stream key an ID or '${name === "XREAD" ? "$" : ">"}' must be specified.`;
      return redis.error === before && flaredis.error === since ? [flaredis, flaredis] : [redis, flaredis];
    },
  },
  {
    name: "XREADGROUP, XCLAIM and XAUTOCLAIM create their consumer even when they deliver or claim nothing, since 7.2",
    since: "7.2.0",
    reason:
      "redis/redis#11099 (7.2.0, src/t_stream.c xreadCommand, xclaimCommand, xautoclaimCommand): the consumer is looked up or " +
      "created (and marked seen) before anything is read or claimed; before, only for an entry delivered or claimed. Such a consumer " +
      "has nothing pending, so it shows only as one Redis lacks: forgiven in XINFO CONSUMERS (a consumer of Flaredis's with 0 " +
      "pending that Redis does not list), XINFO GROUPS (Flaredis's consumers count over Redis's) and XGROUP CREATECONSUMER " +
      "(Flaredis's 0 where Redis creates it: 1).",
    normalize: (command, redis, flaredis) => {
      if (isXinfo(command, "CONSUMERS") && Array.isArray(redis) && Array.isArray(flaredis)) {
        const names = new Set(redis.map((c) => (Array.isArray(c) ? String(c[1]) : "")));
        const kept = flaredis.filter((c) => !Array.isArray(c) || names.has(String(c[1])) || !(is(c[2]!, "pending") && c[3] === 0n));
        return [redis, kept];
      }
      if (isXinfo(command, "GROUPS") && Array.isArray(redis) && Array.isArray(flaredis) && redis.length === flaredis.length) {
        const fixed = flaredis.map((g, i) => {
          const r = redis[i];
          if (!Array.isArray(g) || !Array.isArray(r) || !is(g[2]!, "consumers") || !is(r[2]!, "consumers")) return g;
          return typeof g[3] === "bigint" && typeof r[3] === "bigint" && g[3] > r[3] ? [...g.slice(0, 3), r[3], ...g.slice(4)] : g;
        });
        return [redis, fixed];
      }
      const createConsumer = commandName(command) === "XGROUP" && command[1] !== undefined && argText(command[1]).toUpperCase() === "CREATECONSUMER";
      return createConsumer && redis === 1n && flaredis === 0n ? [redis, redis] : [redis, flaredis];
    },
  },
  {
    name: "XINFO GROUPS's lag and entries-read: estimates fixed in 8.0",
    since: "8.0.0",
    reason:
      "redis/redis#13338 and #13473 (8.0, src/t_stream.c streamReplyWithCGLag, streamEstimateDistanceFromFirstEverEntry): a group " +
      "behind the first entry lags by the stream's length, an emptied stream by 0, and no read counter is estimated across a " +
      "tombstone after the ID; before, the counters gave lags such as -6 or past the entries left. Flaredis answers as 8.0: a " +
      "group's reply is forgiven when only its lag and entries-read differ.",
    normalize: (command, redis, flaredis) => {
      if (!isXinfo(command, "GROUPS") || !Array.isArray(redis) || !Array.isArray(flaredis) || redis.length !== flaredis.length) return [redis, flaredis];
      const masked = (g: Reply) => (Array.isArray(g) && g.length === 12 && is(g[8]!, "entries-read") && is(g[10]!, "lag") ? [...g.slice(0, 9), null, g[10]!, null] : g);
      const [r, f] = [redis.map(masked), flaredis.map(masked)];
      return JSON.stringify(r, replacer) === JSON.stringify(f, replacer) ? [r, f] : [redis, flaredis];
    },
  },
  {
    name: "XINFO CONSUMERS: inactive added in 7.2",
    since: "7.2.0",
    reason:
      "redis/redis#11099 (7.2.0, src/t_stream.c xinfoCommand): each consumer answers name, pending, idle and inactive (ms since its last " +
      "successful read or claim, -1 for none); before, name, pending and idle. Forgiven only when each of Flaredis's consumers is Redis's " +
      "with an integer inactive after idle: that pair is dropped, and Redis's idle taken (7.0 counts idle from the last read or " +
      "claim that reached the consumer, and from a CREATECONSUMER of an existing one).",
    normalize: (command, redis, flaredis) => {
      if (!isXinfo(command, "CONSUMERS") || !Array.isArray(redis) || !Array.isArray(flaredis) || redis.length !== flaredis.length) return [redis, flaredis];
      const inactive = (c: Reply | undefined) =>
        Array.isArray(c) && c.length === 8 && is(c[4]!, "idle") && is(c[6]!, "inactive") && typeof c[7] === "bigint";
      if (!flaredis.every((c, i) => inactive(c) && Array.isArray(redis[i]) && redis[i].length === 6)) return [redis, flaredis];
      // 7.0's idle counts from other events than 7.2's: from the last read or claim that reached
      // the consumer, and from a CREATECONSUMER of one that exists (7.2: from any read or claim
      // attempt, never from CREATECONSUMER). Redis's is taken: only name and pending are compared.
      return [redis, flaredis.map((c, i) => [...(c as Reply[]).slice(0, 5), (redis[i] as Reply[])[5]!])];
    },
  },
  {
    name: "XSETID below the stream's max-deleted-entry-id: accepted before 7.2, refused since",
    since: "7.2.0",
    reason:
      "redis/redis#11444 (7.2.0, src/t_stream.c xsetidCommand): \"ERR The ID specified in XSETID is smaller than current " +
      "max_deleted_entry_id\" is checked first; before, such an ID was taken where it was not below the last entry, so the streams' " +
      "last IDs would part: not generated against an older reference.",
    unavailable: (command) => commandName(command) === "XSETID",
  },
];

const RADIX_FIELDS = ["radix-tree-keys", "radix-tree-nodes"];
const isXinfo = (c: Command, sub: string) => commandName(c) === "XINFO" && c[1] !== undefined && argText(c[1]).toUpperCase() === sub;

/** A flat field-value reply without the named fields whose value is an integer (the same reply when it has none). */
function withoutFields(reply: Reply, names: readonly string[]): Reply {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) return reply;
  const drop = (i: number) => Buffer.isBuffer(reply[i]) && names.includes(reply[i].toString()) && typeof reply[i + 1] === "bigint";
  if (!reply.some((_, i) => i % 2 === 0 && drop(i))) return reply;
  return reply.filter((_, i) => !(i % 2 === 0 ? drop(i) : drop(i - 1)));
}

/** Whether a cursor Redis 7.4 takes is one that no field cursor of Flaredis's can be (0x01, the field's bytes, a 2-byte check). */
function namesNoField(text: string): boolean {
  if (!cursorSince74(text)) return false;
  const digits = /([0-9]+)$/.exec(text)![1]!;
  const n = text.trimStart().startsWith("-") ? 2n ** 64n - BigInt(digits) : BigInt(digits);
  return n !== 0n && !/^1([0-9a-f]{2}){3,}$/.test(n.toString(16));
}

/** A range end strtod reads and fast_float does not: hexadecimal, or after leading spaces (an exclusive "(" first or not). */
function strtodOnly(a: Command[number]): boolean {
  return /^\(?([ \t\n\v\f\r]|[+-]?0[xX])/.test(argText(a));
}

/** `redis` with each string leaf that reads as the same double as Flaredis's in its place replaced by Flaredis's. */
function sameDoubles(redis: Reply, flaredis: Reply): Reply {
  if (Array.isArray(redis) && Array.isArray(flaredis)) return redis.map((r, i) => sameDoubles(r, flaredis[i] ?? null));
  const number = /^-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$/;
  if (Buffer.isBuffer(redis) && Buffer.isBuffer(flaredis) && number.test(redis.toString()) && number.test(flaredis.toString()))
    return Number(redis.toString()) === Number(flaredis.toString()) ? flaredis : redis;
  return redis;
}

/** Whether Redis before 7.4 takes a cursor (strtoul, base 10, no leading space, at most 64 bits). */
function cursorBefore74(text: string): boolean {
  const m = /^[+-]?([0-9]*)$/.exec(text);
  return m !== null && (text === "" || m[1] !== "") && BigInt(m[1] || "0") < 2n ** 64n;
}

/** Whether Redis 7.4 takes a cursor (string2ull: a non-negative int64, else strtoull's whole string). */
function cursorSince74(text: string): boolean {
  if (/^(0|-?[1-9][0-9]*)$/.test(text) && BigInt(text) < 0n && BigInt(text) >= -(2n ** 63n)) return false;
  const m = /^[ \t\n\v\f\r]*[+-]?([0-9]+)$/.exec(text);
  return m !== null && BigInt(m[1]!) < 2n ** 64n;
}

const HFE_74 = new Set(["HEXPIRE", "HPEXPIRE", "HEXPIREAT", "HPEXPIREAT", "HTTL", "HPTTL", "HEXPIRETIME", "HPEXPIRETIME", "HPERSIST"]);

/** The entries that apply to a reference of version `redisVersion`. */
export function differencesFor(redisVersion: string): KnownDifference[] {
  return KNOWN_DIFFERENCES.filter((d) =>
    d.until !== undefined ? compareVersions(redisVersion, d.until) >= 0 : d.since === "flaredis" || compareVersions(redisVersion, d.since!) < 0,
  );
}

/** Whether the reference runs `command` at all: no entry of `differences` marks it unavailable. */
export function runs(differences: readonly KnownDifference[], command: Command): boolean {
  return !differences.some((d) => d.unavailable?.(command));
}

/** How many replies each entry has forgiven in this process (for the summary of a run). */
export const forgivenCounts = new Map<string, number>();

/** The two replies as they are to be compared, every applicable entry applied. */
export function forgive(differences: readonly KnownDifference[], command: Command, redis: Reply, flaredis: Reply): [Reply, Reply] {
  let pair: [Reply, Reply] = [redis, flaredis];
  for (const d of differences) {
    if (!d.normalize) continue;
    const next = d.normalize(command, pair[0], pair[1]);
    if (next[0] !== pair[0] || next[1] !== pair[1]) forgivenCounts.set(d.name, (forgivenCounts.get(d.name) ?? 0) + 1);
    pair = next;
  }
  return pair;
}

export function compareVersions(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

const LONG_MAX = "9223372036854775807";
const LONG_MIN = "-9223372036854775808";
const isEncoding = (c: Command) => commandName(c) === "OBJECT" && String(c[1]).toUpperCase() === "ENCODING";
const INTEGER = /^(0|-?[1-9][0-9]{0,18})$/;
const isLong = (a: unknown) => typeof a === "string" && INTEGER.test(a) && BigInt(a) >= -(2n ** 63n) && BigInt(a) < 2n ** 63n;

/**
 * The error Redis 7.4 answers for BITCOUNT's or BITPOS's range arguments before it looks the key
 * up (bitcountCommand, bitposCommand), or null when they parse: the forgiven replies are exactly those.
 */
function badBitRange(command: Command): string | null {
  const name = commandName(command);
  const args = command.slice(name === "BITCOUNT" ? 2 : 3);
  const syntax = "ERR syntax error";
  const notInteger = "ERR value is not an integer or out of range";
  const unit = (a: unknown) => typeof a === "string" && ["bit", "byte"].includes(a.toLowerCase());
  if (name === "BITCOUNT") {
    if (args.length === 0) return null;
    if (args.length !== 2 && args.length !== 3) return syntax;
    if (!isLong(args[0]) || !isLong(args[1])) return notInteger;
    return args.length === 3 && !unit(args[2]) ? syntax : null;
  }
  if (args.length > 3) return syntax;
  if (args.length >= 1 && !isLong(args[0])) return notInteger;
  if (args.length === 3 && !unit(args[2])) return syntax;
  if (args.length >= 2 && !isLong(args[1])) return notInteger;
  return null;
}

const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? `${v}n` : v);
const is = (r: Reply, text: string) => Buffer.isBuffer(r) && r.toString() === text;

const hasWord = (c: Command, word: string) => c.some((a, i) => i > 0 && typeof a === "string" && a.toUpperCase() === word);

/**
 * Pairs of score leaves at the same place in both replies: where each command's RESP2 reply
 * carries a double (a flat member-score array with WITHSCORES, ZMPOP's nested pairs…).
 */
function collectScores(command: Command, redis: Reply, flaredis: Reply, out: [Buffer, Buffer][]): void {
  const name = commandName(command);
  const leaf = (r: Reply, f: Reply) => {
    if (Buffer.isBuffer(r) && Buffer.isBuffer(f)) out.push([r, f]);
  };
  const oddOf = (r: Reply, f: Reply) => {
    if (Array.isArray(r) && Array.isArray(f)) for (let i = 1; i < Math.min(r.length, f.length); i += 2) leaf(r[i]!, f[i]!);
  };
  if (isError(redis) || isError(flaredis)) return;
  if (name === "ZSCORE" || name === "ZINCRBY" || (name === "ZADD" && hasWord(command, "INCR"))) leaf(redis, flaredis);
  else if (name === "ZMSCORE" && Array.isArray(redis) && Array.isArray(flaredis)) redis.forEach((r, i) => leaf(r, flaredis[i] ?? null));
  else if (["ZPOPMIN", "ZPOPMAX"].includes(name) || (hasWord(command, "WITHSCORES") && /^Z(REV)?RANGE|^Z(UNION|INTER|DIFF|RANDMEMBER)$/.test(name))) oddOf(redis, flaredis);
  else if ((name === "ZRANK" || name === "ZREVRANK") && Array.isArray(redis) && Array.isArray(flaredis)) leaf(redis[1] ?? null, flaredis[1] ?? null);
  else if ((name === "BZPOPMIN" || name === "BZPOPMAX") && Array.isArray(redis) && Array.isArray(flaredis)) leaf(redis[2] ?? null, flaredis[2] ?? null);
  else if (name === "ZSCAN" && Array.isArray(redis) && Array.isArray(flaredis)) oddOf(redis[1] ?? null, flaredis[1] ?? null);
  else if ((name === "ZMPOP" || name === "BZMPOP") && Array.isArray(redis) && Array.isArray(flaredis)) {
    const [r, f] = [redis[1], flaredis[1]];
    if (Array.isArray(r) && Array.isArray(f))
      r.forEach((pair, i) => {
        const other = f[i];
        if (Array.isArray(pair) && Array.isArray(other)) leaf(pair[1] ?? null, other[1] ?? null);
      });
  }
}

/** The reply with the given leaves (by identity) replaced. */
function replaceLeaves(r: Reply, by: Map<Buffer, Buffer>): Reply {
  if (Buffer.isBuffer(r)) return by.get(r) ?? r;
  if (Array.isArray(r)) return r.map((x) => replaceLeaves(x, by));
  return r;
}

const DOUBLE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function parseDouble(text: string): number | undefined {
  if (text === "inf") return Infinity;
  if (text === "-inf") return -Infinity;
  return DOUBLE.test(text) ? Number(text) : undefined;
}

/** Redis 7.0 printed `redis` (%.17g) and 7.2 prints `flaredis` (d2string) for one and the same double. */
export function isVersionFormatPair(redis: string, flaredis: string): boolean {
  const x = parseDouble(flaredis);
  return x !== undefined && redis === printf17g(x) && flaredis === d2string72(x);
}

/** C's printf("%.17g", x) (glibc; "inf" and "-inf" as Redis writes them). */
export function printf17g(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mantissa, e] = x.toExponential(16).split("e") as [string, string];
  const exp = Number(e);
  const trim = (t: string) => (t.includes(".") ? t.replace(/0+$/, "").replace(/\.$/, "") : t);
  if (exp < -4 || exp >= 17) return `${trim(mantissa)}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return trim(x.toFixed(16 - exp));
}

/**
 * Redis 7.2's d2string(): "-0", an integral double within ±2^62 (double2ll) as an integer, else
 * fpconv_dtoa's digits (the shortest that round-trip, as JavaScript's) laid out by its emit_digits().
 */
export function d2string72(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  if (Number.isInteger(x) && Math.abs(x) <= 2 ** 62) return BigInt(x).toString();
  const [mantissa, e] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const n = digits.length;
  const K = Number(e) - (n - 1);
  const exp = Math.abs(K + n - 1);
  const sign = x < 0 ? "-" : "";
  if (K >= 0 && exp < n + 7) return sign + digits + "0".repeat(K);
  if (K < 0 && (K > -7 || exp < 4)) {
    const offset = n - Math.abs(K);
    return sign + (offset <= 0 ? `0.${"0".repeat(-offset)}${digits}` : `${digits.slice(0, offset)}.${digits.slice(offset)}`);
  }
  return `${sign}${digits[0]}${n > 1 ? `.${digits.slice(1)}` : ""}e${K + n - 1 < 0 ? "-" : "+"}${exp}`;
}
