import { toBytes } from "../../../bytes";
import { long, parseInt64 } from "../../../args";
import { blockOr } from "../../../blocking";
import { BlockOn, type Context, type Flag, type Reply, defineCommand } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { MAX_ID, type StreamId, ZERO_ID, compareIds, formatId, nextId, parseId } from "../id";
import { Group, noGroup } from "../groups";
import { Stream, entryReply, idReply } from "../stream";

interface ReadArgs {
  readonly timeoutMs: number | null;
  readonly count: number;
  readonly group: { readonly name: string; readonly consumer: string } | null;
  readonly noAck: boolean;
  readonly keys: readonly string[];
  readonly ids: readonly string[];
  /** The arguments as given, and where the IDs start in them (XREAD's `$` is rewritten there when it blocks). */
  readonly args: readonly string[];
  readonly idsAt: number;
}

/** XREAD's and XREADGROUP's options, read as xreadCommand reads them. */
function parseRead(args: readonly string[], name: string, group: boolean): ReadArgs {
  let timeoutMs: number | null = null;
  let count = 0;
  let g: ReadArgs["group"] = null;
  let noAck = false;
  let streamsAt = -1;
  for (let i = 0; i < args.length; i++) {
    const more = args.length - i - 1;
    const o = args[i]!.toLowerCase();
    if (o === "block" && more > 0) {
      const n = long(args[++i]!, undefined, undefined, "timeout is not an integer or out of range");
      if (n < 0) throw new RedisError("ERR timeout is negative");
      timeoutMs = n;
    } else if (o === "count" && more > 0) {
      const n = parseInt64(args[++i]!);
      count = n < 0n ? 0 : Number(n);
    } else if (o === "streams" && more > 0) {
      streamsAt = i + 1;
      if ((args.length - streamsAt) % 2 !== 0)
        throw new RedisError(`ERR Unbalanced '${name.toLowerCase()}' list of streams: for each stream key an ID or '${group ? ">" : "$"}' must be specified.`);
      break;
    } else if (o === "group" && more >= 2) {
      if (!group) throw new RedisError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
      g = { name: args[i + 1]!, consumer: args[i + 2]! };
      i += 2;
    } else if (o === "noack") {
      if (!group) throw new RedisError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
      noAck = true;
    } else throw errors.syntax();
  }
  if (streamsAt < 0) throw errors.syntax();
  if (group && g === null) throw new RedisError("ERR Missing GROUP option for XREADGROUP");
  const n = (args.length - streamsAt) / 2;
  return { timeoutMs, count, group: g, noAck, keys: args.slice(streamsAt, streamsAt + n), ids: args.slice(streamsAt + n), args, idsAt: streamsAt + n };
}

/** Where STREAMS is in argv, the options before it walked as `parseRead` walks them (a group may be named "streams"), or -1. */
function streamsAt(argv: readonly string[]): number {
  for (let i = 1; i < argv.length; i++) {
    const o = argv[i]!.toLowerCase();
    if (o === "streams") return i;
    if (o === "block" || o === "count") i++;
    else if (o === "group") i += 2;
  }
  return -1;
}

/** The keys after STREAMS (half of what follows it). */
function streamKeys(argv: readonly string[]): string[] {
  const at = streamsAt(argv);
  if (at < 0) return [];
  const n = Math.floor((argv.length - at - 1) / 2);
  return argv.slice(at + 1, at + 1 + n);
}

/** BLOCK among the options (before STREAMS). */
function blocks(argv: readonly string[]): boolean {
  const end = streamsAt(argv);
  for (let i = 1; i < (end < 0 ? argv.length : end); i++) {
    const o = argv[i]!.toLowerCase();
    if (o === "block") return true;
    if (o === "count") i++;
    else if (o === "group") i += 2;
  }
  return false;
}

/** A served stream: [key, entries]. */
type Served = [Uint8Array, Reply[]];

/**
 * XREAD [COUNT n] [BLOCK ms] STREAMS key [key ...] id [id ...]: the entries after each ID (`$`:
 * the stream's last ID now), nil when none. With BLOCK, and nothing yet, the request waits on the
 * primary (engine/blocking.ts) for an XADD to one of the keys; `$` is then read as the last ID
 * when it blocked. @see https://redis.io/docs/latest/commands/xread/
 */
