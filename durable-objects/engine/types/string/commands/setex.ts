import { type Command, defineCommand, key } from "../../../command";
import { type SetArgs, runSet } from "./set";

/** SETEX key seconds value (PSETEX: milliseconds). @see https://redis.io/docs/latest/commands/setex/ */
export const setWithExpiry = (name: string, unit: "EX" | "PX"): Command<SetArgs> =>
  defineCommand({
    name,
    arity: 4,
    flags: ["write", "denyoom"],
    keys: key(1),
    parse: ([k, amount, value]) => ({
      key: k!,
      value: value!,
      condition: null,
      get: false,
      expiry: { kind: "set", option: unit, value: amount!, command: name },
    }),
    run: runSet,
  });

export default setWithExpiry("setex", "EX");
