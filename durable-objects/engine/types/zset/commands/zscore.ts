import { defineCommand, key } from "../../../command";
import { scoreReply } from "../score";
import { Zset } from "../zset";

/** ZSCORE key member → the score, or nil. @see https://redis.io/docs/latest/commands/zscore/ */
export default defineCommand({
  name: "zscore",
  arity: 3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, member]) => ({ key: k!, member: member! }),
  run: ({ db }, a) => {
    const score = Zset.find(db, a.key)?.score(a.member) ?? null;
    return score === null ? null : scoreReply(score);
  },
});

/** ZMSCORE key member [member ...] → each score or nil (a missing key: all nil). @see https://redis.io/docs/latest/commands/zmscore/ */
export const zmscore = defineCommand({
  name: "zmscore",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, ...members]) => ({ key: k!, members }),
  run: ({ db }, a) => {
    const zset = Zset.find(db, a.key);
    return a.members.map((m) => {
      const score = zset?.score(m) ?? null;
      return score === null ? null : scoreReply(score);
    });
  },
});
