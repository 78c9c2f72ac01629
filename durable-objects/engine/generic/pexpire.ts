import { defineCommand, key } from "../command";
import { expireKey, parseExpireArgs } from "./deadline";

/** PEXPIRE key milliseconds [NX | XX | GT | LT] @see https://redis.io/docs/latest/commands/pexpire/ */
export default defineCommand({
  name: "pexpire",
  arity: -3,
  flags: ["write"],
  keys: key(1),
  parse: parseExpireArgs,
  run: (ctx, args) => expireKey(ctx, "pexpire", args, 1, false),
});
