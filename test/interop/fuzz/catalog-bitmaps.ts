/**
 * The generator's commands, part 3: bitmaps (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
 * BITFIELD_RO) on the same keys as the rest, so that they meet strings written by other commands
 * and keys of other types. BITOP's Redis 8.2 operations (DIFF, DIFF1, ANDOR, ONE) are not made:
 * the reference has none (test/conformance/bitmaps.ts pins them).
 */
import type { CommandSpec } from "./catalog-basic.ts";
import type { Random } from "./random.ts";
import { INT64_EDGES, integer, key, keys } from "./values.ts";

// Offsets stay within the first bytes: a string past 8 MiB is past what Flaredis reads whole at once (GET; README, Limits).
// Large and sparse strings, stored in pages, have their own differential (test/interop/differential.test.ts).
const OFFSET_EDGES = ["-1", "x", "4294967296", "", ...INT64_EDGES];

/** A bit offset: mostly within the first bytes, sometimes invalid or far. */
function offset(r: Random): string {
  return r.chance(0.9) ? String(r.int(0, 70)) : r.pick(OFFSET_EDGES);
}

const UNITS = ["BYTE", "BIT", "bit", "byte", "BITS"];

/** BITCOUNT's and BITPOS's optional range: none, start, start end, start end unit, or too many. */
function range(r: Random, startOnly: boolean): string[] {
  const n = r.int(0, 4);
  const bound = () => (r.chance(0.9) ? integer(r, -12, 12) : r.pick(["a", "9223372036854775807", "-9223372036854775808"]));
  const out: string[] = [];
  if (n >= 1) out.push(bound());
  if (n >= 2 || (!startOnly && n === 1 && r.chance(0.7))) out.push(bound());
  if (n >= 3) out.push(r.pick(UNITS));
  if (n >= 4) out.push("x");
  return out;
}

const TYPES_OK = ["i1", "i5", "i8", "i16", "i32", "i63", "i64", "u1", "u4", "u8", "u16", "u31", "u63"];
const TYPES_BAD = ["u64", "i65", "u0", "I8", "x8", "i", "u-1"];

function fieldOps(r: Random, readonly: boolean): string[] {
  const out: string[] = [];
  for (let i = r.int(0, 4); i > 0; i--) {
    const type = r.chance(0.93) ? r.pick(TYPES_OK) : r.pick(TYPES_BAD);
    const at = r.chance(0.3) ? `#${r.int(0, 6)}` : r.chance(0.95) ? String(r.int(0, 40)) : r.pick(["-1", "#-1", "x", "4294967296"]);
    const n = r.chance(0.7) ? integer(r, -300, 300) : r.pick([...INT64_EDGES, "x"]);
    const op = readonly ? (r.chance(0.9) ? "GET" : "SET") : r.pick(["GET", "SET", "INCRBY", "OVERFLOW", "get", "incrby"]);
    if (op.toUpperCase() === "OVERFLOW") out.push(op, r.pick(["WRAP", "SAT", "FAIL", "sat", "NOPE"]));
    else if (op.toUpperCase() === "GET") out.push(op, type, at);
    else out.push(op, type, at, n);
  }
  if (r.chance(0.05)) out.push(r.pick(["GET", "SET", "OVERFLOW", "FOO"]));
  return out;
}

export const bitmaps: CommandSpec[] = [
  { name: "SETBIT", weight: 6, gen: (r) => ["SETBIT", key(r), offset(r), r.chance(0.95) ? r.pick(["0", "1"]) : r.pick(["2", "-1", "01", "x"])] },
  { name: "GETBIT", weight: 4, gen: (r) => ["GETBIT", key(r), offset(r)] },
  { name: "BITCOUNT", weight: 4, gen: (r) => ["BITCOUNT", key(r), ...range(r, false)] },
  { name: "BITPOS", weight: 4, gen: (r) => ["BITPOS", key(r), r.chance(0.95) ? r.pick(["0", "1"]) : r.pick(["2", "x"]), ...range(r, true)] },
  {
    name: "BITOP",
    weight: 3,
    gen: (r) => {
      const op = r.chance(0.95) ? r.pick(["AND", "OR", "XOR", "NOT", "and", "Or"]) : "NAND";
      const single = op.toUpperCase() === "NOT" && r.chance(0.8);
      return ["BITOP", op, key(r), ...keys(r, 1, single ? 1 : 3)];
    },
  },
  { name: "BITFIELD", weight: 5, gen: (r) => ["BITFIELD", key(r), ...fieldOps(r, false)] },
  { name: "BITFIELD_RO", weight: 2, gen: (r) => ["BITFIELD_RO", key(r), ...fieldOps(r, true)] },
];