export default defineCommand({
  name: "xread",
  arity: -4,
  flags: ["readonly"],
  flagsFor: (argv): readonly Flag[] => (blocks(argv) ? ["readonly", "primary", "blocking"] : ["readonly"]),
  keys: null,
  otherKeys: streamKeys,
  parse: (args, name) => parseRead(args, name, false),
  run: (ctx, a) => {
    const after: StreamId[] = [];
    for (const [i, key] of a.keys.entries()) {
      const s = Stream.find(ctx.db, key);
      const id = a.ids[i]!;
      if (id === "$") after.push(s?.meta.lastId ?? ZERO_ID);
      else if (id === ">") throw new RedisError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
      else after.push(parseId(id, { strict: true }));
    }
    const out: Served[] = [];
    for (const [i, key] of a.keys.entries()) {
      const s = Stream.find(ctx.db, key, false);
      if (s === null || s.meta.length === 0 || compareIds(s.lastValidId(), after[i]!) <= 0) continue;
      const start = nextId(after[i]!)!;
      out.push([toBytes(key), s.range(start, MAX_ID, false, a.count || -1).map(entryReply)]);
    }
    if (out.length > 0) return out;
    if (a.timeoutMs === null) return null;
    // Blocked: `$` stands for the last ID now, not when it is run again.
    const block = blockOr(ctx, a.keys, a.timeoutMs);
    if (!(block instanceof BlockOn)) return block;
    const argv = ["xread", ...a.args];
    for (const [i, id] of a.ids.entries()) if (id === "$") argv[1 + a.idsAt + i] = formatId(after[i]!);
    return new BlockOn(a.keys, a.timeoutMs, argv);
  },
});

/**
 * XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]:
 * `>` delivers entries the group has not delivered yet (each then pending for this consumer,
 * unless NOACK); another ID answers the consumer's own pending entries after it (a deleted one
 * as [id, nil]). The consumer is created when missing. @see https://redis.io/docs/latest/commands/xreadgroup/
 */
export const xreadgroup = defineCommand({
  name: "xreadgroup",
  arity: -7,
  flags: ["write"],
  flagsFor: (argv): readonly Flag[] => (blocks(argv) ? ["write", "blocking"] : ["write"]),
  keys: null,
  otherKeys: streamKeys,
  parse: (args, name) => parseRead(args, name, true),
  run: (ctx, a) => readGroup(ctx, a),
});

function readGroup(ctx: Context, a: ReadArgs): Reply {
  const { name, consumer } = a.group!;
  const targets: { s: Stream; g: Group; after: StreamId | null }[] = [];
  // A key named twice is one stream and one group: what the first read delivered, the second sees.
  const opened = new Map<string, { s: Stream; g: Group }>();
  for (const [i, key] of a.keys.entries()) {
    const known = opened.get(key);
    const s = known?.s ?? Stream.find(ctx.db, key);
    const g = known?.g ?? (s && Group.find(s, name));
    if (s === null || g === null) throw noGroup(key, name, " in XREADGROUP with GROUP option");
    opened.set(key, { s, g });
    const id = a.ids[i]!;
    if (id === "$")
      throw new RedisError(
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
      );
    targets.push({ s, g, after: id === ">" ? null : parseId(id, { strict: true }) });
  }
  const now = ctx.now;
  const out: Served[] = [];
  for (const [i, { s, g, after }] of targets.entries()) {
    const key = toBytes(a.keys[i]!);
    g.seen(consumer, now);
    if (after !== null) {
      out.push([key, history(g, consumer, nextId(after) ?? MAX_ID, a.count, now)]);
    } else if (s.meta.length > 0 && compareIds(s.lastValidId(), g.meta.lastId) > 0) {
      const entries = s.range(nextId(g.meta.lastId)!, MAX_ID, false, a.count || -1);
      for (const e of entries) {
        g.deliveredUpTo(e.id);
        if (!a.noAck) g.assign(e.id, consumer, now, 1, now);
      }
      if (!a.noAck && entries.length > 0) g.putConsumer(consumer, { ...g.consumer(consumer)!, activeTime: now });
      out.push([key, entries.map(entryReply)]);
    }
    g.save();
    s.save();
  }
  if (out.length > 0) return out;
  return a.timeoutMs === null ? null : blockOr(ctx, a.keys, a.timeoutMs);
}

/** The consumer's own pending entries from `start` on (streamReplyWithRangeFromConsumerPEL): each delivered again. */
function history(g: Group, consumer: string, start: StreamId, count: number, now: number): Reply[] {
  const out: Reply[] = [];
  for (const [id, nack] of [...g.pending(start, consumer, count || -1)]) {
    const pairs = g.stream.entry(id);
    if (pairs === null) out.push([idReply(id), null]);
    else {
      out.push(entryReply({ id, pairs }));
      g.redeliver(id, nack, now, nack.deliveryCount + 1);
    }
  }
  return out;
}
