import { Options } from "../args";
import { toBytes } from "../bytes";
import { type Context, OK, type Reply, defineCommand, key } from "../command";
import { errors } from "../errors";
import { type Expiry, deadline, expiryOption, isExpiryOption } from "../expiry";

/** SET's options, parsed once: NX with XX, or two expiries, cannot be represented. */
export interface SetArgs {
  readonly key: string;
  readonly value: string;
  readonly condition: "NX" | "XX" | null;
  readonly get: boolean;
  readonly expiry: Expiry;
}

export function parseSet([k, value, ...rest]: readonly string[]): SetArgs {
  let condition: SetArgs["condition"] = null;
  let get = false;
  let expiry: Expiry = { kind: "none" };
  const options = new Options(rest);
  while (!options.done) {
    const o = options.next();
    if ((o === "NX" || o === "XX") && condition === null) condition = o;
    else if (o === "GET" && !get) get = true;
    else if (o === "KEEPTTL" && expiry.kind === "none") expiry = { kind: "keep" };
    else if (isExpiryOption(o) && expiry.kind === "none") expiry = expiryOption(o, options.value(), "set");
    else throw errors.syntax();
  }
  return { key: k!, value: value!, condition, get, expiry };
}

/** The whole of SET, shared with SETNX, SETEX, PSETEX and GETSET. */
export function runSet({ db, now }: Context, a: SetArgs): Reply {
  // Only SET ... GET reads: it alone counts a keyspace hit or miss, as in Redis.
  const old = a.get ? db.lookup(a.key) : db.get(a.key);
  if (a.get && old !== null && old.type !== "string") throw errors.wrongType();
  const previous = a.get ? (old?.value ?? null) : OK;
  if ((a.condition === "NX" && old !== null) || (a.condition === "XX" && old === null)) return a.get ? previous : null;
  db.setString(a.key, toBytes(a.value), deadline(a.expiry, now, old?.expiresAt ?? null));
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
