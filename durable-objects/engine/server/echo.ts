import { toBytes } from "../bytes";
import { defineCommand } from "../command";

/** ECHO message @see https://redis.io/docs/latest/commands/echo/ */
export default defineCommand({
  name: "echo",
  arity: 2,
  flags: ["readonly"],
  keys: null,
  parse: ([message]) => message!,
  run: (_ctx, message) => toBytes(message),
});
