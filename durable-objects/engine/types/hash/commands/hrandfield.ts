import { parseInteger } from "../../../args";
import { defineCommand, key } from "../../../command";
import type { Reply } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { Hash, bulk } from "../hash";

interface Args {
  readonly key: string;
  /** null: one field, as a bulk reply. */
  readonly count: number | null;
  readonly withValues: boolean;
}

/**
 * HRANDFIELD key [count [WITHVALUES]]: a positive count gives distinct fields (at most the
 * hash's size), a negative one may repeat. Randomness is the node's injected source.
 * @see https://redis.io/docs/latest/commands/hrandfield/
 */
export default defineCommand<Args>({
  name: "hrandfield",
  arity: -2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, count, option, ...rest]) => {
    if (rest.length > 0 || (option !== undefined && option.toUpperCase() !== "WITHVALUES")) throw errors.syntax();
    let n: number | null = null;
    if (count !== undefined) {
      n = parseInteger(count);
      if (Math.abs(n) > 100_000) throw new RedisError("ERR value is out of range");
    }
    return { key: k!, count: n, withValues: option !== undefined };
  },
  run: ({ db, server }, a) => {
    const hash = Hash.find(db, a.key);
    if (a.count === null) {
      if (hash === null) return null;
      return bulk(hash.at(Math.floor(server.random.next() * hash.length))!.field);
    }
    if (hash === null || a.count === 0) return [];
    const out: Reply[] = [];
    const emit = (index: number) => {
      const el = hash.at(index)!;
      out.push(bulk(el.field));
      if (a.withValues) out.push(el.value);
    };
    if (a.count < 0) {
      // Many picks of a small hash: read it once; else one indexed read per pick.
      if (-a.count * 4 >= hash.length) {
        const all = hash.all();
        for (let i = 0; i < -a.count; i++) {
          const el = all[Math.floor(server.random.next() * all.length)]!;
          out.push(bulk(el.field));
          if (a.withValues) out.push(el.value);
        }
      } else for (let i = 0; i < -a.count; i++) emit(Math.floor(server.random.next() * hash.length));
      return out;
    }
    if (a.count >= hash.length) {
      for (const el of hash.all()) {
        out.push(bulk(el.field));
        if (a.withValues) out.push(el.value);
      }
      return out;
    }
    // Distinct indexes, chosen by a partial Fisher-Yates shuffle over the positions.
    const picked = new Map<number, number>();
    for (let i = 0; i < a.count; i++) {
      const j = i + Math.floor(server.random.next() * (hash.length - i));
      const at = picked.get(j) ?? j;
      picked.set(j, picked.get(i) ?? i);
      emit(at);
    }
    return out;
  },
});
