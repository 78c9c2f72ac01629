import { type Command, defineCommand, key } from "../../../command";
import { errors } from "../../../errors";
import { scoreReply } from "../score";
import { Zset } from "../zset";

interface Args {
  readonly key: string;
  readonly member: string;
  readonly withScore: boolean;
}

/** ZRANK / ZREVRANK key member [WITHSCORE]: the rank is counted over the index (its cost grows with the rank). */
function rankCommand(name: string, reverse: boolean): Command<Args> {
  return defineCommand<Args>({
    name,
    arity: -3,
    flags: ["readonly"],
    keys: key(1),
    parse: ([k, member, option, ...rest]) => {
      if (rest.length > 0) throw errors.arity(name);
      if (option !== undefined && option.toUpperCase() !== "WITHSCORE") throw errors.syntax();
      return { key: k!, member: member!, withScore: option !== undefined };
    },
    run: ({ db }, a) => {
      const found = Zset.find(db, a.key)?.rank(a.member, reverse) ?? null;
      if (found === null) return null;
      return a.withScore ? [found.rank, scoreReply(found.score)] : found.rank;
    },
  });
}

/** ZRANK key member [WITHSCORE] → the 0-based rank by ascending score, or nil. @see https://redis.io/docs/latest/commands/zrank/ */
export default rankCommand("zrank", false);

/** ZREVRANK key member [WITHSCORE] → the rank by descending score, or nil. @see https://redis.io/docs/latest/commands/zrevrank/ */
export const zrevrank = rankCommand("zrevrank", true);
