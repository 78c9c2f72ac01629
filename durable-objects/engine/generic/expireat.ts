import { defineCommand, key } from "../command";
import { expireKey, parseExpireArgs } from "./deadline";

/** EXPIREAT key unix-time-seconds [NX | XX | GT | LT] @see https://redis.io/docs/latest/commands/expireat/ */
export default defineCommand({
  name: "expireat",
  arity: -3,
  flags: ["write"],
  keys: key(1),
  parse: parseExpireArgs,
  run: (ctx, args) => expireKey(ctx, "expireat", args, 1000, true),
});
