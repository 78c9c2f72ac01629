import { defineCommand, key } from "../../../command";
import { type Expiry, expiryDeadline, parseStringOptions } from "../../../expiry";

interface GetExArgs {
  readonly key: string;
  readonly expiry: Expiry;
}

/**
 * GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST], in Redis's order: the options' syntax,
 * the key (nil when missing, WRONGTYPE), then the expiry's value.
 * @see https://redis.io/docs/latest/commands/getex/
 */
export default defineCommand<GetExArgs>({
  name: "getex",
  arity: -2,
  flags: ["write"],
  keys: key(1),
  parse: ([k, ...rest]) => ({ key: k!, expiry: parseStringOptions(rest, "getex").expiry }),
  run: ({ db, now }, a) => {
    const value = db.getString(a.key);
    if (value === null || a.expiry.kind === "keep") return value;
    // PERSIST of a key without a deadline changes nothing (Redis neither replicates nor notifies it).
    if (a.expiry.kind === "persist" && (db.peek(a.key)?.expiresAt ?? null) === null) return value;
    db.setDeadline(a.key, a.expiry.kind === "set" ? expiryDeadline(a.expiry, now) : null);
    return value;
  },
});
