/**
 * A seeded program of `ops` commands over every command Flaredis serves: mostly single commands,
 * some MULTI blocks and pipelines. Commands are mutated now and then (cut short: wrong arity; an
 * extra argument; an int64 or float edge in place of an argument; lower case; a name that does
 * not exist) so the error paths are walked as often as the good ones.
 *
 * Random replies (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, RANDOMKEY) are generated and
 * compared by shape; SPOP (which changes the data at random), the SCAN family (cursors) and
 * DBSIZE (see CommandSpec.countsExpired) come only as single steps. TIME, INFO, WAIT, MEMORY USAGE and OBJECT FREQ|IDLETIME|REFCOUNT are not
 * generated: their replies are the implementation's or the clock's.
 *
 * `scripted` (off by default): half of the single commands that are compared exactly run inside a
 * Lua script (EVAL with the command as ARGV: redis.call, redis.pcall, or the reply as cjson), so
 * that Redis's conversions between replies and Lua are compared for every command and reply shape.
 *
 * `binary` (off by default): bytes that are not UTF-8 (issue 33). Some single commands get such a
 * last argument (sent to Flaredis as the raw POST body of the path form), and in some commands,
 * transactions and pipelines keys, members, values and patterns are replaced by twins of theirs
 * that are bytes (BINARY_TWINS: the same twin each time, so they meet again), sent to Flaredis as
 * base64 arguments (`Flaredis-Request-Encoding: base64`).
 */
import { type CommandSpec, hashes, serverAndKeys, strings } from "./catalog-basic.ts";
import { bitmaps } from "./catalog-bitmaps.ts";
import { blocking, lists, sets, zsets } from "./catalog-collections.ts";
import { geo } from "./catalog-geo.ts";
import { hashTtl } from "./catalog-hash-ttl.ts";
import { hll } from "./catalog-hll.ts";
import { sort } from "./catalog-sort.ts";
import { streams } from "./catalog-streams.ts";
import { differencesFor, runs } from "./known-differences.ts";
import { Random } from "./random.ts";
import { comparedExactly } from "./compare.ts";
import { type Arg, type Command, SCRIPTS, type Step, commandName } from "./reply.ts";
import { FLOAT_EDGES, INT64_EDGES, key, value } from "./values.ts";

/** The catalog by family, for a program that draws from some only (`GeneratorOptions.families`). */
export const FAMILIES = { serverAndKeys, strings, bitmaps, hll, geo, hashes, hashTtl, lists, sets, zsets, sort, blocking, streams } as const;
export type Family = keyof typeof FAMILIES;
const EVERY: readonly CommandSpec[] = Object.values(FAMILIES).flat();
/** The families added after the recorded transcripts (recorded.test.ts), whose programs were drawn without them. */
export const LATER_FAMILIES: readonly Family[] = ["blocking", "streams"];
/** What a program draws from unless told (`families`): every family but the later ones, so the recorded programs stay as they were. */
export const CATALOG: readonly CommandSpec[] = EVERY.filter((s) => !LATER_FAMILIES.some((f) => FAMILIES[f].includes(s)));
const BY_NAME = new Map(EVERY.map((s) => [s.name, s]));
/** Commands that may go in a MULTI block or a pipeline. */
const BLOCKABLE = EVERY.filter((s) => !s.scan && !s.randomWrite && !s.countsExpired && !s.reencodes);

export function specOf(command: Command): CommandSpec | undefined {
  return BY_NAME.get(commandName(command));
}

export interface GeneratorOptions {
  /** The reference's version: commands it cannot run at all are not generated (known-differences.ts). */
  readonly redisVersion: string;
  /** Arguments that are not UTF-8 (see above). */
  readonly binary?: boolean;
  /** Draw from these families only (all by default): e.g. hashes and their field deadlines, so that fields have some. */
  readonly families?: readonly Family[];
  /** Run commands inside scripts too (see above). */
  readonly scripted?: boolean;
}


/** Commands whose last argument is a value, which --binary may replace by bytes that are not UTF-8. */
const VALUE_LAST = new Set(["SET", "SETNX", "GETSET", "APPEND", "SETRANGE", "ECHO", "RPUSH", "LPUSH", "SADD", "HSET", "SETEX", "PSETEX", "LPUSHX", "RPUSHX"]);
const BINARY_VALUES = ["/w==", "wyg=", "gICA", "/v8A", "AP8=", "7aCA", "wMA=", "YfJi"];

