import { parseInt64 } from "../args";
import { defineCommand, key } from "../command";
import { RedisError, errors } from "../errors";

interface CopyArgs {
  readonly from: string;
  readonly to: string;
  readonly replace: boolean;
}

/** COPY source destination [DB 0] [REPLACE] @see https://redis.io/docs/latest/commands/copy/ */
export default defineCommand<CopyArgs>({
  name: "copy",
  arity: -3,
  flags: ["write", "denyoom"],
  keys: key(1, 2),
  parse: ([from, to, ...rest]) => {
    let replace = false;
    for (let i = 0; i < rest.length; i++) {
      const option = rest[i]!.toUpperCase();
      if (option === "REPLACE") replace = true;
      else if (option === "DB" && i + 1 < rest.length) {
        // Redis's getIntFromObjectOrReply, then its database check: Flaredis has one database, 0.
        const id = parseInt64(rest[++i]!);
        if (id < -(2n ** 31n) || id >= 2n ** 31n) throw new RedisError("ERR value is out of range, value must between -2147483648 and 2147483647");
        if (id !== 0n) throw new RedisError("ERR DB index is out of range");
      } else throw errors.syntax();
    }
    if (from === to) throw new RedisError("ERR source and destination objects are the same");
    return { from: from!, to: to!, replace };
  },
  run: ({ db, server }, { from, to, replace }) => {
    if (!db.exists(from)) return 0;
    if (db.exists(to)) {
      if (!replace) return 0;
      db.delete(to);
    }
    db.copy(from, to, server.compactEffects());
    return 1;
  },
});
