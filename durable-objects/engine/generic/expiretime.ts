import { defineCommand, key } from "../command";
import { timeToLive } from "./deadline";

/** EXPIRETIME key, unix seconds; -2 for a missing key, -1 for a key without TTL. @see https://redis.io/docs/latest/commands/expiretime/ */
export default defineCommand({
  name: "expiretime",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: (ctx, k) => timeToLive(ctx, k, "expiretime"),
});
