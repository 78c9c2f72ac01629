/** Logic that the counter and expiry command families share. */
import { parseInt64, storedInt64 } from "./args";
import { toBytes } from "./bytes";
import type { Context } from "./command";
import { RedisError, errors } from "./errors";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** INCRBY and its family: adds `delta` to the integer at `key`, keeping its TTL. */
export function incrementBy(ctx: Context, key: string, delta: bigint): number | bigint {
  const entry = ctx.db.lookup(key);
  if (entry !== null && entry.type !== "string") throw errors.wrongType();
  const current = storedInt64(entry?.value ?? null);
  const next = current + delta;
  if (next < INT64_MIN || next > INT64_MAX) throw errors.overflow();
  ctx.db.setString(key, toBytes(next.toString()), entry?.expiresAt ?? null);
  return Number.isSafeInteger(Number(next)) ? Number(next) : next;
}

/** EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT's NX|XX|GT|LT, parsed once. */
export type ExpireCondition = "NX" | "XX" | "GT" | "LT" | null;

export interface ExpireArgs {
  readonly key: string;
  readonly amount: bigint;
  readonly condition: ExpireCondition;
}

export function parseExpireArgs(args: readonly string[]): ExpireArgs {
  const [key, amount, ...rest] = args as [string, string, ...string[]];
  let condition: ExpireCondition = null;
  const seen = new Set(rest.map((r) => r.toUpperCase()));
  for (const r of rest) if (!["NX", "XX", "GT", "LT"].includes(r.toUpperCase())) throw new RedisError(`ERR Unsupported option ${r}`);
  if (seen.has("NX") && seen.size > 1)
    throw new RedisError("ERR NX and XX, GT or LT options at the same time are not compatible");
  if (seen.has("GT") && seen.has("LT")) throw new RedisError("ERR GT and LT options at the same time are not compatible");
  for (const c of ["NX", "XX", "GT", "LT"] as const) if (seen.has(c) && condition === null) condition = c;
  // XX may go with GT or LT; the stricter GT/LT decides, XX is implied by both for a volatile key.
  if (seen.has("XX") && (seen.has("GT") || seen.has("LT"))) condition = seen.has("GT") ? "GT" : "LT";
  return { key, amount: parseInt64(amount), condition };
}

/**
 * Sets the deadline of `key` under a condition. `unitMs` is 1000 for seconds; `absolute` for
 * EXPIREAT/PEXPIREAT. @returns 1 when the deadline was set (or the key deleted), else 0.
 */
export function expireKey(ctx: Context, name: string, a: ExpireArgs, unitMs: number, absolute: boolean): number {
  const ms = a.amount * BigInt(unitMs);
  const at = absolute ? ms : ms + BigInt(ctx.now);
  if (ms > BigInt(Number.MAX_SAFE_INTEGER) || ms < -BigInt(Number.MAX_SAFE_INTEGER) || at > BigInt(Number.MAX_SAFE_INTEGER))
    throw errors.invalidExpire(name);
  const entry = ctx.db.get(a.key);
  if (entry === null) return 0;
  const current = entry.expiresAt; // null: no TTL, which counts as infinite for GT/LT
  const next = Number(at);
  const allowed =
    a.condition === null ||
    (a.condition === "NX" && current === null) ||
    (a.condition === "XX" && current !== null) ||
    (a.condition === "GT" && current !== null && next > current) ||
    (a.condition === "LT" && (current === null || next < current));
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
