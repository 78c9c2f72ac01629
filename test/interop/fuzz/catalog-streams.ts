/**
 * The generator's commands, part 8: streams, their consumer groups and pending entries (a family
 * of its own, left out of `CATALOG` as `blocking` is: see generator.ts). Mostly three stream keys
 * (s0, s1, s2), so that groups, consumers and their pending entries build up; now and then one of
 * the eight shared keys, so that a stream meets the other types (WRONGTYPE) and they meet it.
 *
 * IDs are explicit, never `*` (the clock's): each program keeps a small clock of its own (in
 * milliseconds from 1, per Random, so a seed still names one program), which XADD mostly moves on
 * by 0 to 2 with a sequence of 0 to 3, so IDs mostly increase and sometimes collide (the equal or
 * smaller error); `ms-*` partial IDs, older IDs and malformed ones come too. Ranges, reads, acks
 * and claims draw IDs near the clock, so they meet entries that exist, were trimmed or deleted.
 *
 * Trimming is exact (`=` or nothing; LIMIT without `~` is Redis's error): never `~`, where Redis
 * trims whole radix-tree nodes. No BLOCK (XREAD, XREADGROUP). Times: XCLAIM and XAUTOCLAIM wait
 * for min-idle-time 0 (or 100000000000 ms, which only an entry given IDLE 1000000000000 has), and
 * XPENDING's IDLE filter takes the same two (or -1, or no number): no reply depends on how long
 * a run took. The replies that carry idle times (XPENDING's extended form, XINFO CONSUMERS) are
 * compared within a tolerance (compare.ts); XINFO STREAM's radix-tree-keys and radix-tree-nodes, Redis's internals,
 * are not compared (known-differences.ts). Not generated: XINFO STREAM FULL (delivery and seen
 * times in every entry), XGROUP HELP and XINFO HELP (their texts).
 */
import { type CommandSpec, maybe, pairs } from "./catalog-basic.ts";
import type { Random } from "./random.ts";
import { INT64_EDGES, key, member, value } from "./values.ts";

export const STREAM_KEYS = ["s0", "s1", "s2"] as const;
/** A stream key mostly; one of the eight shared keys sometimes (`p`: less often where a group must exist). */
const skey = (r: Random, p = 0.15) => (r.chance(p) ? key(r) : r.pick(STREAM_KEYS));
/** For the commands that need a group: a stream key almost always. */
const gkey = (r: Random) => skey(r, 0.05);
/** Group names: g1 mostly, so that most commands find it; an odd name now and then. */
const group = (r: Random) => r.weighted<() => string>([[14, () => "g1"], [5, () => "g2"], [1.5, () => "g3"], [0.5, () => r.pick(["", "é", "G1"])]])();
const consumer = (r: Random) => r.weighted<() => string>([[8, () => "c1"], [6, () => "c2"], [3, () => "c3"], [0.5, () => r.pick(["", "é", "C1"])]])();

/** The program's clock: the milliseconds part the next XADD builds on. */
interface Clock {
  ms: number;
}
const clocks = new WeakMap<Random, Clock>();
function clockOf(r: Random): Clock {
  let c = clocks.get(r);
  if (!c) clocks.set(r, (c = { ms: 1 }));
  return c;
}

/** IDs Redis's parsers refuse (or, some, take as what one would not expect: "0" is 0-0). */
const BAD_IDS = [
  "abc", "", "1-", "-1", "1-x", "x-1", "1.5", " 1", "1 ", "0x10", "1--1", "18446744073709551616", "1-18446744073709551616",
  "-", "+", "$", ">", "*",
] as const;

/** A milliseconds part near the clock: at most a dozen behind, one ahead. */
const msNear = (r: Random, c: Clock) => r.int(Math.max(0, c.ms - 12), c.ms + 1);
/** A whole ID near the clock: some exist, some were trimmed or deleted, some never were. */
const idNear = (r: Random, c: Clock) => `${msNear(r, c)}-${r.int(0, 3)}`;
/** An ID near the clock, or now and then a malformed one. */
const someId = (r: Random, c: Clock, bad = 0.07) => (r.chance(bad) ? r.pick(BAD_IDS) : idNear(r, c));
const ids = (r: Random, c: Clock, bad = 0.07) => Array.from({ length: r.int(1, 3) }, () => someId(r, c, bad));

