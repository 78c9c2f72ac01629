import { defineCommand, key } from "../../../command";
import { runSet } from "./set";

/** GETSET key value: SET ... GET, dropping the TTL. @see https://redis.io/docs/latest/commands/getset/ */
export default defineCommand({
  name: "getset",
  arity: 3,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, value]) => ({ key: k!, value: value!, condition: null, get: true, expiry: { kind: "none" as const } }),
  run: runSet,
});
