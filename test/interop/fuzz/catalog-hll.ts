/**
 * The generator's commands, part 4: HyperLogLog (PFADD, PFCOUNT, PFMERGE, PFDEBUG) on the same keys as the
 * rest, so that HLL values meet GET, APPEND, SETRANGE and keys of other types. Elements come from a
 * small pool (re-adds change nothing) and sometimes in hundreds, so that values go dense.
 */
import type { CommandSpec } from "./catalog-basic.ts";
import type { Random } from "./random.ts";
import { key, keys } from "./values.ts";

function elements(r: Random): string[] {
  if (r.chance(0.08)) {
    const base = r.int(0, 100_000);
    return Array.from({ length: r.int(200, 1500) }, (_, i) => `big${base + i}`);
  }
  return Array.from({ length: r.int(0, 6) }, () => (r.chance(0.7) ? `e${r.int(0, 60)}` : `x${r.int(0, 1_000_000)}`));
}

export const hll: CommandSpec[] = [
  { name: "PFADD", weight: 6, gen: (r) => ["PFADD", key(r), ...elements(r)] },
  { name: "PFCOUNT", weight: 4, gen: (r) => ["PFCOUNT", ...keys(r, 1, 3)] },
  { name: "PFMERGE", weight: 3, gen: (r) => ["PFMERGE", key(r), ...keys(r, 0, 3)] },
  { name: "PFDEBUG", weight: 1, gen: (r) => ["PFDEBUG", r.pick(["ENCODING", "DECODE", "TODENSE", "GETREG", "encoding", "NOPE"]), key(r)] },
];
