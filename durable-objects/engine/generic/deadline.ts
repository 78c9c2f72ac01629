/** What the EXPIRE and TTL command families share: their NX|XX|GT|LT, Redis's bounds, their answers. */
import { parseInt64 } from "../args";
import type { Context } from "../command";
import { RedisError, errors } from "../errors";
import { LLONG_MAX } from "../expiry";

/**
 * EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT's NX|XX|GT|LT, parsed once. XX may go with GT or LT; NX goes
 * with none of them, nor GT with LT.
 */
export interface ExpireArgs {
  readonly key: string;
  readonly amount: bigint;
  readonly nx: boolean;
  readonly xx: boolean;
  readonly gt: boolean;
  readonly lt: boolean;
}

export function parseExpireArgs(args: readonly string[]): ExpireArgs {
  const [key, amount, ...rest] = args as [string, string, ...string[]];
  const flags = { nx: false, xx: false, gt: false, lt: false };
  for (const r of rest) {
    const flag = r.toLowerCase();
    if (!(flag in flags)) throw new RedisError(`ERR Unsupported option ${r}`);
    flags[flag as keyof typeof flags] = true;
  }
  if (flags.nx && (flags.xx || flags.gt || flags.lt))
    throw new RedisError("ERR NX and XX, GT or LT options at the same time are not compatible");
  if (flags.gt && flags.lt) throw new RedisError("ERR GT and LT options at the same time are not compatible");
  return { key, amount: parseInt64(amount), ...flags };
}

/**
 * Sets the deadline of `key` under a condition. `unitMs` is 1000 for seconds; `absolute` for
 * EXPIREAT/PEXPIREAT. @returns 1 when the deadline was set (or the key deleted), else 0.
 */
export function expireKey(ctx: Context, name: string, a: ExpireArgs, unitMs: number, absolute: boolean): number {
  // Redis's bounds: the milliseconds, and the deadline, fit a long long (negative ones delete);
  // seconds are checked both ways, milliseconds only upwards (PEXPIRE k -9223372036854775808 deletes).
  const unit = BigInt(unitMs);
  if (a.amount > LLONG_MAX / unit || (unitMs > 1 && a.amount < (-LLONG_MAX - 1n) / unit)) throw errors.invalidExpire(name);
  const ms = a.amount * unit;
  const base = absolute ? 0n : BigInt(ctx.now);
  if (ms > LLONG_MAX - base) throw errors.invalidExpire(name);
  const at = ms + base;
  const entry = ctx.db.get(a.key);
  if (entry === null) return 0;
  const current = entry.expiresAt; // null: no TTL, which counts as infinite for GT/LT
  const next = Number(at);
  const allowed =
    (!a.nx || current === null) &&
    (!a.xx || current !== null) &&
    (!a.gt || (current !== null && next > current)) &&
    (!a.lt || current === null || next < current);
  if (!allowed) return 0;
  ctx.db.setDeadline(a.key, next);
  return 1;
}

/** TTL/PTTL/EXPIRETIME/PEXPIRETIME: -2 for a missing key, -1 without a deadline. */
export function timeToLive(ctx: Context, key: string, kind: "ttl" | "pttl" | "expiretime" | "pexpiretime"): number {
  const entry = ctx.db.lookup(key);
  if (entry === null) return -2;
  if (entry.expiresAt === null) return -1;
  const left = entry.expiresAt - ctx.now;
  switch (kind) {
    case "ttl":
      return Math.floor((left + 500) / 1000);
    case "pttl":
      return left;
    case "expiretime":
      return Math.floor(entry.expiresAt / 1000);
    case "pexpiretime":
      return entry.expiresAt;
  }
}
