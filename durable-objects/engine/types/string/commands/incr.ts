import { defineCommand, key } from "../../../command";
import { incrementBy } from "../writes";

/** INCR key @see https://redis.io/docs/latest/commands/incr/ */
export default defineCommand({
  name: "incr",
  arity: 2,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k]) => k!,
  run: (ctx, k) => incrementBy(ctx, k, 1n),
});
