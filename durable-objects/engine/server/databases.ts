/**
 * SELECT, MOVE and SWAPDB as Redis answers them with `databases 1` (Flaredis keeps one database,
 * README Limits): database 0 is the only one, any other index is out of range, and MOVE to the
 * database a key is in is Redis's "same objects" error. Checked in Redis's order: the index read
 * as an int, then its range.
 */
import { long } from "../args";
import { OK, defineCommand, key } from "../command";
import { RedisError } from "../errors";

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;

/** A database index as Redis's getIntFromObjectOrReply reads it: `message` for a bad one, else Redis's two defaults. */
const dbIndex = (s: string, message?: string) => long(s, INT_MIN, INT_MAX, message);

const outOfRange = () => new RedisError("ERR DB index is out of range");

/** SELECT index: OK for 0, the only database. @see https://redis.io/docs/latest/commands/select/ */
export const select = defineCommand({
  name: "select",
  arity: 2,
  flags: ["readonly"],
  keys: null,
  parse: ([index]) => dbIndex(index!),
  run: (_ctx, index) => {
    if (index !== 0) throw outOfRange();
    return OK;
  },
});

/** MOVE key db: database 0 is the key's own (Redis's same-objects error), any other is out of range. */
export const move = defineCommand({
  name: "move",
  arity: 3,
  flags: ["write"],
  keys: key(1),
  parse: ([k, db]) => ({ key: k!, db: dbIndex(db!) }),
  run: (_ctx, a) => {
    if (a.db !== 0) throw outOfRange();
    throw new RedisError("ERR source and destination objects are the same");
  },
});

/** SWAPDB index1 index2: OK for 0 and 0 (nothing to swap), else out of range. */
export const swapdb = defineCommand({
  name: "swapdb",
  arity: 3,
  flags: ["write"],
  keys: null,
  parse: ([a, b]) => [dbIndex(a!, "invalid first DB index"), dbIndex(b!, "invalid second DB index")] as const,
  run: (_ctx, [a, b]) => {
    if (a !== 0 || b !== 0) throw outOfRange();
    return OK;
  },
});
