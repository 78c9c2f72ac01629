import { defineCommand, key } from "../../../command";
import type { Reply } from "../../../command";
import { randomCount } from "../../collection";
import { Hash, bulk } from "../hash";

interface Args {
  readonly key: string;
  /** null: one field, as a bulk reply. */
  readonly count: number | null;
  readonly paired: boolean;
}

/**
 * HRANDFIELD key [count [WITHVALUES]]: a positive count gives distinct fields (at most the
 * hash's size), a negative one may repeat. Randomness is the node's injected source; the fields
 * are read at the positions picked (Collection.sample).
 * @see https://redis.io/docs/latest/commands/hrandfield/
 */
export default defineCommand<Args>({
  name: "hrandfield",
  arity: -2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, count, ...rest]) => ({ key: k!, ...randomCount(count, rest, "WITHVALUES") }),
  run: ({ db, server }, a) => {
    const hash = Hash.find(db, a.key);
    const random = () => server.random.next();
    // As Redis, the master first deletes the fields past their deadline (`livePicks` on a replica).
    if (hash !== null && db.role === "master" && !hash.expireAll()) return a.count === null ? null : [];
    if (a.count === null) {
      const el = hash?.livePicks(1, random)[0];
      return el ? bulk(el.field) : null;
    }
    if (hash === null || a.count === 0) return [];
    const out: Reply[] = [];
    for (const el of hash.livePicks(a.count, random)) {
      out.push(bulk(el.field));
      if (a.paired) out.push(el.value);
    }
    return out;
  },
});
