import { type Command, OK, defineCommand } from "../command";
import { errors } from "../errors";

/** FLUSHALL [ASYNC|SYNC]; FLUSHDB is the same with one database. @see https://redis.io/docs/latest/commands/flushall/ */
export const flush = (name: string): Command<null> =>
  defineCommand({
    name,
    arity: -1,
    flags: ["write"],
    keys: null,
    parse: (args) => {
      if (args.length > 1 || (args[0] && !["ASYNC", "SYNC"].includes(args[0].toUpperCase()))) throw errors.syntax();
      return null;
    },
    run: ({ db }) => {
      db.flush();
      return OK;
    },
  });

export default flush("flushall");
