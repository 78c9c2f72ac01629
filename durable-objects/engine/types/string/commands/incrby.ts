import { parseInt64 } from "../../../args";
import { defineCommand, key } from "../../../command";
import { incrementBy } from "../writes";

/** INCRBY key increment @see https://redis.io/docs/latest/commands/incrby/ */
export default defineCommand({
  name: "incrby",
  arity: 3,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, by]) => ({ key: k!, by: parseInt64(by!) }),
  run: (ctx, a) => incrementBy(ctx, a.key, a.by),
});
