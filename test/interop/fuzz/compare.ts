/**
 * When two replies to the same command count as the same: exactly, once the known version
 * differences are forgiven, except where Redis itself leaves something open — the order of a
 * set-like reply, a TTL's last digits (each side started counting a few ms apart), a stream's idle
 * times (the same), and a random pick (compared by shape, and checked against the collection it
 * was picked from).
 */
import { sortOrderOpen } from "./catalog-sort.ts";
import { type KnownDifference, forgive } from "./known-differences.ts";
import { type Command, type Reply, argText, commandName, equal, isError, kindOf, render, replyOrder, unscripted } from "./reply.ts";

/** Replies whose element order Redis leaves unspecified: compared sorted. */
const UNORDERED = new Set(["KEYS", "SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS"]);
/** Replies that are flat field-value arrays of a hash: compared as sorted pairs. */
const UNORDERED_PAIRS = new Set(["HGETALL"]);
/** Positive replies that depend on when each side ran: allowed to differ by this much. */
const TIME_TOLERANCE: Record<string, bigint> = { TTL: 2n, EXPIRETIME: 2n, PTTL: 2000n, PEXPIRETIME: 2000n, HTTL: 2n, HEXPIRETIME: 2n, HPTTL: 2000n, HPEXPIRETIME: 2000n };
/** Replies that are deadlines (unix time), not durations. */
/** Where a script raised an error (Redis 7's suffix). */
const SCRIPT_AT = / script: [0-9a-f]{40}, on @user_script:\d+\.$/;
const DEADLINES = new Set(["EXPIRETIME", "PEXPIRETIME", "HEXPIRETIME", "HPEXPIRETIME"]);
/** How far two idle times (ms) inside a stream reply may be apart: PTTL's tolerance. */
const IDLE_TOLERANCE_MS = 2000n;
/** What stands in an idle time's place while the rest of a stream reply is compared exactly. */
const IDLE = Buffer.from("(an idle time)");

/**
 * The stream replies that carry idle times (ms since a pending entry's delivery, since a
 * consumer was seen or active): XPENDING's extended form (each entry's third element) and XINFO
 * CONSUMERS (the values of `idle` and `inactive`). `take` is given each and returns what stands
 * in its place; undefined for any other command.
 */
function streamIdleTimes(command: Command, reply: Reply, take: (ms: Reply) => Reply): Reply | undefined {
  const name = commandName(command);
  const sub = name === "XINFO" && command[1] !== undefined ? argText(command[1]).toUpperCase() : "";
  if (!(name === "XPENDING" && command.length > 3) && sub !== "CONSUMERS") return undefined;
  if (!Array.isArray(reply)) return reply;
  if (name === "XPENDING") return reply.map((e) => (Array.isArray(e) && e.length === 4 ? [e[0]!, e[1]!, take(e[2]!), e[3]!] : e));
  const timed = (x: Reply | undefined) => Buffer.isBuffer(x) && ["idle", "inactive"].includes(x.toString());
  return reply.map((c) => (Array.isArray(c) ? c.map((x, i) => (i % 2 === 1 && timed(c[i - 1]) ? take(x) : x)) : c));
}

/**
 * How Redis's replies were timed against Flaredis's when they were not taken side by side (a
 * recorded transcript, transcript.ts): `driftMs`, how much further the replay has run since its
 * start than the recording had at the same command; `shiftMs`, the time between the two starts.
 */
export interface Skew {
  readonly driftMs: number;
  readonly shiftMs: number;
}

/**
 * Why the replies differ, or null when they count as the same. With a `skew`, a time may be off
 * by the drift more, and either as recorded or moved by the shift: a deadline set by a relative
 * TTL moved with the clock (one given as a unix time did not), a duration to a deadline given as
 * a unix time is shorter by it (one set by a relative TTL is not).
 */
