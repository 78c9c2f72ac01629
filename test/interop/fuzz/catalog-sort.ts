/**
 * The generator's commands, part 7: SORT and SORT_RO over the same eight keys. Elements that are
 * digits name keys (`k*` + "1" is k1), so BY and GET patterns find strings and hash fields, miss, or
 * meet other types. Where Redis leaves the order open (a set's own order with BY nosort, ties of
 * ALPHA by a pattern), compare.ts compares the reply's size only, and the generator stores no such
 * result (it would differ in the keyspace).
 */
import { type CommandSpec, maybe } from "./catalog-basic.ts";
import type { Random } from "./random.ts";
import { integer, key } from "./values.ts";

const BY = ["nosort", "k*", "k*->a", "k*->m1", "*", "nokey_*", "k*->"] as const;
const GET = ["#", "k*", "k*->a", "k*->b", "nostar", "*"] as const;

function options(r: Random, readonly: boolean): string[] {
  const out: string[] = [];
  const by = r.chance(0.4) ? r.pick(BY) : null;
  const alpha = r.chance(0.4);
  if (by !== null) out.push("BY", by);
  if (r.chance(0.3)) out.push("LIMIT", r.chance(0.85) ? String(r.int(-1, 4)) : integer(r), r.chance(0.85) ? String(r.int(-1, 4)) : integer(r));
  for (let i = r.chance(0.35) ? r.int(1, 3) : 0; i > 0; i--) out.push("GET", r.pick(GET));
  if (r.chance(0.3)) out.push(r.pick(["ASC", "DESC", "desc"]));
  if (alpha) out.push("ALPHA");
  // A stored result must be the same on both sides: not where Redis's order is open.
  const open = by !== null && (!by.includes("*") || alpha);
  if (!readonly && !open && r.chance(0.3)) out.push("STORE", key(r));
  if (r.chance(0.04)) out.push(r.pick(["BOGUS", "LIMIT", "BY", "GET", "STORE"]));
  return out;
}

export const sort: CommandSpec[] = [
  { name: "SORT", weight: 4, reencodes: true, gen: (r) => ["SORT", key(r), ...options(r, false)] },
  { name: "SORT_RO", weight: 2, reencodes: true, gen: (r) => ["SORT_RO", key(r), ...options(r, true), ...maybe(r, 0.03, "STORE", key(r))] },
];

/** Redis leaves the order (and with LIMIT, the choice) open: a set's own order under BY nosort, ALPHA ties by a pattern. */
export function sortOrderOpen(command: readonly unknown[]): boolean {
  const args = command.map((a) => (typeof a === "string" ? a.toUpperCase() : ""));
  if (args[0] !== "SORT" && args[0] !== "SORT_RO") return false;
  const at = args.lastIndexOf("BY");
  if (at < 0 || at + 1 >= args.length) return false;
  const by = String(command[at + 1]);
  return !by.includes("*") || args.includes("ALPHA");
}
