import { type Command, type Reply, defineCommand, key, numkeys } from "../../../command";
import type { Change } from "../../../keyspace";
import { RedisError, errors } from "../../../errors";
import { compareZset } from "../../../storage";
import { parseScore } from "../score";
import { RedisSet } from "../../set/set";
import { type Scored, Zset, countArg, membersReply, parseNumkeys } from "../zset";

type Op = "union" | "inter" | "diff";
type Aggregate = "sum" | "min" | "max";

interface Args {
  readonly keys: readonly string[];
  readonly weights: readonly number[];
  readonly aggregate: Aggregate;
  readonly withScores: boolean;
  /** ZINTERCARD's LIMIT (0: none). */
  readonly limit: number;
}

interface StoreArgs extends Args {
  readonly dest: string;
}

/** What a command accepts after its keys (Redis's zunionInterDiffGenericCommand). */
interface Accepts {
  readonly weighted: boolean;
  readonly withScores: boolean;
  readonly limit: boolean;
}

/** `numkeys key [key ...]` and the options `accepts` allows, in any order. */
function parseSetOp(name: string, [count, ...rest]: readonly string[], accepts: Accepts): Args {
  const n = parseNumkeys(name, count!, rest.length);
  const keys = rest.slice(0, n);
  const options = rest.slice(n);
  let weights: number[] = keys.map(() => 1);
  let aggregate: Aggregate = "sum";
  let withScores = false;
  let limit = 0;
  for (let j = 0; j < options.length; ) {
    const option = options[j]!.toUpperCase();
    const left = options.length - j;
    if (accepts.weighted && option === "WEIGHTS" && left >= n + 1) {
      weights = options.slice(j + 1, j + 1 + n).map((w) => parseScore(w, () => new RedisError("ERR weight value is not a float")));
      j += n + 1;
    } else if (accepts.weighted && option === "AGGREGATE" && left >= 2) {
      const how = options[j + 1]!.toLowerCase();
      if (how !== "sum" && how !== "min" && how !== "max") throw errors.syntax();
      aggregate = how;
      j += 2;
    } else if (accepts.withScores && option === "WITHSCORES") {
      withScores = true;
      j += 1;
    } else if (accepts.limit && option === "LIMIT" && left >= 2) {
      limit = countArg(options[j + 1]!, 0, "ERR LIMIT can't be negative");
      j += 2;
    } else throw errors.syntax();
  }
  return { keys, weights, aggregate, withScores, limit };
}

/** Adds two weighted scores as Redis does: inf + -inf is 0, not NaN. */
function combine(target: number, value: number, how: Aggregate): number {
  if (how === "min") return Math.min(target, value);
  if (how === "max") return Math.max(target, value);
  const sum = target + value;
  return Number.isNaN(sum) ? 0 : sum;
}

const weighted = (score: number, weight: number) => {
  const w = score * weight;
  return Number.isNaN(w) ? 0 : w;
};

/**
 * The union, intersection or difference of the sorted sets at `keys` (missing keys are empty),
 * in (score, member) order; with `limit`, an intersection stops counting there.
 * @throws WRONGTYPE for a key of another type
 */
/** What an input is read as: a sorted set, or a plain set whose members all score 1 (as in Redis). */
interface Input {
  readonly length: number;
  score(member: string): number | null;
  all(): Scored[];
}

/** The input at `key`, or null when missing. @throws WRONGTYPE for a key neither a set nor a sorted set */
function input(db: Change, key: string): Input | null {
  const e = db.get(key);
  if (e?.type !== "set") return Zset.find(db, key);
  const set = RedisSet.find(db, key)!;
  return { length: set.length, score: (m) => (set.has(m) ? 1 : null), all: () => set.members().map((field) => ({ field, score: 1 })) };
}

