import { parseInt64 } from "../../../args";
import { defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { type StreamId, U64_MAX, compareIds, nextId, parseAddId, parseId } from "../id";
import { dropReferences, stillNeeded } from "../groups";
import { Stream, idReply } from "../stream";

/** Redis's stream-node-max-entries: `~` trims at most 100 nodes' worth unless LIMIT says. */
const NODE_ENTRIES = 100;

/** XADD's and XTRIM's trimming options (streamAddTrimArgs). */
export interface TrimArgs {
  readonly strategy: { maxlen: number } | { minId: StreamId } | null;
  readonly approx: boolean;
  readonly limit: number;
  readonly noMkStream: boolean;
  /** Redis 8.2's KEEPREF (default), DELREF, ACKED: what trimming does about the groups' references. */
  readonly policy: RefPolicy;
  /** XADD: the position of the ID argument in `args` (after the key). */
  readonly idAt: number;
}

const incompatible = () => new RedisError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");

/**
 * Reads the options from `args[1]` (after the key) as streamParseAddOrTrimArgsOrReply does: for
 * XADD, up to the ID (the first argument that is not an option).
 */
export function parseTrimArgs(args: readonly string[], xadd: boolean): TrimArgs {
  let strategy: TrimArgs["strategy"] = null;
  let approx = false;
  let limit = 0;
  let limitGiven = false;
  let noMkStream = false;
  let policy: RefPolicy | null = null;
  let i = 1;
  for (; i < args.length; i++) {
    const more = args.length - 1 - i;
    const opt = args[i]!.toLowerCase();
    if (xadd && args[i] === "*") break;
    if ((opt === "maxlen" || opt === "minid") && more > 0) {
      if (strategy !== null) throw incompatible();
      approx = false;
      const next = args[i + 1]!;
      if (more >= 2 && (next === "~" || next === "=")) {
        approx = next === "~";
        i++;
      }
      if (opt === "maxlen") {
        const n = parseInt64(args[i + 1]!);
        if (n < 0n) throw new RedisError("ERR The MAXLEN argument must be >= 0.");
        strategy = { maxlen: Number(n) };
      } else strategy = { minId: parseId(args[i + 1]!, { strict: true }) };
      i++;
    } else if (opt === "limit" && more > 0) {
      const n = parseInt64(args[i + 1]!);
      if (n < 0n) throw new RedisError("ERR The LIMIT argument must be >= 0.");
      limit = Number(n);
      limitGiven = true;
      i++;
    } else if (xadd && opt === "nomkstream") noMkStream = true;
    else if (isRefPolicy(opt) && policy === null) policy = opt;
    else if (xadd) {
      parseAddId(args[i]!); // a syntax error, or the ID
      break;
    } else throw errors.syntax();
  }
  if (limit && strategy === null) throw new RedisError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
  if (!xadd && strategy === null) throw new RedisError("ERR syntax error, XTRIM must be called with a trimming strategy");
  if (limitGiven && !approx) throw new RedisError("ERR syntax error, LIMIT cannot be used without the special ~ option");
  if (!limitGiven && approx) limit = 100 * NODE_ENTRIES;
  return { strategy, approx, limit, noMkStream, idAt: i, policy: policy ?? "keepref" };
}

/**
 * Trims as XADD and XTRIM ask. `~` trims exactly too, but no more than LIMIT entries (Redis trims
 * whole nodes only, so it may leave more: both keep at least the threshold).
 */
export function trimStream(s: Stream, t: TrimArgs): number {
  if (t.strategy === null) return 0;
  const dropping = t.policy === "delref" ? (id: StreamId) => void dropReferences(s, id) : undefined;
  return s.trim(t.strategy, t.approx ? t.limit : 0, t.policy === "acked" ? stillNeeded(s) : undefined, dropping);
}

/** Redis 8.2's reference policies (XADD, XTRIM, XDELEX, XACKDEL), as lowercase words. */
export type RefPolicy = "keepref" | "delref" | "acked";
export const isRefPolicy = (word: string): word is RefPolicy => word === "keepref" || word === "delref" || word === "acked";

/**
 * XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
 * An ID from the clock (`*`: now's milliseconds, or the last ID's successor), an `ms-*`, or given.
 * @see https://redis.io/docs/latest/commands/xadd/
 */
export default defineCommand({
  name: "xadd",
  arity: -5,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: (args, name) => {
    const trim = parseTrimArgs(args, true);
    const fields = args.slice(trim.idAt + 1);
    if (fields.length < 2 || fields.length % 2 === 1) throw errors.arity(name);
    const given = args[trim.idAt] === "*" ? null : parseAddId(args[trim.idAt]!);
    if (given !== null && given.seq !== null && given.ms === 0n && given.seq === 0n) throw new RedisError("ERR The ID specified in XADD must be greater than 0-0");
    return { key: args[0]!, trim, given, fields };
  },
  run: ({ db, now }, a) => {
    let s = Stream.find(db, a.key, false);
    if (s === null) {
      if (a.trim.noMkStream) return null;
      s = Stream.create(db, a.key);
    }
    const last = s.meta.lastId;
    const successor = nextId(last);
    if (successor === null) throw new RedisError("ERR The stream has exhausted the last possible ID, unable to add more items");
    let id: StreamId;
    if (a.given === null) id = BigInt(now) > last.ms ? { ms: BigInt(now), seq: 0n } : successor;
    else if (a.given.seq !== null) id = { ms: a.given.ms, seq: a.given.seq };
    else if (a.given.ms === last.ms) {
      if (last.seq === U64_MAX) throw tooSmall();
      id = { ms: last.ms, seq: last.seq + 1n };
    } else id = { ms: a.given.ms, seq: 0n };
    if (compareIds(id, last) <= 0) throw tooSmall();
    s.append(id, a.fields);
    trimStream(s, a.trim);
    s.save();
    return idReply(id);
  },
});

const tooSmall = () => new RedisError("ERR The ID specified in XADD is equal or smaller than the target stream top item");

/**
 * XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] → the number of entries deleted.
 * @see https://redis.io/docs/latest/commands/xtrim/
 */
export const xtrim = defineCommand({
  name: "xtrim",
  arity: -4,
  flags: ["write"],
  keys: key(1),
  parse: (args) => ({ key: args[0]!, trim: parseTrimArgs(args, false) }),
  run: ({ db }, a) => {
    const s = Stream.find(db, a.key, false);
    if (s === null) return 0;
    const n = trimStream(s, a.trim);
    s.save();
    return n;
  },
});
