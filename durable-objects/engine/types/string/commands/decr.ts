import { defineCommand, key } from "../../../command";
import { incrementBy } from "../writes";

/** DECR key @see https://redis.io/docs/latest/commands/decr/ */
export default defineCommand({
  name: "decr",
  arity: 2,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k]) => k!,
  run: (ctx, k) => incrementBy(ctx, k, -1n),
});
