import { LONG_MAX, long, positive } from "../../../args";
import { defineCommand, key } from "../../../command";
import { errors } from "../../../errors";
import { RedisSet, bulk } from "../set";

/**
 * SPOP key [count]: removes random members (the node's random source), replicated as SREM of
 * those removed. @see https://redis.io/docs/latest/commands/spop/
 */
export default defineCommand({
  name: "spop",
  arity: -2,
  flags: ["write"],
  keys: key(1),
  parse: ([k, count, ...rest]) => {
    if (rest.length > 0) throw errors.syntax();
    return { key: k!, count: count === undefined ? null : positive(count) };
  },
  run: ({ db, server }, a) => {
    const set = RedisSet.find(db, a.key);
    if (a.count === null) {
      if (set === null) return null;
      const member = set.any(() => server.random.next());
      set.remove([member]);
      return bulk(member);
    }
    if (set === null || a.count === 0) return [];
    const members = set.sample(a.count, () => server.random.next()).map((el) => el.field);
    set.remove(members);
    return members.map(bulk);
  },
});

/**
 * SRANDMEMBER key [count]: a positive count gives distinct members (at most the set's size), a
 * negative one may repeat. @see https://redis.io/docs/latest/commands/srandmember/
 */
export const srandmember = defineCommand({
  name: "srandmember",
  arity: -2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, count, ...rest]) => {
    if (rest.length > 0) throw errors.syntax();
    return { key: k!, count: count === undefined ? null : long(count, -LONG_MAX, LONG_MAX) };
  },
  run: ({ db, server }, a) => {
    const set = RedisSet.find(db, a.key);
    const random = () => server.random.next();
    if (a.count === null) return set === null ? null : bulk(set.any(random));
    if (set === null || a.count === 0) return [];
    return set.sample(a.count, random).map((el) => bulk(el.field));
  },
});

/** SMOVE source destination member → 1 when moved. @see https://redis.io/docs/latest/commands/smove/ */
export const smove = defineCommand({
  name: "smove",
  arity: 4,
  flags: ["write"],
  keys: key(1, 2),
  parse: ([from, to, member]) => ({ from: from!, to: to!, member: member! }),
  run: ({ db }, a) => {
    const source = RedisSet.find(db, a.from);
    if (source === null) return 0;
    const dest = RedisSet.peek(db, a.to); // WRONGTYPE before anything moves
    if (!source.has(a.member)) return 0;
    if (a.from === a.to) return 1;
    source.remove([a.member]);
    (dest ?? RedisSet.findOrCreate(db, a.to)).add([a.member]);
    return 1;
  },
});