export function differs(differences: readonly KnownDifference[], command: Command, redis: Reply, flaredis: Reply, skew?: Skew): string | null {
  // A command run by redis.call or redis.pcall (a scripted program) answers as it does alone.
  const scripted = unscripted(command);
  if (scripted && scripted.via < 2) {
    // redis.call raises a command's error, which then names the script and line: the same on both sides.
    const where = (x: Reply) => (isError(x) ? (SCRIPT_AT.exec(x.error)?.[0] ?? "") : "");
    if (isError(redis) && isError(flaredis) && where(redis) !== where(flaredis)) return describe(redis, flaredis);
    const bare = (x: Reply): Reply => (isError(x) ? { error: x.error.replace(SCRIPT_AT, "") } : x);
    return differs(differences, scripted.inner, bare(redis), bare(flaredis), skew);
  }
  // The reply as cjson encoded it: when the texts differ, compared as the replies they encode (a known difference may forgive them).
  if (scripted && !equal(redis, flaredis)) {
    const [r, f] = [fromCjson(redis), fromCjson(flaredis)];
    if (r !== undefined && f !== undefined) return differs(differences, scripted.inner, r, f, skew) === null ? null : describe(redis, flaredis);
  }
  const [r, f] = forgive(differences, command, redis, flaredis);
  if (isError(r) || isError(f)) return equal(r, f) ? null : describe(redis, flaredis);
  const name = commandName(command);
  if (UNORDERED.has(name)) return equal(sorted(r), sorted(f)) ? null : describe(redis, flaredis);
  if (UNORDERED_PAIRS.has(name)) return equal(sortedPairs(r), sortedPairs(f)) ? null : describe(redis, flaredis);
  // SORT where Redis leaves the order, and with LIMIT the choice, open: the same number of replies.
  if (sortOrderOpen(command) && Array.isArray(r) && Array.isArray(f)) return r.length === f.length ? null : `redis sorted ${r.length} replies, flaredis ${f.length}`;
  // Idle times inside a stream reply: the rest exactly, each time within PTTL's tolerance (a time
  // between two moments of the same run: the drift only, never the shift).
  const idle: [Reply[], Reply[]] = [[], []];
  const [rMasked, fMasked] = [streamIdleTimes(command, r, (x) => (idle[0].push(x), IDLE)), streamIdleTimes(command, f, (x) => (idle[1].push(x), IDLE))];
  if (rMasked !== undefined && fMasked !== undefined) {
    if (!equal(rMasked, fMasked)) return describe(redis, flaredis);
    const tolerance = IDLE_TOLERANCE_MS + BigInt(Math.ceil(Math.abs(skew?.driftMs ?? 0)));
    const close = (x: Reply, y: Reply | undefined) =>
      typeof x === "bigint" && typeof y === "bigint" && (x < 0n || y < 0n ? x === y : (x > y ? x - y : y - x) <= tolerance);
    if (idle[0].every((x, i) => close(x, idle[1][i]))) return null;
    const integers = idle[0].every((x, i) => typeof x === "bigint" && typeof idle[1][i] === "bigint");
    return `${describe(redis, flaredis)}${integers ? ` (an idle time beyond the ${tolerance} ms tolerance)` : ""}`;
  }
  const base = TIME_TOLERANCE[name];
  if (base !== undefined) {
    const unit = base === 2n ? 1000 : 1;
    const tolerance = base + BigInt(Math.ceil(Math.abs(skew?.driftMs ?? 0) / unit));
    // A deadline set by a relative TTL moved with the clock; a duration to one given as a unix time shrank.
    const shift = BigInt(Math.round((skew?.shiftMs ?? 0) / unit)) * (DEADLINES.has(name) ? 1n : -1n);
    const near = (x: bigint, y: bigint) => (x > y ? x - y : y - x) <= tolerance;
    const close = (x: Reply, y: Reply | undefined) =>
      typeof x === "bigint" && typeof y === "bigint" && (x < 0n || y < 0n ? x === y : near(x, y) || near(x + shift, y));
    const beyond = `${describe(redis, flaredis)} (beyond the ${tolerance} tolerance)`;
    if (typeof r === "bigint" && typeof f === "bigint" && r >= 0n && f >= 0n) return close(r, f) ? null : beyond;
    // A deadline per field (HTTL and its kin): each within the tolerance.
    if (Array.isArray(r) && Array.isArray(f) && r.length === f.length) return r.every((x, i) => close(x, f[i])) ? null : beyond;
  }
  return equal(r, f) ? null : describe(redis, flaredis);
}

