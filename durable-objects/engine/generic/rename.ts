import { type Command, OK, defineCommand, key } from "../command";
import { errors } from "../errors";

interface RenameArgs {
  readonly from: string;
  readonly to: string;
}

/**
 * RENAME / RENAMENX: moves a key with its TTL. With `onlyIfAbsent` (RENAMENX) an existing
 * destination is kept and the answer is 0. @see https://redis.io/docs/latest/commands/rename/
 */
export const renameCommand = (name: string, onlyIfAbsent: boolean): Command<RenameArgs> =>
  defineCommand({
    name,
    arity: 3,
    flags: ["write"],
    keys: key(1, 2),
    parse: ([from, to]) => ({ from: from!, to: to! }),
    run: ({ db, server }, { from, to }) => {
      const entry = db.get(from);
      if (entry === null) throw errors.noSuchKey();
      if (onlyIfAbsent && db.exists(to)) return 0;
      db.rename(from, to, server.compactEffects());
      return onlyIfAbsent ? 1 : OK;
    },
  });

export default renameCommand("rename", false);
