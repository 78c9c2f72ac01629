/**
 * Hash-field expiry (Redis 7.4): HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT, HTTL, HPTTL,
 * HEXPIRETIME, HPEXPIRETIME and HPERSIST, each checked in the order of Redis's t_hash.c: the key's
 * type first, then the time, the condition, FIELDS and its count.
 */
import { LONG_MAX, long, parseInt64 } from "../../../args";
import { type Flag, type Reply, defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { type DeadlineCondition, Hash, NO_FIELD } from "../hash";

/** The latest deadline a field may have (Redis's HFE_MAX_ABS_TIME_MSEC: 48 bits, shifted right by 2). */
export const MAX_FIELD_DEADLINE = 70_368_744_177_663;

/** Redis's check of `FIELDS numfields field ...` from `at` (the word FIELDS): the fields, or its error. */
export function fieldsAt(args: readonly string[], at: number, countMessage: string): string[] {
  if (args[at]?.toUpperCase() !== "FIELDS") throw new RedisError("ERR Mandatory argument FIELDS is missing or not at the right position");
  const n = long(args[at + 1] ?? "", 1n, LONG_MAX, countMessage);
  if (n !== args.length - at - 2) throw new RedisError("ERR The `numfields` parameter must match the number of arguments");
  return args.slice(at + 2);
}

/**
 * A field deadline as HEXPIRE's time or HGETEX's and HSETEX's EX/PX/EXAT/PXAT reads it (Redis's
 * parseExpireTime): a non-negative integer of seconds or ms, plus `base` (now, or 0 for the *AT
 * forms), at most MAX_FIELD_DEADLINE. @throws ERR invalid expire time
 */
export function fieldDeadline(value: string, seconds: boolean, base: number, command: string): number {
  const n = parseInt64(value);
  if (n < 0n) throw new RedisError("ERR invalid expire time, must be >= 0");
  const max = BigInt(MAX_FIELD_DEADLINE);
  if (seconds && n > max / 1000n) throw errors.invalidExpire(command);
  const ms = seconds ? n * 1000n : n;
  if (ms > max - BigInt(base)) throw errors.invalidExpire(command);
  return Number(ms) + base;
}

/** The deadline HGETEX's and HSETEX's EX, PX (from `now`), EXAT or PXAT (absolute) `value` names. */
export function optionDeadline(option: string, value: string, now: number, command: string): number {
  return fieldDeadline(value, option === "EX" || option === "EXAT", option === "EX" || option === "PX" ? now : 0, command);
}

interface ExpireArgs {
  readonly key: string;
  readonly rest: readonly string[];
}

/** HEXPIRE and its kin: `seconds` when the time is in seconds, `relative` when it counts from now. */
function expireCommand(name: string, seconds: boolean, relative: boolean) {
  return defineCommand<ExpireArgs>({
    name,
    arity: -6,
    flags: ["write", "denyoom"],
    keys: key(1),
    parse: ([k, ...rest]) => ({ key: k!, rest }),
    run: ({ db, now }, { key: k, rest }) => {
      const hash = Hash.find(db, k, false);
      const at = fieldDeadline(rest[0]!, seconds, relative ? now : 0, name);
      const option = rest[1]!.toUpperCase();
      const condition = (["NX", "XX", "GT", "LT"].includes(option) ? option : null) as DeadlineCondition;
      const fields = fieldsAt(rest, condition === null ? 1 : 2, "Parameter `numFields` should be greater than 0");
      if (hash === null) return fields.map(() => NO_FIELD);
      return hash.expire(fields, at, condition);
    },
  });
}

/** HEXPIRE key seconds [NX | XX | GT | LT] FIELDS numfields field ... @see https://redis.io/docs/latest/commands/hexpire/ */
export const hexpire = expireCommand("hexpire", true, true);
/** HPEXPIRE key milliseconds [NX | XX | GT | LT] FIELDS numfields field ... */
export const hpexpire = expireCommand("hpexpire", false, true);
/** HEXPIREAT key unix-time-seconds [NX | XX | GT | LT] FIELDS numfields field ... */
export const hexpireat = expireCommand("hexpireat", true, false);
/** HPEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT] FIELDS numfields field ... */
export const hpexpireat = expireCommand("hpexpireat", false, false);

/**
 * A command of the shape `NAME key FIELDS numfields field ...` (HTTL and its kin, HPERSIST, HGETDEL):
 * the key's type checked first, then FIELDS; a missing hash answers `missing` per field.
 */
export function fieldsCommand(name: string, flags: Flag[], missing: Reply, run: (hash: Hash, fields: string[], now: number) => Reply) {
  return defineCommand<ExpireArgs>({
    name,
    arity: -5,
    flags,
    keys: key(1),
    parse: ([k, ...rest]) => ({ key: k!, rest }),
    run: ({ db, now }, { key: k, rest }) => {
      // A read counts a keyspace hit or miss; a write looks the key up as Redis's lookupKeyWrite.
      const hash = Hash.find(db, k, flags.includes("readonly"));
      const fields = fieldsAt(rest, 0, "Number of fields must be a positive integer");
      return hash === null ? fields.map(() => missing) : run(hash, fields, now);
    },
  });
}

/** HTTL and its kin: each field's deadline as `reply` gives it (-1 without one, -2 for none). */
const ttlCommand = (name: string, reply: (deadline: number, now: number) => number) =>
  fieldsCommand(name, ["readonly"], NO_FIELD, (hash, fields, now) => hash.deadlines(fields).map((d) => (d < 0 ? d : reply(d, now))));

/** HTTL key FIELDS numfields field ...: seconds left, rounded up. @see https://redis.io/docs/latest/commands/httl/ */
export const httl = ttlCommand("httl", (d, now) => Math.floor((d + 999 - now) / 1000));
/** HPTTL key FIELDS numfields field ...: milliseconds left. */
export const hpttl = ttlCommand("hpttl", (d, now) => d - now);
/** HEXPIRETIME key FIELDS numfields field ...: the deadline in unix seconds, rounded up (as Redis computes it). */
export const hexpiretime = ttlCommand("hexpiretime", (d) => Math.floor((d + 999) / 1000));
/** HPEXPIRETIME key FIELDS numfields field ...: the deadline in unix milliseconds. */
export const hpexpiretime = ttlCommand("hpexpiretime", (d) => d);

/** HPERSIST key FIELDS numfields field ...: 1 where a deadline was removed, -1 where none was, -2 for no field. */
export const hpersist = fieldsCommand("hpersist", ["write"], NO_FIELD, (hash, fields) => hash.persist(fields));