function describe(redis: Reply, flaredis: Reply): string {
  return kindOf(redis) === kindOf(flaredis) ? `${kindOf(redis)} replies differ` : `redis answered ${kindOf(redis)}, flaredis ${kindOf(flaredis)}`;
}

/**
 * The reply a scripted command's cjson text encodes (`{redis.pcall(...)}`): an error table as the
 * error, a status table as its text, false as nil, numbers as integers; undefined if it is not one.
 */
function fromCjson(reply: Reply): Reply | undefined {
  if (!Buffer.isBuffer(reply)) return undefined;
  const back = (v: unknown): Reply => {
    if (v === false || v === null) return null;
    if (typeof v === "number") return BigInt(Math.trunc(v));
    if (typeof v === "string") return Buffer.from(v);
    if (Array.isArray(v)) return v.map(back);
    const t = v as { err?: string; ok?: string };
    if (typeof t.err === "string") return { error: t.err };
    if (typeof t.ok === "string") return Buffer.from(`\u0000status ${t.ok}`); // never equal to a bulk string
    return [];
  };
  try {
    const decoded = JSON.parse(reply.toString()) as unknown;
    return Array.isArray(decoded) && decoded.length <= 1 ? back(decoded[0] ?? null) : undefined;
  } catch {
    return undefined;
  }
}

/** A command whose replies are compared as they are: not unordered, not a time, not a SORT whose order is open. */
export function comparedExactly(command: Command): boolean {
  const name = commandName(command);
  return (
    !UNORDERED.has(name) &&
    !UNORDERED_PAIRS.has(name) &&
    TIME_TOLERANCE[name] === undefined &&
    !sortOrderOpen(command) &&
    streamIdleTimes(command, null, (x) => x) === undefined
  );
}

export function sorted(r: Reply): Reply {
  return Array.isArray(r) ? [...r].sort(replyOrder) : r;
}

export function sortedPairs(r: Reply): Reply {
  if (!Array.isArray(r)) return r;
  const pairs: Reply[] = [];
  for (let i = 0; i + 1 < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!]);
  return pairs.sort(replyOrder);
}

/**
 * A random pick (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, RANDOMKEY, SPOP): the same kind and size
 * as Redis's; each element one of the collection's, with its value or score when the reply
 * pairs them; distinct when Redis promises it (a count ≥ 0, SPOP). `population` is the
 * collection before the command (element → its value or score), when known (a single step).
 */
export function differsRandom(
  differences: readonly KnownDifference[],
  command: Command,
  redis: Reply,
  flaredis: Reply,
  population: Map<string, Reply> | undefined,
): string | null {
  if (isError(redis) || isError(flaredis) || redis === null || flaredis === null) return equal(redis, flaredis) ? null : describe(redis, flaredis);
  if (kindOf(redis) !== kindOf(flaredis)) return describe(redis, flaredis);
  const name = commandName(command);
  if (!Array.isArray(redis) || !Array.isArray(flaredis)) {
    if (population && !population.has(render(flaredis))) return `flaredis picked ${render(flaredis)}, which is not in the collection`;
    return null;
  }
  if (redis.length !== flaredis.length) return `redis picked ${redis.length} elements, flaredis ${flaredis.length}`;
  const paired = command.some((a, i) => i > 2 && typeof a === "string" && ["WITHSCORES", "WITHVALUES"].includes(a.toUpperCase()));
  const step = paired ? 2 : 1;
  const picked: string[] = [];
  for (let i = 0; i < flaredis.length; i += step) {
    const element = render(flaredis[i]!);
    picked.push(element);
    if (!population) continue;
    if (!population.has(element)) return `flaredis picked ${element}, which is not in the collection`;
    if (paired) {
      const expected = population.get(element)!;
      if (differs(differences, ["ZSCORE"], expected, flaredis[i + 1]!) !== null) return `flaredis paired ${element} with ${render(flaredis[i + 1]!)}, not ${render(expected)}`;
    }
  }
  const count = command[2] === undefined ? undefined : Number(command[2]);
  const distinct = name === "SPOP" || (count !== undefined && count >= 0);
  if (distinct && new Set(picked).size !== picked.length) return `flaredis picked the same element twice: ${picked.join(", ")}`;
  return null;
}
