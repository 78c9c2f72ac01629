import { toBytes } from "../../../bytes";
import { type Context, OK, type Reply, defineCommand, key } from "../../../command";
import { errors } from "../../../errors";
import { type StringOptions, expiryDeadline, parseStringOptions } from "../../../expiry";
import { setString } from "../writes";

/** SET's arguments, the options as Redis reads them (expiry.ts). */
export interface SetArgs extends StringOptions {
  readonly key: string;
  readonly value: string;
}

export const parseSet = ([k, value, ...rest]: readonly string[]): SetArgs => ({ key: k!, value: value!, ...parseStringOptions(rest, "set") });

/**
 * The whole of SET, shared with SETNX, SETEX, PSETEX and GETSET, in Redis's order: the expiry's
 * value, then GET's type check, then NX/XX.
 */
export function runSet({ db, now }: Context, a: SetArgs): Reply {
  const expiry = a.expiry;
  const at = expiry.kind === "set" ? expiryDeadline(expiry, now) : null;
  // Only SET ... GET reads: it alone counts a keyspace hit or miss, as in Redis.
  const old = a.get ? db.lookup(a.key) : db.get(a.key);
  if (a.get && old !== null && old.type !== "string") throw errors.wrongType();
  const previous = a.get ? (old === null ? null : db.stringValue(old)) : OK;
  if ((a.condition === "NX" && old !== null) || (a.condition === "XX" && old === null)) return a.get ? previous : null;
  setString(db, a.key, toBytes(a.value), expiry.kind === "keep" ? (old?.expiresAt ?? null) : at);
  return previous;
}

/** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL] @see https://redis.io/docs/latest/commands/set/ */
export default defineCommand<SetArgs>({
  name: "set",
  arity: -3,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: parseSet,
  run: runSet,
});
