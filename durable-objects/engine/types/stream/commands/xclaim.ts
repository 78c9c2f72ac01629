import { LONG_MAX, long, parseInt64 } from "../../../args";
import { type Reply, defineCommand, key } from "../../../command";
import { RedisError, cArg, errors } from "../../../errors";
import { type StreamId, ZERO_ID, compareIds, parseId, parseRangeId } from "../id";
import { Group, noGroup } from "../groups";
import { Stream, entryReply, idReply } from "../stream";

/** A number argument with its own error text (getLongLongFromObjectOrReply's `msg`). */
function integer(s: string, message: string): number {
  try {
    return Number(parseInt64(s));
  } catch {
    throw new RedisError(`ERR ${message}`);
  }
}

/** The claimed entry as a reply: its ID alone (JUSTID) or the entry. */
const claimed = (s: Stream, id: StreamId, justId: boolean): Reply => (justId ? idReply(id) : entryReply({ id, pairs: s.entry(id)! }));

/**
 * XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE]
 * [JUSTID] [LASTID id]: pending entries idle at least min-idle-time move to `consumer`; a deleted
 * entry leaves the PEL. @see https://redis.io/docs/latest/commands/xclaim/
 */
export default defineCommand({
  name: "xclaim",
  arity: -6,
  flags: ["write"],
  keys: key(1),
  parse: (args) => ({ args }),
  run: ({ db, now }, { args }) => {
    const [k, groupName, consumer] = [args[0]!, args[1]!, args[2]!];
    const s = Stream.find(db, k, false);
    const g = s && Group.find(s, groupName);
    if (s === null || g === null) throw noGroup(k, groupName);
    const minIdle = Math.max(0, integer(args[3]!, "Invalid min-idle-time argument for XCLAIM"));
    const ids: StreamId[] = [];
    let j = 4;
    for (; j < args.length; j++) {
      try {
        ids.push(parseId(args[j]!, { strict: true }));
      } catch {
        break;
      }
    }
    let force = false;
    let justId = false;
    let deliveryTime = -1;
    let retryCount = -1;
    let lastId = ZERO_ID;
    for (; j < args.length; j++) {
      const more = args.length - 1 - j;
      const opt = args[j]!.toLowerCase();
      if (opt === "force") force = true;
      else if (opt === "justid") justId = true;
      else if (opt === "idle" && more > 0) deliveryTime = now - integer(args[++j]!, "Invalid IDLE option argument for XCLAIM");
      else if (opt === "time" && more > 0) deliveryTime = integer(args[++j]!, "Invalid TIME option argument for XCLAIM");
      else if (opt === "retrycount" && more > 0) retryCount = integer(args[++j]!, "Invalid RETRYCOUNT option argument for XCLAIM");
      else if (opt === "lastid" && more > 0) lastId = parseId(args[++j]!, { strict: true });
      else throw new RedisError(`ERR Unrecognized XCLAIM option '${cArg(args[j]!)}'`);
    }
    if (compareIds(lastId, g.meta.lastId) > 0) g.meta = { ...g.meta, lastId };
    if (deliveryTime === -1 || deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
    g.seen(consumer, now);
    const out: Reply[] = [];
    for (const id of ids) {
      let nack = g.nack(id);
      if (s.entry(id) === null) {
        if (nack !== null) g.acknowledge(id);
        continue;
      }
      let fresh = false;
      if (force && nack === null) {
        nack = { consumer: "", deliveryTime: now, deliveryCount: 1 };
        fresh = true;
      }
      if (nack === null) continue;
      if (!fresh && minIdle && now - nack.deliveryTime < minIdle) continue;
      const count = retryCount >= 0 ? retryCount : justId ? nack.deliveryCount : nack.deliveryCount + 1;
      g.assign(id, consumer, deliveryTime, count, now);
      out.push(claimed(s, id, justId));
      g.putConsumer(consumer, { ...g.consumer(consumer)!, activeTime: now });
    }
    g.save();
    s.save();
    return out;
  },
});

/**
 * XAUTOCLAIM key group consumer min-idle-time start [COUNT n] [JUSTID] → [next start, claimed,
 * deleted IDs]: XCLAIM of the pending entries from `start` on, scanning at most 10 x COUNT.
 * @see https://redis.io/docs/latest/commands/xautoclaim/
 */
export const xautoclaim = defineCommand({
  name: "xautoclaim",
  arity: -6,
  flags: ["write"],
  keys: key(1),
  parse: (args) => {
    const minIdle = Math.max(0, integer(args[3]!, "Invalid min-idle-time argument for XAUTOCLAIM"));
    const start = parseRangeId(args[4]!, false);
    let count = 100;
    let justId = false;
    for (let j = 5; j < args.length; j++) {
      const opt = args[j]!.toLowerCase();
      if (opt === "count" && j + 1 < args.length) count = long(args[++j]!, 1n, LONG_MAX / 16n, "COUNT must be > 0");
      else if (opt === "justid") justId = true;
      else throw errors.syntax();
    }
    return { key: args[0]!, group: args[1]!, consumer: args[2]!, minIdle, start, count, justId };
  },
  run: ({ db, now }, a) => {
    const s = Stream.find(db, a.key, false);
    const g = s && Group.find(s, a.group);
    if (s === null || g === null) throw noGroup(a.key, a.group);
    g.seen(a.consumer, now);
    let attempts = a.count * 10;
    let count = a.count;
    const out: Reply[] = [];
    const deleted: Reply[] = [];
    const pel = g.pending(a.start);
    let next: IteratorResult<[StreamId, { consumer: string; deliveryTime: number; deliveryCount: number }]> | null = null;
    while (attempts-- > 0 && count > 0) {
      next = pel.next();
      if (next.done) break;
      const [id, nack] = next.value;
      next = null;
      if (s.entry(id) === null) {
        g.acknowledge(id);
        deleted.push(idReply(id));
        count--;
        continue;
      }
      if (a.minIdle && now - nack.deliveryTime < a.minIdle) continue;
      g.assign(id, a.consumer, now, a.justId ? nack.deliveryCount : nack.deliveryCount + 1, now);
      out.push(claimed(s, id, a.justId));
      count--;
      g.putConsumer(a.consumer, { ...g.consumer(a.consumer)!, activeTime: now });
    }
    const after = next ?? pel.next();
    g.save();
    s.save();
    return [idReply(after.done ? ZERO_ID : after.value[0]), out, deleted];
  },
});
