import { parseInt64 } from "../../../args";
import { defineCommand, key } from "../../../command";
import { errors } from "../../../errors";
import { type StreamId, parseId, parseRangeId } from "../id";
import { Stream, entryReply } from "../stream";

/** XRANGE's and XREVRANGE's arguments, read as xrangeGenericCommand reads them. */
function parseRange(args: readonly string[], reverse: boolean): { key: string; start: StreamId; end: StreamId; count: number } {
  const start = parseRangeId(reverse ? args[2]! : args[1]!, false);
  const end = parseRangeId(reverse ? args[1]! : args[2]!, true);
  let count = -1;
  for (let j = 3; j < args.length; j++) {
    if (args[j]!.toLowerCase() === "count" && j + 1 < args.length) {
      const n = parseInt64(args[++j]!);
      count = n < 0n ? 0 : Number(n);
    } else throw errors.syntax();
  }
  return { key: args[0]!, start, end, count };
}

const rangeCommand = (name: string, reverse: boolean) =>
  defineCommand({
    name,
    arity: -4,
    flags: ["readonly"],
    keys: key(1),
    parse: (args) => parseRange(args, reverse),
    run: ({ db }, a) => {
      const s = Stream.find(db, a.key);
      if (s === null) return [];
      if (a.count === 0) return null;
      return s.range(a.start, a.end, reverse, a.count).map(entryReply);
    },
  });

/** XRANGE key start end [COUNT n] (`-`, `+`, an incomplete ID, `(` exclusive). @see https://redis.io/docs/latest/commands/xrange/ */
export default rangeCommand("xrange", false);

/** XREVRANGE key end start [COUNT n]. @see https://redis.io/docs/latest/commands/xrevrange/ */
export const xrevrange = rangeCommand("xrevrange", true);

/** XLEN key. @see https://redis.io/docs/latest/commands/xlen/ */
export const xlen = defineCommand({
  name: "xlen",
  arity: 2,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k]) => ({ key: k! }),
  run: ({ db }, a) => Stream.find(db, a.key)?.meta.length ?? 0,
});

/**
 * XDEL key id [id ...] → how many were there. The key is looked up before the IDs are read, as
 * Redis does (a missing key answers 0 whatever they are). @see https://redis.io/docs/latest/commands/xdel/
 */
export const xdel = defineCommand({
  name: "xdel",
  arity: -3,
  flags: ["write"],
  keys: key(1),
  parse: ([k, ...ids]) => ({ key: k!, ids }),
  run: ({ db }, a) => {
    const s = Stream.find(db, a.key, false);
    if (s === null) return 0;
    const ids = a.ids.map((id) => parseId(id, { strict: true }));
    const n = s.deleteEntries(ids);
    s.save();
    return n;
  },
});
