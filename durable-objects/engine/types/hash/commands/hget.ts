import { defineCommand, key } from "../../../command";
import { Hash } from "../hash";

/** HGET key field @see https://redis.io/docs/latest/commands/hget/ */
export default defineCommand({
  name: "hget",
  arity: 3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, field]) => ({ key: k!, field: field! }),
  run: ({ db }, a) => Hash.find(db, a.key)?.get(a.field) ?? null,
});

/** HMGET key field [field ...] @see https://redis.io/docs/latest/commands/hmget/ */
export const hmget = defineCommand({
  name: "hmget",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, ...fields]) => ({ key: k!, fields }),
  run: ({ db }, a) => {
    const hash = Hash.find(db, a.key);
    return a.fields.map((f) => hash?.get(f) ?? null);
  },
});

/** HEXISTS key field @see https://redis.io/docs/latest/commands/hexists/ */
export const hexists = defineCommand({
  name: "hexists",
  arity: 3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, field]) => ({ key: k!, field: field! }),
  run: ({ db }, a) => (Hash.find(db, a.key)?.get(a.field) == null ? 0 : 1),
});

/** HSTRLEN key field @see https://redis.io/docs/latest/commands/hstrlen/ */
export const hstrlen = defineCommand({
  name: "hstrlen",
  arity: 3,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, field]) => ({ key: k!, field: field! }),
  run: ({ db }, a) => Hash.find(db, a.key)?.get(a.field)?.length ?? 0,
});

/** HLEN key @see https://redis.io/docs/latest/commands/hlen/ */
export const hlen = defineCommand({
  name: "hlen",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => Hash.find(db, k)?.length ?? 0,
});