const bytesArg = (...parts: (string | number)[]): Arg => ({
  base64: Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.of(p)))).toString("base64"),
});
/** Arguments and their twins of bytes that are not UTF-8: keys (that patterns match or not), members, lex bounds, values, patterns. */
const BINARY_TWINS = new Map<string, Arg>([
  ["k1", bytesArg("k", 0xff, "1")],
  ["k3", bytesArg("k", 0x00, "3")],
  ["k6", bytesArg("k", 0x80)],
  ["é", bytesArg(0xe9)],
  ["m1", bytesArg("m", 0xc3)],
  ["b", bytesArg(0xfe, 0xff)],
  ["[é", bytesArg("[", 0xe9)],
  ["(m1", bytesArg("(m", 0xc3)],
  ["hello", bytesArg("h", 0xff, "llo")],
  ["v", bytesArg(0xc0, 0x80)],
  ["k[0-3]", bytesArg("k[", 0x80, "-", 0xff, "]*")],
  ["k?", bytesArg("k", 0xff, "?")],
  ["*1*", bytesArg("*", 0x00, "*")],
]);

/** `command` with its arguments' twins of bytes, where they have one. */
const twinned = (command: Command): Command => command.map((a) => (typeof a === "string" ? (BINARY_TWINS.get(a) ?? a) : a));

export function generate(seed: number, ops: number, options: GeneratorOptions): Step[] {
  const r = new Random(seed);
  const differences = differencesFor(options.redisVersion);
  const make = (from: readonly CommandSpec[]): Command => {
    for (;;) {
      const spec = r.weighted(from.map((s) => [s.weight, s] as const));
      const command = mutate(r, spec.gen(r), spec.blocks ?? false);
      if (runs(differences, command)) return command;
    }
  };
  const catalog = options.families ? options.families.flatMap((f) => FAMILIES[f]) : CATALOG;
  const blockable = BLOCKABLE.filter((s) => catalog.includes(s));
  const steps: Step[] = [];
  for (let n = 0; n < ops; ) {
    const form = r.weighted([[88, "single"], [6, "multi"], [6, "pipeline"]] as const);
    if (form === "single") {
      let command = make(catalog);
      if (options.binary && VALUE_LAST.has(commandName(command)) && command.length > 2 && r.chance(0.3)) {
        command = [...command.slice(0, -1), { base64: r.pick(BINARY_VALUES) }];
      } else if (options.binary && r.chance(0.3)) {
        command = twinned(command);
      } else if (options.scripted && r.chance(0.5) && blockable.some((s) => s.name === commandName(command) && !s.random)) {
        // The reply as cjson encodes it is compared as text: only for a command compared exactly.
        const scripts = comparedExactly(command) ? SCRIPTS : SCRIPTS.slice(0, 2);
        command = ["EVAL", r.pick(scripts), "0", ...command.map(String)];
      }
      steps.push(command);
      n++;
      continue;
    }
    const size = Math.min(ops - n, form === "multi" ? r.int(1, 5) : r.int(2, 6));
    const commands = Array.from({ length: size }, () => make(blockable)).map((c) => (options.binary && r.chance(0.3) ? twinned(c) : c));
    steps.push(form === "multi" ? { multi: commands } : { pipeline: commands });
    n += size;
  }
  return steps;
}

const EXTRA = ["NX", "XX", "GET", "WITHSCORES", "LIMIT", "COUNT", "REV", "BYSCORE", "1", "k0", "x"];

/**
 * Now and then, a command is damaged in one of Redis's error paths' ways. A blocking command is
 * never given a value appended or an argument replaced, which could make its timeout 0 (cut
 * short, renamed or given a key first, its timeout is refused or stays as it was).
 */
function mutate(r: Random, command: Command, blocks: boolean): Command {
  const roll = r.below(1000);
  if (roll < 30 && command.length > 1) return command.slice(0, r.int(1, command.length - 1));
  if (roll < 75 && blocks) return command;
  if (roll < 50) return [...command, r.chance(0.5) ? r.pick(EXTRA) : value(r)];
  if (roll < 75 && command.length > 1) {
    const at = r.int(1, command.length - 1);
    const copy = [...command];
    copy[at] = r.chance(0.5) ? r.pick(INT64_EDGES) : r.pick(FLOAT_EDGES);
    return copy;
  }
  if (roll < 95) return [String(command[0]).toLowerCase(), ...command.slice(1)];
  if (roll < 98) return [`${String(command[0])}X`, ...command.slice(1)];
  if (roll < 100) return [String(command[0]), key(r), ...command.slice(1)];
  return command;
}
