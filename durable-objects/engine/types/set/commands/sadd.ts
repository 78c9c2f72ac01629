import { defineCommand, key } from "../../../command";
import { RedisSet, bulk } from "../set";

/** SADD key member [member ...] → how many were new. @see https://redis.io/docs/latest/commands/sadd/ */
export default defineCommand({
  name: "sadd",
  arity: -3,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, ...members]) => ({ key: k!, members }),
  run: ({ db }, a) => RedisSet.findOrCreate(db, a.key).add(a.members),
});

/** SREM key member [member ...] → how many were removed; an emptied set goes. @see https://redis.io/docs/latest/commands/srem/ */
export const srem = defineCommand({
  name: "srem",
  arity: -3,
  flags: ["write"],
  keys: key(1),
  parse: ([k, ...members]) => ({ key: k!, members }),
  run: ({ db }, a) => RedisSet.find(db, a.key)?.remove(a.members) ?? 0,
});

/** SCARD key @see https://redis.io/docs/latest/commands/scard/ */
export const scard = defineCommand({
  name: "scard",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => RedisSet.find(db, k)?.length ?? 0,
});

/** SISMEMBER key member @see https://redis.io/docs/latest/commands/sismember/ */
export const sismember = defineCommand({
  name: "sismember",
  arity: 3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, member]) => ({ key: k!, member: member! }),
  run: ({ db }, a) => (RedisSet.find(db, a.key)?.has(a.member) ? 1 : 0),
});

/** SMISMEMBER key member [member ...] @see https://redis.io/docs/latest/commands/smismember/ */
export const smismember = defineCommand({
  name: "smismember",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, ...members]) => ({ key: k!, members }),
  run: ({ db }, a) => {
    const set = RedisSet.find(db, a.key);
    return a.members.map((m) => (set?.has(m) ? 1 : 0));
  },
});

/** SMEMBERS key @see https://redis.io/docs/latest/commands/smembers/ */
export const smembers = defineCommand({
  name: "smembers",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => (RedisSet.find(db, k)?.members() ?? []).map(bulk),
});
