import { type Command, defineCommand, key } from "../command";

/** DEL key [key ...]; UNLINK is the same here (no background freeing to do). @see https://redis.io/docs/latest/commands/del/ */
export const deleteKeys = (name: string): Command<readonly string[]> =>
  defineCommand({
    name,
    arity: -2,
    flags: ["write"],
    keys: key(1, -1),
    parse: (keys) => keys,
    run: ({ db }, keys) => keys.filter((k) => db.delete(k)).length,
  });

export default deleteKeys("del");
