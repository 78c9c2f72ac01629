/**
 * The generator's commands, part 5: geo (GEOADD, GEOPOS, GEODIST, GEOHASH) on the same keys as the
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
];
