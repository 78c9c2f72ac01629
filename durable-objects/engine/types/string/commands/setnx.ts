import { defineCommand, key } from "../../../command";
import { runSet } from "./set";

/** SETNX key value: 1 when set. @see https://redis.io/docs/latest/commands/setnx/ */
export default defineCommand({
  name: "setnx",
  arity: 3,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, value]) => ({ key: k!, value: value!, condition: "NX" as const, get: false, expiry: { kind: "none" as const } }),
  run: (ctx, args) => (runSet(ctx, args) === null ? 0 : 1),
});
