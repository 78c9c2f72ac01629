import { type Command, type Reply, defineCommand, key, numkeys } from "../../../command";
import type { Change } from "../../../keyspace";
import { errors } from "../../../errors";
import { scoreReply } from "../score";
import { LONG_MAX, long, positive } from "../../../args";
import { Zset, bulk } from "../zset";

/** Pops up to `count` members from the low (or high) end; logged as ZREM of them. */
export function pop(zset: Zset, count: number, max: boolean) {
  const rows = zset.range({ by: "all" }, max, 0, count);
  zset.remove(rows.map((r) => r.field));
  return rows;
}

interface PopArgs {
  readonly key: string;
  /** null: one member, no COUNT given. */
  readonly count: number | null;
}

function popCommand(name: string, max: boolean): Command<PopArgs> {
  return defineCommand<PopArgs>({
    name,
    arity: -2,
    flags: ["write"],
    keys: key(1),
    parse: ([k, count, ...rest]) => {
      if (rest.length > 0) throw errors.syntax();
      if (count === undefined) return { key: k!, count: null };
      return { key: k!, count: positive(count) };
    },
    run: ({ db }, a): Reply => {
      const zset = Zset.find(db, a.key);
      if (zset === null || a.count === 0) return [];
      return pop(zset, a.count ?? 1, max).flatMap((r) => [bulk(r.field), scoreReply(r.score ?? 0)]);
    },
  });
}

/** ZPOPMIN key [count] → member, score, ... of the lowest scores, removed. @see https://redis.io/docs/latest/commands/zpopmin/ */
export default popCommand("zpopmin", false);
/** ZPOPMAX key [count] → member, score, ... of the highest scores, removed. @see https://redis.io/docs/latest/commands/zpopmax/ */
export const zpopmax = popCommand("zpopmax", true);

interface MpopArgs {
  readonly keys: readonly string[];
  readonly max: boolean;
  readonly count: number;
}

/** The first of `keys` that holds a sorted set (missing keys skipped). @throws WRONGTYPE at the first other type */
function firstZset(db: Change, keys: readonly string[]): Zset | null {
  for (const k of keys) {
    const zset = Zset.find(db, k);
    if (zset !== null) return zset;
  }
  return null;
}

/**
 * ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] → [key, [[member, score], ...]] from the first
 * non-empty sorted set, or nil. Replicated as ZREM. @see https://redis.io/docs/latest/commands/zmpop/
 */
export const zmpop = defineCommand<MpopArgs>({
  name: "zmpop",
  arity: -4,
  flags: ["write"],
  keys: numkeys(1),
  parse: ([count, ...rest]) => {
    const n = long(count!, 1n, LONG_MAX, "numkeys should be greater than 0");
    if (n >= rest.length) throw errors.syntax();
    const where = rest[n]!.toUpperCase();
    if (where !== "MIN" && where !== "MAX") throw errors.syntax();
    const options = rest.slice(n + 1);
    let popCount: number | null = null;
    for (let j = 0; j < options.length; j++) {
      if (popCount === null && options[j]!.toUpperCase() === "COUNT" && j + 1 < options.length)
        popCount = long(options[++j]!, 1n, LONG_MAX, "count should be greater than 0");
      else throw errors.syntax();
    }
    return { keys: rest.slice(0, n), max: where === "MAX", count: popCount ?? 1 };
  },
  run: ({ db }, a): Reply => {
    const zset = firstZset(db, a.keys);
    if (zset === null) return null;
    const rows = pop(zset, a.count, a.max);
    return [bulk(zset.key), rows.map((r) => [bulk(r.field), scoreReply(r.score ?? 0)])];
  },
});