/** XADD's ID: mostly the clock moved on, sometimes `ms-*`, an older ID or a malformed one. */
function addId(r: Random, c: Clock): string {
  return r.weighted<() => string>([
    [12, () => {
      c.ms += r.weighted([[1, 0], [3, 1], [1, 2]] as const);
      return r.chance(0.85) ? `${c.ms}-${r.int(0, 3)}` : String(c.ms);
    }],
    [3, () => `${(c.ms += r.int(0, 1))}-*`],
    [2, () => (r.chance(0.8) ? `${r.int(0, c.ms)}-${r.int(0, 3)}` : `${r.int(0, c.ms)}-*`)],
    [1, () => r.pick(["0-0", "0", "0-*", "0-1", ...BAD_IDS.filter((x) => x !== "*")])],
  ])();
}

/** A small count, or now and then an edge. */
const count = (r: Random, min = 0, max = 5) => (r.chance(0.88) ? String(r.int(min, max)) : r.pick(["-1", "0", "abc", "1.5", ...INT64_EDGES.slice(0, 5)]));

/** MAXLEN = n or MINID = id, the `=` now and then left out; sometimes LIMIT (refused without `~`), both strategies, or a bad threshold. */
function trim(r: Random, c: Clock): string[] {
  const strategy = (): string[] => {
    const maxlen = r.chance(0.6);
    const threshold = maxlen
      ? r.chance(0.9) ? String(r.int(0, 8)) : r.pick(["-1", "abc", "1.5", "", "9223372036854775807", "-9223372036854775808"])
      : r.chance(0.9) ? (r.chance(0.7) ? idNear(r, c) : String(msNear(r, c))) : r.pick(BAD_IDS);
    return [maxlen ? "MAXLEN" : "MINID", ...maybe(r, 0.6, "="), threshold];
  };
  return [
    ...strategy(),
    ...(r.chance(0.03) ? strategy() : []),
    ...maybe(r, 0.06, "LIMIT", count(r)),
  ];
}

/** A range bound (XRANGE, XREVRANGE, XPENDING): `-` and `+` (`ends` as often as the rest), whole and incomplete IDs, exclusive `(` ones, malformed ones. */
function bound(r: Random, c: Clock, low: boolean, ends = 4): string {
  return r.weighted<() => string>([
    [ends, () => (low ? "-" : "+")],
    [1, () => (low ? "+" : "-")],
    [4, () => idNear(r, c)],
    [2, () => String(msNear(r, c))],
    [2, () => `(${idNear(r, c)}`],
    [1, () => `(${msNear(r, c)}`],
    [1, () => r.pick(["(-", "(+", "(", "((1", "(0-0", "0-0", "(18446744073709551615-18446744073709551615", "18446744073709551615", ...BAD_IDS.slice(0, 8)])],
  ])();
}

/** XREAD's ID for one stream: from the start, `$` (nothing new without BLOCK), one near the clock, or a malformed one. */
function readId(r: Random, c: Clock): string {
  return r.weighted<() => string>([
    [3, () => r.pick(["0", "0-0"])],
    [2, () => "$"],
    [4, () => idNear(r, c)],
    [1, () => String(msNear(r, c))],
    [1, () => r.pick([">", "-", "abc", "(1-0", "18446744073709551616"])],
  ])();
}

/** XREADGROUP's ID for one stream: mostly `>` (new entries), else the consumer's history from an ID; `$` is Redis's error. */
function groupReadId(r: Random, c: Clock): string {
  return r.weighted<() => string>([
    [7, () => ">"],
    [2, () => "0"],
    [2, () => idNear(r, c)],
    [1, () => r.pick(["$", "abc", "-", "+", "0-0"])],
  ])();
}

/** `STREAMS k… id…`: one to three keys (`k`) and as many IDs, now and then one too few or too many (the unbalanced error). */
function streamsArgs(r: Random, k: (r: Random) => string, id: () => string): string[] {
  const ks = Array.from({ length: r.weighted([[15, 1], [4, 2], [1, 3]] as const) }, () => k(r));
  const n = r.chance(0.95) ? ks.length : ks.length + r.pick([-1, 1]);
  return ["STREAMS", ...ks, ...Array.from({ length: n }, id)];
}

