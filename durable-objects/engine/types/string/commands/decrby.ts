import { parseInt64 } from "../../../args";
import { defineCommand, key } from "../../../command";
import { RedisError } from "../../../errors";
import { incrementBy } from "../writes";

/** DECRBY key decrement @see https://redis.io/docs/latest/commands/decrby/ */
export default defineCommand({
  name: "decrby",
  arity: 3,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, by]) => {
    const n = parseInt64(by!);
    if (n === -(2n ** 63n)) throw new RedisError("ERR decrement would overflow");
    return { key: k!, by: -n };
  },
  run: (ctx, a) => incrementBy(ctx, a.key, a.by),
});
