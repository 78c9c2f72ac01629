import { toBytes } from "../bytes";
import { defineCommand } from "../command";
import { errors } from "../errors";

/** PING [message] @see https://redis.io/docs/latest/commands/ping/ */
export default defineCommand({
  name: "ping",
  arity: -1,
  flags: ["readonly"],
  keys: null,
  parse: (args) => {
    if (args.length > 1) throw errors.arity("ping");
    return args[0];
  },
  run: (_ctx, message) => (message === undefined ? "PONG" : toBytes(message)),
});
