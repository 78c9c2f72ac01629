import { defineCommand, key } from "../../../command";
import { Hash, bulk } from "../hash";

/** HGETALL key → field, value, field, value ... in field order. @see https://redis.io/docs/latest/commands/hgetall/ */
export default defineCommand({
  name: "hgetall",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => (Hash.find(db, k)?.all() ?? []).flatMap((el) => [bulk(el.field), el.value]),
});

/** HKEYS key @see https://redis.io/docs/latest/commands/hkeys/ */
export const hkeys = defineCommand({
  name: "hkeys",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => (Hash.find(db, k)?.all() ?? []).map((el) => bulk(el.field)),
});

/** HVALS key @see https://redis.io/docs/latest/commands/hvals/ */
export const hvals = defineCommand({
  name: "hvals",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => k!,
  run: ({ db }, k) => (Hash.find(db, k)?.all() ?? []).map((el) => el.value),
});
