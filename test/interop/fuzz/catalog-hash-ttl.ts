/**
 * The generator's commands, part 6: hash-field expiry (Redis 7.4's HEXPIRE family; Redis 8's
 * HGETDEL, HGETEX, HSETEX), on the same keys as the rest. Deadlines are long (never reached during a
 * run), already past (the field goes at once) or edges and bad values, as for keys' TTLs. Against
 * an older reference these are not generated (known-differences.ts).
 */
import { maybe, members, pairs, type CommandSpec } from "./catalog-basic.ts";
import type { Random } from "./random.ts";
import { key, member, millis, seconds, unixMillis, unixSeconds, value } from "./values.ts";

/** `FIELDS n f ...`, n mostly right, sometimes not (or not a count), the word sometimes wrong. */
function fields(r: Random, list: string[] = members(r, 1, 3)): string[] {
  const n = r.weighted<() => string>([
    [12, () => String(list.length)],
    [1, () => r.pick(["0", "-1", String(list.length + 1), "x", String(list.length - 1)])],
  ])();
  return [r.chance(0.97) ? "FIELDS" : r.pick(["FIELD", "NX"]), n, ...list];
}

const condition = (r: Random) => maybe(r, 0.35, r.pick(["NX", "XX", "GT", "LT", "nx", "gt"]));

/** HGETEX's option: a deadline of either unit, PERSIST, or none. */
function getexOption(r: Random): string[] {
  return r.weighted<() => string[]>([
    [3, () => []],
    [2, () => ["EX", seconds(r)]],
    [2, () => ["PX", millis(r)]],
    [1, () => ["EXAT", unixSeconds(r)]],
    [1, () => ["PXAT", unixMillis(r)]],
    [2, () => ["PERSIST"]],
  ])();
}

/** HSETEX's options before FIELDS: a condition and a deadline or KEEPTTL, mostly valid. */
function setexOptions(r: Random): string[] {
  const out: string[] = [];
  if (r.chance(0.4)) out.push(r.pick(["FNX", "FXX"]));
  out.push(...getexOption(r).map((a) => (a === "PERSIST" ? "KEEPTTL" : a)));
  if (r.chance(0.05)) out.push(r.pick(["FNX", "KEEPTTL", "EX", "BOGUS"]));
  return out;
}

function setexFields(r: Random): string[] {
  const list = pairs(r, () => member(r), () => value(r));
  const n = r.chance(0.93) ? String(list.length / 2) : r.pick(["0", "x", String(list.length)]);
  return ["FIELDS", n, ...list];
}

export const hashTtl: CommandSpec[] = [
  { name: "HEXPIRE", weight: 3, gen: (r) => ["HEXPIRE", key(r), seconds(r), ...condition(r), ...fields(r)] },
  { name: "HPEXPIRE", weight: 2, gen: (r) => ["HPEXPIRE", key(r), millis(r), ...condition(r), ...fields(r)] },
  { name: "HEXPIREAT", weight: 2, gen: (r) => ["HEXPIREAT", key(r), unixSeconds(r), ...condition(r), ...fields(r)] },
  { name: "HPEXPIREAT", weight: 2, gen: (r) => ["HPEXPIREAT", key(r), unixMillis(r), ...condition(r), ...fields(r)] },
  { name: "HTTL", weight: 2, gen: (r) => ["HTTL", key(r), ...fields(r)] },
  { name: "HPTTL", weight: 1, gen: (r) => ["HPTTL", key(r), ...fields(r)] },
  { name: "HEXPIRETIME", weight: 1, gen: (r) => ["HEXPIRETIME", key(r), ...fields(r)] },
  { name: "HPEXPIRETIME", weight: 2, gen: (r) => ["HPEXPIRETIME", key(r), ...fields(r)] },
  { name: "HPERSIST", weight: 2, gen: (r) => ["HPERSIST", key(r), ...fields(r)] },
  { name: "HGETDEL", weight: 1, gen: (r) => ["HGETDEL", key(r), ...fields(r)] },
  { name: "HGETEX", weight: 2, gen: (r) => ["HGETEX", key(r), ...getexOption(r), ...fields(r)] },
  { name: "HSETEX", weight: 2, gen: (r) => ["HSETEX", key(r), ...setexOptions(r), ...setexFields(r)] },
];
