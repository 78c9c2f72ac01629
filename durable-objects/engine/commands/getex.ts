import { Options } from "../args";
import { defineCommand, key } from "../command";
import { errors } from "../errors";
import { type Expiry, deadline, expiryOption, isExpiryOption } from "../expiry";

interface GetExArgs {
  readonly key: string;
  readonly expiry: Expiry;
}

/** GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST] @see https://redis.io/docs/latest/commands/getex/ */
export default defineCommand<GetExArgs>({
  name: "getex",
  arity: -2,
  flags: ["write"],
  keys: key(1),
  parse: ([k, ...rest]) => {
    let expiry: Expiry = { kind: "keep" };
    const options = new Options(rest);
    while (!options.done) {
      const o = options.next();
      if (expiry.kind !== "keep") throw errors.syntax();
      if (o === "PERSIST") expiry = { kind: "persist" };
      else if (isExpiryOption(o)) expiry = expiryOption(o, options.value(), "getex");
      else throw errors.syntax();
    }
    return { key: k!, expiry };
  },
  run: ({ db, now }, a) => {
    const value = db.getString(a.key);
    if (value === null || a.expiry.kind === "keep") return value;
    db.setDeadline(a.key, deadline(a.expiry, now, null));
    return value;
  },
});
