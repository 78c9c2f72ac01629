import { positive } from "../../../args";
import { type Command, type Reply, defineCommand, key, numkeys } from "../../../command";
import type { Change } from "../../../keyspace";
import { RedisError, errors } from "../../../errors";
import { type Algebra, combineCount, combineRows, combineStore } from "../../algebra";
import { parseScore } from "../score";
import { RedisSet } from "../../set/set";
import { Zset, membersReply, parseNumkeys } from "../zset";

type Op = Algebra["op"];
type Aggregate = Algebra["aggregate"];

interface Args {
  readonly keys: readonly string[];
  /** What follows the keys, read once the keys' types are checked (as Redis reads it). */
  readonly options: readonly string[];
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

interface Options {
  readonly weights: readonly number[];
  readonly aggregate: Aggregate;
  readonly withScores: boolean;
  /** ZINTERCARD's LIMIT (0: none). */
  readonly limit: number;
}

/** `numkeys key [key ...]`, then anything (the options, read by `readOptions`). */
function parseSetOp(name: string, [count, ...rest]: readonly string[]): Args {
  const n = parseNumkeys(name, count!, rest.length);
  return { keys: rest.slice(0, n), options: rest.slice(n) };
}

/**
 * The options `accepts` allows, in any order, read as Redis reads them: after the keys' types
 * are checked (a WRONGTYPE input answers before a bad option). @throws WRONGTYPE, ERR syntax error
 */
function readOptions(db: Change, { keys, options }: Args, accepts: Accepts): Options {
  for (const key of keys) {
    const type = db.get(key)?.type;
    if (type !== undefined && type !== "zset" && type !== "set") throw errors.wrongType();
  }
  const n = keys.length;
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
      limit = positive(options[j + 1]!, "LIMIT can't be negative");
      j += 2;
    } else throw errors.syntax();
  }
  return { weights, aggregate, withScores, limit };
}

/**
 * The sorted sets (or plain sets, whose members score 1) at `keys` as inputs of `op`, with their
 * weights (a missing key is the empty set). @throws WRONGTYPE for a key of another type
 */
function algebra(db: Change, op: Op, keys: readonly string[], o: Options): Algebra {
  const inputs = keys.map((key, i) => {
    const weight = o.weights[i]!;
    const set = db.get(key)?.type === "set" ? RedisSet.find(db, key) : null;
    return (set ?? Zset.find(db, key))?.operand(weight) ?? { eid: null, weight, scored: false, size: 0 };
  });
  return { op, inputs, aggregate: o.aggregate, result: "zset" };
}

const READ: Accepts = { weighted: true, withScores: true, limit: false };

function readCommand(name: string, op: Op, accepts: Accepts): Command<Args> {
  return defineCommand<Args>({
    name,
    arity: -3,
    flags: ["readonly"],
    keys: numkeys(1),
    parse: (args) => parseSetOp(name, args),
    run: ({ db }, a): Reply => {
      const o = readOptions(db, a, accepts);
      return membersReply(combineRows(db, algebra(db, op, a.keys, o)), o.withScores);
    },
  });
}

function storeCommand(name: string, op: Op, accepts: Accepts): Command<StoreArgs> {
  return defineCommand<StoreArgs>({
    name,
    arity: -4,
    flags: ["write", "denyoom"],
    keys: numkeys(2, key(1)),
    parse: ([dest, ...rest]) => ({ dest: dest!, ...parseSetOp(name, rest) }),
    run: ({ db, server }, a) => combineStore(db, a.dest, algebra(db, op, a.keys, readOptions(db, a, accepts)), a.keys, server.compactEffects()),
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
  parse: (args) => parseSetOp("zintercard", args),
  run: ({ db }, a) => {
    const o = readOptions(db, a, { weighted: false, withScores: false, limit: true });
    return combineCount(db, algebra(db, "inter", a.keys, o), o.limit);
  },
});

const STORE: Accepts = { weighted: true, withScores: false, limit: false };
/**
 * ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] → the
 * result's size; the result written by the storage, replicated as one STORE effect (types/algebra.ts).
 * @see https://redis.io/docs/latest/commands/zunionstore/
 */
export const zunionstore = storeCommand("zunionstore", "union", STORE);
/** ZINTERSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...] @see https://redis.io/docs/latest/commands/zinterstore/ */
export const zinterstore = storeCommand("zinterstore", "inter", STORE);
/** ZDIFFSTORE destination numkeys key [key ...] @see https://redis.io/docs/latest/commands/zdiffstore/ */
export const zdiffstore = storeCommand("zdiffstore", "diff", { weighted: false, withScores: false, limit: false });
