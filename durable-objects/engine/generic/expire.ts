import { defineCommand, key } from "../command";
import { expireKey, parseExpireArgs } from "./deadline";

/** EXPIRE key seconds [NX | XX | GT | LT] @see https://redis.io/docs/latest/commands/expire/ */
export default defineCommand({
  name: "expire",
  arity: -3,
  flags: ["write"],
  keys: key(1),
  parse: parseExpireArgs,
  run: (ctx, args) => expireKey(ctx, "expire", args, 1000, false),
});
