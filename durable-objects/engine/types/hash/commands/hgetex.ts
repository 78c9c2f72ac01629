/**
 * Redis 8's hash commands that combine reading or writing fields with their deadlines: HGETDEL,
 * HGETEX and HSETEX, checked in the order of Redis's t_hash.c. Replicated as what they did (HSET,
 * HDEL, HPEXPIREAT, HPERSIST), as Redis propagates them.
 */
import { long } from "../../../args";
import { type Bytes, toBytes } from "../../../bytes";
import { defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { Hash } from "../hash";
import { fieldsAt, fieldsCommand, optionDeadline } from "./hexpire";

interface Args {
  readonly key: string;
  readonly rest: readonly string[];
}

const COUNT_MESSAGE = "Number of fields must be a positive integer";

/** HGETDEL key FIELDS numfields field ...: the values (nil for none), the fields deleted. @see https://redis.io/docs/latest/commands/hgetdel/ */
export const hgetdel = fieldsCommand("hgetdel", ["write"], null, (hash, fields) => {
  const deleted = new Set<string>();
  const values = fields.map((f) => {
    const value = deleted.has(f) ? null : hash.get(f);
    if (value !== null) deleted.add(f);
    return value;
  });
  if (deleted.size > 0) hash.delete([...deleted]);
  return values;
});

/** HGETEX's option: a deadline (ms), PERSIST, or none. */
type GetexOption = { readonly kind: "none" } | { readonly kind: "persist" } | { readonly kind: "at"; readonly at: number };

/**
 * HGETEX key [EX seconds | PX ms | EXAT unix-seconds | PXAT unix-ms | PERSIST] FIELDS numfields
 * field ...: the values, and the live fields' deadlines set or removed.
 * @see https://redis.io/docs/latest/commands/hgetex/
 */
export const hgetex = defineCommand<Args>({
  name: "hgetex",
  arity: -5,
  flags: ["write"],
  keys: key(1),
  parse: ([k, ...rest]) => ({ key: k!, rest }),
  run: ({ db, now }, { key: k, rest }) => {
    const hash = Hash.find(db, k, false);
    const word = rest[0]!.toUpperCase();
    let option: GetexOption = { kind: "none" };
    let at = 0;
    if (word === "EX" || word === "PX" || word === "EXAT" || word === "PXAT") {
      option = { kind: "at", at: optionDeadline(word, rest[1]!, now, "hgetex") };
      at = 2;
    } else if (word === "PERSIST") {
      option = { kind: "persist" };
      at = 1;
    }
    // Redis 8 counts the arguments once the option is read: no field count after it is an arity error.
    if (at + 1 >= rest.length) throw errors.arity("hgetex");
    const fields = fieldsAt(rest, at, COUNT_MESSAGE);
    if (hash === null) return fields.map(() => null);
    if (option.kind !== "none") hash.readyForDeadlines();
    // A deadline already past deletes each field as it is read (a repeat of it then reads nothing),
    // as Redis's loop does; others are set together, logged as one HPEXPIREAT or HPERSIST.
    const past = option.kind === "at" && option.at <= now ? option.at : null;
    const values: (Bytes | null)[] = [];
    const found: string[] = [];
    for (const f of fields) {
      const value = hash.get(f);
      values.push(value);
      if (value !== null && past !== null) hash.expire([f], past, null);
      else if (value !== null) found.push(f);
    }
    if (found.length > 0 && option.kind === "at") hash.expire(found, option.at, null);
    else if (found.length > 0 && option.kind === "persist") hash.persist(found);
    return values;
  },
});

interface SetexArgs {
  readonly key: string;
  readonly condition: "FNX" | "FXX" | null;
  /** EX/PX/EXAT/PXAT and its value (checked), KEEPTTL, or none (the fields lose their deadlines). */
  readonly expiry: { readonly word: string; readonly value: string } | "keep" | null;
  readonly pairs: readonly (readonly [string, Bytes])[];
}

/**
 * HSETEX key [FNX | FXX] [EX seconds | PX ms | EXAT unix-seconds | PXAT unix-ms | KEEPTTL] FIELDS
 * numfields field value ...: 1 when every field was set, 0 when the condition kept them all.
 * Its arguments are read before the key, as Redis reads them. @see https://redis.io/docs/latest/commands/hsetex/
 */
export const hsetex = defineCommand<SetexArgs>({
  name: "hsetex",
  arity: -6,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, ...args]) => {
    let condition: SetexArgs["condition"] = null;
    let expiry: SetexArgs["expiry"] = null;
    let timed = false;
    // `args` as Redis's argv from index 2: the key is argv[1].
    for (let i = 0; i < args.length; i++) {
      const word = args[i]!.toUpperCase();
      if (word === "FIELDS") {
        if (i >= args.length - 3) throw errors.arity("hsetex");
        const n = long(args[i + 1]!, 1n, 2n ** 31n - 1n, "invalid number of fields");
        const remaining = args.length - i - 2;
        if (remaining % 2 !== 0 || n !== remaining / 2) throw errors.arity("hsetex");
        const pairs: [string, Bytes][] = [];
        for (let j = i + 2; j < args.length; j += 2) pairs.push([args[j]!, toBytes(args[j + 1]!)]);
        return { key: k!, condition, expiry, pairs };
      }
      if (word === "EX" || word === "PX" || word === "EXAT" || word === "PXAT" || word === "KEEPTTL") {
        if (timed) throw new RedisError("ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified");
        timed = true;
        if (word === "KEEPTTL") {
          expiry = "keep";
          continue;
        }
        if (i >= args.length - 1) throw new RedisError("ERR missing expire time");
        const value = args[++i]!;
        optionDeadline(word, value, 0, "hsetex"); // its form and bounds; against now when it runs
        expiry = { word, value };
      } else if (word === "FNX" || word === "FXX") {
        if (condition !== null) throw new RedisError("ERR Only one of FXX or FNX arguments can be specified");
        condition = word;
      } else throw new RedisError(`ERR unknown argument: ${args[i]}`);
    }
    throw errors.arity("hsetex");
  },
  run: ({ db, now }, a) => {
    // The deadline is checked against now before the key is looked up, as Redis's parse does.
    const deadline = a.expiry === null || a.expiry === "keep" ? null : optionDeadline(a.expiry.word, a.expiry.value, now, "hsetex");
    const existing = Hash.find(db, a.key, false);
    if (existing === null && a.condition === "FXX") return 0;
    const hash = existing ?? Hash.findOrCreate(db, a.key);
    if (a.condition !== null) {
      const wantAll = a.condition === "FXX";
      let found = 0;
      for (const [f] of a.pairs) {
        const exists = hash.get(f) !== null;
        if (exists) found++;
        if (exists !== wantAll) break;
      }
      if (wantAll ? found !== a.pairs.length : found !== 0) return 0;
    }
    hash.set(a.pairs, a.expiry === "keep");
    if (deadline !== null) hash.expire([...new Set(a.pairs.map(([f]) => f))], deadline, null);
    return 1;
  },
});