/** min-idle-time: 0 (everything pending), 100000000000 ms (only what XCLAIM … IDLE 1000000000000 made that old), or an edge. */
const minIdle = (r: Random) =>
  r.weighted<() => string>([[10, () => "0"], [1, () => "100000000000"], [1, () => r.pick(["-1", "abc", "1.5", "9223372036854775807"])]])();

/** ENTRIESREAD or ENTRIESADDED: small, or an edge (-1 is ENTRIESREAD's "unknown"). */
const entries = (r: Random) => (r.chance(0.85) ? String(r.int(0, 12)) : r.pick(["-1", "-2", "abc", "9223372036854775807"]));

/** XCLAIM's options, some in random order: IDLE and TIME (only values whose outcome does not depend on the run's pace), RETRYCOUNT, FORCE, JUSTID, LASTID. */
function claimOptions(r: Random, c: Clock): string[] {
  const options: string[][] = [];
  if (r.chance(0.2)) options.push(["IDLE", r.pick(["0", "1000", "1000000000000", "-5", "abc"])]);
  if (r.chance(0.08)) options.push(["TIME", r.pick(["4102444800000", "-5", "-1", "abc"])]);
  if (r.chance(0.2)) options.push(["RETRYCOUNT", count(r)]);
  if (r.chance(0.2)) options.push(["FORCE"]);
  if (r.chance(0.5)) options.push(["JUSTID"]);
  if (r.chance(0.15)) options.push(["LASTID", someId(r, c, 0.03)]);
  if (r.chance(0.03)) options.push([r.pick(["BOGUS", "IDLE", "COUNT"])]);
  for (let i = options.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [options[i], options[j]] = [options[j]!, options[i]!];
  }
  return options.flat();
}

/** XGROUP's subcommands: CREATE (MKSTREAM, ENTRIESREAD), SETID, CREATECONSUMER, DELCONSUMER, DESTROY, and one that does not exist. */
function xgroup(r: Random): string[] {
  const c = clockOf(r);
  const groupId = () => r.weighted<() => string>([[3, () => "$"], [3, () => "0"], [2, () => idNear(r, c)], [1, () => r.pick(BAD_IDS)]])();
  return r.weighted<() => string[]>([
    // Every group alike (g2 and g3 too), so that each soon exists where the commands look for it.
    [5, () => ["XGROUP", "CREATE", skey(r), r.chance(0.9) ? r.pick(["g1", "g2", "g3"]) : group(r), groupId(), ...maybe(r, 0.5, "MKSTREAM"), ...maybe(r, 0.15, "ENTRIESREAD", entries(r))]],
    [2, () => ["XGROUP", "SETID", gkey(r), group(r), groupId(), ...maybe(r, 0.15, "ENTRIESREAD", entries(r))]],
    [2, () => ["XGROUP", "CREATECONSUMER", gkey(r), group(r), consumer(r)]],
    [2, () => ["XGROUP", "DELCONSUMER", gkey(r), group(r), consumer(r)]],
    // g2 and g3 mostly: g1 is the group most commands find.
    [0.8, () => ["XGROUP", "DESTROY", skey(r), r.weighted([[1, "g1"], [3, "g2"], [3, "g3"], [0.2, "nosuch"]] as const)]],
    [0.2, () => ["XGROUP", r.pick(["NOSUCH", "create", "SETID"]), skey(r), group(r), ...maybe(r, 0.5, "MKSTREAM")]],
  ])();
}

/** XINFO STREAM (not FULL), GROUPS and CONSUMERS, and now and then a bad option or subcommand. */
function xinfo(r: Random): string[] {
  return r.weighted<() => string[]>([
    [3, () => ["XINFO", "STREAM", skey(r)]],
    [2, () => ["XINFO", "GROUPS", skey(r)]],
    [3, () => ["XINFO", "CONSUMERS", gkey(r), group(r)]],
    [0.2, () => r.pick([["XINFO", "STREAM", skey(r), "BOGUS"], ["XINFO", "NOSUCH", skey(r)], ["XINFO", "groups", skey(r)]])],
  ])();
}

