/**
 * Stream entry IDs (Redis's streamID): two unsigned 64-bit numbers, milliseconds and sequence,
 * written `ms-seq`. Held as bigints; stored as 16 bytes, big-endian, so that byte order (the
 * element store's) is ID order.
 */
import { RedisError } from "../../errors";

export interface StreamId {
  readonly ms: bigint;
  readonly seq: bigint;
}

export const U64_MAX = 2n ** 64n - 1n;
export const ZERO_ID: StreamId = { ms: 0n, seq: 0n };
export const MAX_ID: StreamId = { ms: U64_MAX, seq: U64_MAX };

export const invalidId = () => new RedisError("ERR Invalid stream ID specified as stream command argument");

export const compareIds = (a: StreamId, b: StreamId): number => (a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0);
export const isZero = (id: StreamId): boolean => id.ms === 0n && id.seq === 0n;
export const formatId = (id: StreamId): string => `${id.ms}-${id.seq}`;

/** The ID after `id`, or null past the last one (streamIncrID's C_ERR). */
export function nextId(id: StreamId): StreamId | null {
  if (id.seq < U64_MAX) return { ms: id.ms, seq: id.seq + 1n };
  return id.ms < U64_MAX ? { ms: id.ms + 1n, seq: 0n } : null;
}

/** The ID before `id`, or null before 0-0 (streamDecrID's C_ERR). */
export function previousId(id: StreamId): StreamId | null {
  if (id.seq > 0n) return { ms: id.ms, seq: id.seq - 1n };
  return id.ms > 0n ? { ms: id.ms - 1n, seq: U64_MAX } : null;
}

const SPACE = "[ \\t\\n\\v\\f\\r]*";
const STRTOULL = new RegExp(`^${SPACE}([+-]?)([0-9]+)$`);

/**
 * Redis's string2ull: an integer as string2ll reads it when not negative, else as strtoull reads
 * it (leading spaces, a sign, leading zeros; a negative wraps round 2^64); null when neither does.
 */
function string2ull(s: string): bigint | null {
  if (/^(0|[1-9][0-9]*)$/.test(s)) {
    const n = BigInt(s);
    return n <= U64_MAX ? n : null;
  }
  if (/^-[1-9][0-9]*$/.test(s) && BigInt(s) >= -(2n ** 63n)) return null; // string2ll's negative
  const m = STRTOULL.exec(s);
  if (!m) return null;
  const n = BigInt(m[2]!);
  if (n > U64_MAX) return null; // ERANGE
  return m[1] === "-" ? (U64_MAX + 1n - n) % (U64_MAX + 1n) : n;
}

/** How an ID argument may be written: `-`/`+` allowed (ranges), and `ms-*` (XADD). */
export interface IdForm {
  readonly strict?: boolean;
  /** The sequence of an ID written as its milliseconds only. */
  readonly missingSeq?: bigint;
}

/**
 * Parses an ID argument as streamGenericParseIDOrReply does. `seqGiven` (XADD) accepts `ms-*`,
 * answered with `seq` null.
 * @throws ERR Invalid stream ID ...
 */
export function parseId(s: string, form: IdForm = {}): StreamId {
  const id = parseIdOrAuto(s, form, false);
  return { ms: id.ms, seq: id.seq! };
}

/** XADD's explicit ID: `seq` null for `ms-*`. */
export function parseAddId(s: string): { ms: bigint; seq: bigint | null } {
  return parseIdOrAuto(s, { strict: true }, true);
}

function parseIdOrAuto(s: string, form: IdForm, auto: boolean): { ms: bigint; seq: bigint | null } {
  if (s.length > 127) throw invalidId();
  if (s === "-" || s === "+") {
    if (form.strict) throw invalidId();
    return s === "-" ? ZERO_ID : MAX_ID;
  }
  const dash = s.indexOf("-");
  const ms = string2ull(dash < 0 ? s : s.slice(0, dash));
  if (ms === null) throw invalidId();
  if (dash < 0) return { ms, seq: form.missingSeq ?? 0n };
  const rest = s.slice(dash + 1);
  if (auto && rest === "*") return { ms, seq: null };
  const seq = string2ull(rest);
  if (seq === null) throw invalidId();
  return { ms, seq };
}

/**
 * A range end (XRANGE, XPENDING, XAUTOCLAIM): `(` makes it exclusive, moved to the next ID (a
 * start) or the previous one (an end).
 * @throws ERR invalid start ID for the interval / invalid end ID for the interval
 */
export function parseRangeId(s: string, end: boolean): StreamId {
  const exclusive = s.length > 1 && s[0] === "(";
  const id = exclusive ? parseId(s.slice(1), { strict: true, missingSeq: end ? U64_MAX : 0n }) : parseId(s, { missingSeq: end ? U64_MAX : 0n });
  if (!exclusive) return id;
  const moved = end ? previousId(id) : nextId(id);
  if (moved === null) throw new RedisError(`ERR invalid ${end ? "end" : "start"} ID for the interval`);
  return moved;
}

/** The 16 bytes of an ID, big-endian, as a binary string (one code unit per byte). */
export function idKey(id: StreamId): string {
  let out = "";
  for (const part of [id.ms, id.seq]) for (let shift = 56n; shift >= 0n; shift -= 8n) out += String.fromCharCode(Number((part >> shift) & 0xffn));
  return out;
}

/** The ID of 16 bytes written by `idKey`, from `at` in `s`. */
export function idFromKey(s: string, at = 0): StreamId {
  let ms = 0n;
  let seq = 0n;
  for (let i = 0; i < 8; i++) ms = (ms << 8n) | BigInt(s.charCodeAt(at + i));
  for (let i = 8; i < 16; i++) seq = (seq << 8n) | BigInt(s.charCodeAt(at + i));
  return { ms, seq };
}
