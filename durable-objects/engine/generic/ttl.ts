import { defineCommand, key } from "../command";
import { timeToLive } from "./deadline";

/** TTL key, in seconds; -2 for a missing key, -1 for a key without TTL. @see https://redis.io/docs/latest/commands/ttl/ */
export default defineCommand({
  name: "ttl",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: (ctx, k) => timeToLive(ctx, k, "ttl"),
});