export const streams: CommandSpec[] = [
  {
    name: "XADD",
    weight: 20,
    gen: (r) => {
      const c = clockOf(r);
      const fields = pairs(r, () => member(r), () => value(r));
      return [
        "XADD", skey(r),
        ...maybe(r, 0.1, "NOMKSTREAM"),
        ...(r.chance(0.25) ? trim(r, c) : []),
        addId(r, c),
        ...(r.chance(0.04) ? fields.slice(0, -1) : fields),
      ];
    },
  },
  { name: "XRANGE", weight: 6, gen: (r) => ["XRANGE", skey(r), bound(r, clockOf(r), true), bound(r, clockOf(r), false), ...maybe(r, 0.35, "COUNT", count(r))] },
  { name: "XREVRANGE", weight: 4, gen: (r) => ["XREVRANGE", skey(r), bound(r, clockOf(r), false), bound(r, clockOf(r), true), ...maybe(r, 0.35, "COUNT", count(r))] },
  { name: "XLEN", weight: 3, gen: (r) => ["XLEN", skey(r)] },
  { name: "XDEL", weight: 4, gen: (r) => ["XDEL", skey(r), ...ids(r, clockOf(r))] },
  { name: "XTRIM", weight: 3, gen: (r) => ["XTRIM", skey(r), ...trim(r, clockOf(r))] },
  { name: "XREAD", weight: 5, gen: (r) => ["XREAD", ...maybe(r, 0.4, "COUNT", count(r)), ...streamsArgs(r, skey, () => readId(r, clockOf(r)))] },
  {
    name: "XSETID",
    weight: 2,
    gen: (r) => {
      const c = clockOf(r);
      const id = r.weighted<() => string>([
        [3, () => `${(c.ms += r.int(0, 2))}-${r.int(0, 3)}`],
        [2, () => idNear(r, c)],
        [0.5, () => r.pick(BAD_IDS)],
      ])();
      return ["XSETID", skey(r), id, ...maybe(r, 0.2, "ENTRIESADDED", entries(r)), ...maybe(r, 0.2, "MAXDELETEDID", someId(r, c))];
    },
  },
  { name: "XGROUP", weight: 13, gen: xgroup },
  {
    name: "XREADGROUP",
    weight: 10,
    gen: (r) => [
      "XREADGROUP",
      ...(r.chance(0.98) ? ["GROUP", group(r), consumer(r)] : []),
      ...maybe(r, 0.35, "COUNT", count(r)),
      ...maybe(r, 0.2, "NOACK"),
      ...streamsArgs(r, gkey, () => groupReadId(r, clockOf(r))),
    ],
  },
  { name: "XACK", weight: 5, gen: (r) => ["XACK", gkey(r), group(r), ...ids(r, clockOf(r))] },
  {
    name: "XPENDING",
    weight: 6,
    gen: (r) => {
      const c = clockOf(r);
      if (r.chance(0.35)) return ["XPENDING", gkey(r), group(r)];
      return [
        "XPENDING", gkey(r), group(r),
        ...maybe(r, 0.15, "IDLE", r.pick(["0", "100000000000", "abc", "-1"])),
        bound(r, c, true, 15), bound(r, c, false, 15), count(r, 0, 6),
        ...maybe(r, 0.4, consumer(r)),
      ];
    },
  },
  { name: "XCLAIM", weight: 4, gen: (r) => ["XCLAIM", gkey(r), group(r), consumer(r), minIdle(r), ...ids(r, clockOf(r), 0.03), ...claimOptions(r, clockOf(r))] },
  {
    name: "XAUTOCLAIM",
    weight: 4,
    gen: (r) => {
      const c = clockOf(r);
      const start = r.weighted<() => string>([[4, () => "0"], [1, () => "0-0"], [3, () => idNear(r, c)], [1, () => `(${idNear(r, c)}`], [1, () => r.pick(["-", "+", "abc", "(+"])]])();
      return ["XAUTOCLAIM", gkey(r), group(r), consumer(r), minIdle(r), start, ...maybe(r, 0.5, "COUNT", count(r, 1, 5)), ...maybe(r, 0.5, "JUSTID")];
    },
  },
  { name: "XINFO", weight: 7, gen: xinfo },
];
