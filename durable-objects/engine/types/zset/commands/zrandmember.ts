import { type Reply, defineCommand, key } from "../../../command";
import { randomCount } from "../../collection";
import { Zset, bulk, membersReply } from "../zset";

interface Args {
  readonly key: string;
  /** null: one member, as a bulk reply. */
  readonly count: number | null;
  readonly paired: boolean;
}

/**
 * ZRANDMEMBER key [count [WITHSCORES]]: a positive count gives distinct members (at most the
 * set's size), a negative one may repeat. Randomness is the node's injected source; the members
 * are read at the positions picked (Collection.sample). @see https://redis.io/docs/latest/commands/zrandmember/
 */
export default defineCommand<Args>({
  name: "zrandmember",
  arity: -2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, count, ...rest]) => ({ key: k!, ...randomCount(count, rest, "WITHSCORES") }),
  run: ({ db, server }, a): Reply => {
    const zset = Zset.find(db, a.key);
    const random = () => server.random.next();
    if (a.count === null) return zset === null ? null : bulk(zset.sample(1, random)[0]!.field);
    if (zset === null || a.count === 0) return [];
    return membersReply(zset.sample(a.count, random), a.paired);
  },
});
