/**
 * The generator's commands, part 5: geo (GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH[STORE],
 * GEORADIUS[BYMEMBER][_RO]) on the same keys as the
 * rest, so that they meet sorted sets ZADD wrote (any score) and keys of other types. Positions
 * come from a few places, the limits and random points, sometimes out of range or not numbers.
 */
import type { CommandSpec } from "./catalog-basic.ts";
import type { Random } from "./random.ts";
import { key, member } from "./values.ts";

const PLACES = [["13.361389", "38.115556"], ["15.087269", "37.502669"], ["-122.27652", "37.805186"], ["0", "0"], ["180", "85.05112878"], ["-180", "-85.05112878"], ["-0.0001", "0.0001"]];

function position(r: Random): string[] {
  if (r.chance(0.4)) return [...r.pick(PLACES)];
  if (r.chance(0.93)) return [((r.u32() / 2 ** 32 - 0.5) * 360).toFixed(r.int(0, 8)), ((r.u32() / 2 ** 32 - 0.5) * 170).toFixed(r.int(0, 8))];
  return r.pick([["181", "0"], ["0", "86"], ["x", "1"], ["inf", "0"], ["1e400", "1"], ["0", ""]]);
}

const UNITS = ["m", "km", "KM", "mi", "ft", "yd"];

/** A search's options: shape, order, count, what to return; valid or not. */
function searchOptions(r: Random, search: boolean, store: "none" | "store" | "search"): string[] {
  const out: string[] = [];
  const size = () => (r.chance(0.9) ? String(r.pick([0, 1, 10, 50, 100, 250, 1000, 5000, 20000])) : r.pick(["-1", "x", "1e3"]));
  if (search) {
    if (r.chance(0.95)) out.push(...(r.chance(0.5) ? ["FROMMEMBER", member(r)] : ["FROMLONLAT", ...position(r)]));
    if (r.chance(0.95)) out.push(...(r.chance(0.5) ? ["BYRADIUS", size(), r.pick(UNITS)] : ["BYBOX", size(), size(), r.pick(UNITS)]));
  }
  if (r.chance(0.4)) out.push(r.pick(["ASC", "DESC", "asc"]));
  if (r.chance(0.4)) out.push("COUNT", r.chance(0.9) ? String(r.int(1, 6)) : r.pick(["0", "-1", "x"]), ...(r.chance(0.3) ? ["ANY"] : []));
  else if (r.chance(0.03)) out.push("ANY");
  if (store === "none" || r.chance(0.05)) for (const w of ["WITHDIST", "WITHCOORD", "WITHHASH"]) if (r.chance(0.3)) out.push(w);
  if (store === "store" && r.chance(0.5)) out.push(r.pick(["STORE", "STOREDIST"]), key(r));
  if (store === "search" && r.chance(0.4)) out.push("STOREDIST");
  return r.chance(0.9) ? out : [...out.slice(0, -1), r.pick(["BYRADIUS", "FOO", "STORE"])];
}

export const geo: CommandSpec[] = [
  {
    name: "GEOADD",
    weight: 5,
    gen: (r) => [
      "GEOADD",
      key(r),
      ...(r.chance(0.3) ? [r.pick(["NX", "XX", "CH", "nx", "ch"])] : []),
      ...(r.chance(0.1) ? [r.pick(["CH", "XX", "GT"])] : []),
      ...Array.from({ length: r.int(1, 3) }, () => [...position(r), member(r)]).flat(),
      ...(r.chance(0.04) ? ["1"] : []),
    ],
  },
  { name: "GEOPOS", weight: 3, gen: (r) => ["GEOPOS", key(r), ...Array.from({ length: r.int(0, 3) }, () => member(r))] },
  { name: "GEOHASH", weight: 2, gen: (r) => ["GEOHASH", key(r), ...Array.from({ length: r.int(0, 3) }, () => member(r))] },
  {
    name: "GEODIST",
    weight: 3,
    gen: (r) => ["GEODIST", key(r), member(r), member(r), ...(r.chance(0.6) ? [r.pick(["m", "KM", "ft", "mi", "yd"])] : []), ...(r.chance(0.03) ? ["x"] : [])],
  },
  { name: "GEOSEARCH", weight: 4, gen: (r) => ["GEOSEARCH", key(r), ...searchOptions(r, true, "none")] },
  { name: "GEOSEARCHSTORE", weight: 2, gen: (r) => ["GEOSEARCHSTORE", key(r), key(r), ...searchOptions(r, true, "search")] },
  { name: "GEORADIUS", weight: 2, gen: (r) => ["GEORADIUS", key(r), ...position(r), r.pick(["0", "10", "200", "5000"]), r.pick(UNITS), ...searchOptions(r, false, "store")] },
  { name: "GEORADIUS_RO", weight: 1, gen: (r) => ["GEORADIUS_RO", key(r), ...position(r), r.pick(["10", "200", "5000"]), r.pick(UNITS), ...searchOptions(r, false, "none")] },
  { name: "GEORADIUSBYMEMBER", weight: 2, gen: (r) => ["GEORADIUSBYMEMBER", key(r), member(r), r.pick(["0", "10", "200", "5000"]), r.pick(UNITS), ...searchOptions(r, false, "store")] },
  { name: "GEORADIUSBYMEMBER_RO", weight: 1, gen: (r) => ["GEORADIUSBYMEMBER_RO", key(r), member(r), r.pick(["10", "5000"]), r.pick(UNITS), ...searchOptions(r, false, "none")] },
];
