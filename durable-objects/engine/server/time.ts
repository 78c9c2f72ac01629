import { toBytes } from "../bytes";
import { defineCommand } from "../command";

/** TIME: [unix seconds, microseconds] @see https://redis.io/docs/latest/commands/time/ */
export default defineCommand({
  name: "time",
  arity: 1,
  flags: ["readonly"],
  keys: null,
  parse: () => null,
  run: ({ now }) => [toBytes(String(Math.floor(now / 1000))), toBytes(String((now % 1000) * 1000))],
});
