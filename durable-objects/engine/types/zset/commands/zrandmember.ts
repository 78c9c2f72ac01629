import { parseInteger } from "../../../args";
import { type Reply, defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import type { ElementRow } from "../../../storage";
import { Zset, bulk, membersReply } from "../zset";

interface Args {
  readonly key: string;
  /** null: one member, as a bulk reply. */
  readonly count: number | null;
  readonly withScores: boolean;
}

/** Sets this small (or picks this many relative to the size) are read once rather than by rank per pick. */
const READ_WHOLE = 1024;

/**
 * ZRANDMEMBER key [count [WITHSCORES]]: a positive count gives distinct members (at most the
 * set's size), a negative one may repeat. Randomness is the node's injected source; each pick is
 * a member at a random rank (read over the index), or the set is read once when it is small or
 * most of it is asked for. @see https://redis.io/docs/latest/commands/zrandmember/
 */
export default defineCommand<Args>({
  name: "zrandmember",
  arity: -2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, count, option, ...rest]) => {
    let n: number | null = null;
    if (count !== undefined) n = parseInteger(count);
    if (rest.length > 0 || (option !== undefined && option.toUpperCase() !== "WITHSCORES")) throw errors.syntax();
    // Bounded as HRANDFIELD is, so that a request's work stays bounded.
    if (n !== null && Math.abs(n) > 100_000) throw new RedisError("ERR value is out of range");
    return { key: k!, count: n, withScores: option !== undefined };
  },
  run: ({ db, server }, a): Reply => {
    const zset = Zset.find(db, a.key);
    const random = (n: number) => Math.floor(server.random.next() * n);
    if (a.count === null) return zset === null ? null : bulk(zset.range({ by: "all" }, false, random(zset.length), 1)[0]!.field);
    if (zset === null || a.count === 0) return [];
    const size = zset.length;
    const wanted = Math.abs(a.count);
    if (a.count > 0 && a.count >= size) return membersReply(zset.range({ by: "all" }, false, 0, -1), a.withScores);
    const whole = size <= READ_WHOLE || wanted * 3 > size ? zset.range({ by: "all" }, false, 0, -1) : null;
    const at = (rank: number): ElementRow => (whole ? whole[rank]! : zset.range({ by: "all" }, false, rank, 1)[0]!);
    const picks: ElementRow[] = [];
    if (a.count < 0) for (let i = 0; i < wanted; i++) picks.push(at(random(size)));
    else {
      // Distinct ranks, chosen by a partial Fisher-Yates shuffle over the positions.
      const swapped = new Map<number, number>();
      for (let i = 0; i < wanted; i++) {
        const j = i + random(size - i);
        picks.push(at(swapped.get(j) ?? j));
        swapped.set(j, swapped.get(i) ?? i);
      }
    }
    return membersReply(picks, a.withScores);
  },
});