function compute(db: Change, op: Op, a: Args): Scored[] {
  const inputs = a.keys.map((k, i) => ({ zset: input(db, k), weight: a.weights[i]! }));
  const size = (z: Input | null) => z?.length ?? 0;
  const out: Scored[] = [];
  if (op === "diff") {
    const [first, ...others] = inputs;
    for (const el of first!.zset?.all() ?? []) if (others.every((o) => o.zset?.score(el.field) == null)) out.push(el);
  } else if (op === "inter") {
    // From the smallest input, looking each member up in the others (as Redis does).
    const [smallest, ...others] = [...inputs].sort((x, y) => size(x.zset) - size(y.zset));
    for (const el of smallest!.zset?.all() ?? []) {
      let score = weighted(el.score, smallest!.weight);
      const inAll = others.every((o) => {
        const s = o.zset?.score(el.field) ?? null;
        if (s === null) return false;
        score = combine(score, weighted(s, o.weight), a.aggregate);
        return true;
      });
      if (!inAll) continue;
      out.push({ field: el.field, score });
      if (a.limit > 0 && out.length >= a.limit) break;
    }
  } else {
    const scores = new Map<string, number>();
    for (const { zset, weight } of [...inputs].sort((x, y) => size(x.zset) - size(y.zset)))
      for (const el of zset?.all() ?? []) {
        const s = weighted(el.score, weight);
        const before = scores.get(el.field);
        scores.set(el.field, before === undefined ? s : combine(before, s, a.aggregate));
      }
    for (const [field, score] of scores) out.push({ field, score });
  }
  return out.sort(compareZset);
}

const READ: Accepts = { weighted: true, withScores: true, limit: false };

function readCommand(name: string, op: Op, accepts: Accepts): Command<Args> {
  return defineCommand<Args>({
    name,
    arity: -3,
    flags: ["readonly"],
    keys: numkeys(1),
    parse: (args) => parseSetOp(name, args, accepts),
    run: ({ db }, a): Reply => membersReply(compute(db, op, a), a.withScores),
  });
}

function storeCommand(name: string, op: Op, accepts: Accepts): Command<StoreArgs> {
  return defineCommand<StoreArgs>({
    name,
    arity: -4,
    flags: ["write", "denyoom"],
    keys: numkeys(2, key(1)),
    parse: ([dest, ...rest]) => ({ dest: dest!, ...parseSetOp(name, rest, accepts) }),
    run: ({ db }, a) => Zset.store(db, a.dest, compute(db, op, a)),
  });
}

/** ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] @see https://redis.io/docs/latest/commands/zunion/ */
export default readCommand("zunion", "union", READ);
/** ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] @see https://redis.io/docs/latest/commands/zinter/ */
export const zinter = readCommand("zinter", "inter", READ);
/** ZDIFF numkeys key [key ...] [WITHSCORES]: members of the first set in none of the others. @see https://redis.io/docs/latest/commands/zdiff/ */
export const zdiff = readCommand("zdiff", "diff", { weighted: false, withScores: true, limit: false });

/** ZINTERCARD numkeys key [key ...] [LIMIT limit] → the intersection's size (counting stops at LIMIT). @see https://redis.io/docs/latest/commands/zintercard/ */
export const zintercard = defineCommand<Args>({
  name: "zintercard",
  arity: -3,
  flags: ["readonly"],
  keys: numkeys(1),
  parse: (args) => parseSetOp("zintercard", args, { weighted: false, withScores: false, limit: true }),
  run: ({ db }, a) => compute(db, "inter", a).length,
});

const STORE: Accepts = { weighted: true, withScores: false, limit: false };
/**
 * ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] → the
 * result's size; destination written whole (DEL and ZADDs). @see https://redis.io/docs/latest/commands/zunionstore/
 */
export const zunionstore = storeCommand("zunionstore", "union", STORE);
/** ZINTERSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...] @see https://redis.io/docs/latest/commands/zinterstore/ */
export const zinterstore = storeCommand("zinterstore", "inter", STORE);
/** ZDIFFSTORE destination numkeys key [key ...] @see https://redis.io/docs/latest/commands/zdiffstore/ */
export const zdiffstore = storeCommand("zdiffstore", "diff", { weighted: false, withScores: false, limit: false });
