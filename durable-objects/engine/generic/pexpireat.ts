import { defineCommand, key } from "../command";
import { expireKey, parseExpireArgs } from "./deadline";

/** PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT] @see https://redis.io/docs/latest/commands/pexpireat/ */
export default defineCommand({
  name: "pexpireat",
  arity: -3,
  flags: ["write"],
  keys: key(1),
  parse: parseExpireArgs,
  run: (ctx, args) => expireKey(ctx, "pexpireat", args, 1, true),
});
