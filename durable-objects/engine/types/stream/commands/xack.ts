import { toBytes } from "../../../bytes";
import { parseInt64 } from "../../../args";
import { type Reply, defineCommand, key } from "../../../command";
import { errors } from "../../../errors";
import { type StreamId, compareIds, parseId, parseRangeId } from "../id";
import { Group, noGroup } from "../groups";
import { Stream, idReply } from "../stream";

/**
 * XACK key group id [id ...] → how many were pending. A missing key or group acknowledges
 * nothing; the IDs are all read before any is acknowledged. @see https://redis.io/docs/latest/commands/xack/
 */
export default defineCommand({
  name: "xack",
  arity: -4,
  flags: ["write"],
  keys: key(1),
  parse: ([k, group, ...ids]) => ({ key: k!, group: group!, ids }),
  run: ({ db }, a) => {
    const s = Stream.find(db, a.key, false);
    const g = s && Group.find(s, a.group);
    if (s === null || g === null) return 0;
    const ids = a.ids.map((id) => parseId(id, { strict: true }));
    let acknowledged = 0;
    for (const id of ids) if (g.acknowledge(id)) acknowledged++;
    g.save();
    s.save();
    return acknowledged;
  },
});

interface PendingArgs {
  readonly key: string;
  readonly group: string;
  readonly range: { start: StreamId; end: StreamId; count: number; minIdle: number; consumer: string | null } | null;
}

/**
 * XPENDING key group [[IDLE min-idle-time] start end count [consumer]]: the summary (count, first
 * and last ID, each consumer's count), or the entries in a range with their consumer, idle time
 * and delivery count. @see https://redis.io/docs/latest/commands/xpending/
 */
export const xpending = defineCommand({
  name: "xpending",
  arity: -3,
  flags: ["readonly"],
  keys: key(1),
  parse: (args): PendingArgs => {
    const [k, group] = [args[0]!, args[1]!];
    if (args.length !== 2 && (args.length < 5 || args.length > 8)) throw errors.syntax();
    if (args.length === 2) return { key: k, group, range: null };
    let at = 2;
    let minIdle = 0;
    if (args[2]!.toLowerCase() === "idle") {
      minIdle = Number(parseInt64(args[3]!));
      if (args.length < 7) throw errors.syntax();
      at += 2;
    }
    const n = parseInt64(args[at + 2]!);
    const start = parseRangeId(args[at]!, false);
    const end = parseRangeId(args[at + 1]!, true);
    return { key: k, group, range: { start, end, count: n < 0n ? 0 : Number(n), minIdle, consumer: args[at + 3] ?? null } };
  },
  run: ({ db, now }, a) => {
    const s = Stream.find(db, a.key);
    const g = s && Group.find(s, a.group);
    if (s === null || g === null) throw noGroup(a.key, a.group);
    if (a.range === null) {
      const [first, last] = [g.pendingEdge(false), g.pendingEdge(true)];
      if (first === null || last === null) return [0, null, null, null];
      const owners: Reply[] = [];
      for (const [name, c] of g.consumers()) if (c.pending > 0) owners.push([toBytes(name), toBytes(String(c.pending))]);
      return [g.meta.pending, idReply(first), idReply(last), owners];
    }
    const r = a.range;
    if (r.consumer !== null && g.consumer(r.consumer) === null) return [];
    const out: Reply[] = [];
    if (r.count === 0) return out;
    for (const [id, nack] of g.pending(r.start, r.consumer)) {
      if (compareIds(id, r.end) > 0) break;
      if (r.minIdle && now - nack.deliveryTime < r.minIdle) continue;
      out.push([idReply(id), toBytes(nack.consumer), Math.max(0, now - nack.deliveryTime), nack.deliveryCount]);
      if (out.length === r.count) break;
    }
    return out;
  },
});
