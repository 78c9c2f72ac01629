import { toBytes } from "../../../bytes";
import { parseInt64 } from "../../../args";
import { type Reply, defineCommand, integerReply } from "../../../command";
import { RedisError, cArg, errors } from "../../../errors";
import { MAX_ID, ZERO_ID } from "../id";
import { Group } from "../groups";
import { Stream, entryReply, idReply } from "../stream";

const HELP = [
  "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
  "HELP",
  "    Print this help.",
];

const subcommandSyntax = (sub: string) => new RedisError(`ERR unknown subcommand or wrong number of arguments for '${cArg(sub, 128)}'. Try XINFO HELP.`);
const b = (s: string) => toBytes(s);
const int = (n: bigint | null): number | bigint | null => (n === null ? null : integerReply(n));
/** Redis's stream-node-max-entries: radix-tree-keys is reported as if entries filled nodes of this many (Flaredis keeps no nodes). */
const NODE_ENTRIES = 100;

/**
 * XINFO STREAM key [FULL [COUNT n]] | GROUPS key | CONSUMERS key group | HELP, in Redis 7.2's
 * fields. radix-tree-keys and radix-tree-nodes describe Redis's memory layout, which Flaredis does
 * not have: they are what Redis would show for full nodes. @see https://redis.io/docs/latest/commands/xinfo-stream/
 */
export default defineCommand({
  name: "xinfo",
  arity: -2,
  flags: ["readonly"],
  keys: { first: 2, last: 2, step: 1 },
  subcommands: { stream: -3, groups: 3, consumers: 4, help: 2 },
  parse: ([sub, ...rest]) => ({ sub: sub!, rest }),
  run: ({ db, now }, a) => {
    const sub = a.sub.toLowerCase();
    if (sub === "help") return HELP;
    const key = a.rest[0]!;
    const s = Stream.find(db, key);
    if (s === null) throw errors.noSuchKey();
    if (sub === "consumers") {
      const g = Group.find(s, a.rest[1]!);
      if (g === null) throw new RedisError(`NOGROUP No such consumer group '${cArg(a.rest[1]!)}' for key name '${cArg(key)}'`);
      return [...g.consumers()].map(([name, c]) => [
        b("name"), b(name), b("pending"), c.pending, b("idle"), Math.max(0, now - c.seenTime), b("inactive"), c.activeTime === -1 ? -1 : now - c.activeTime,
      ]);
    }
    if (sub === "groups") return [...Group.all(s)].map((g) => groupInfo(g, false, 0));
    return streamInfo(s, a.rest.slice(1));
  },
});

function groupInfo(g: Group, full: boolean, count: number): Reply[] {
  const read = int(g.meta.entriesRead);
  if (!full)
    return [b("name"), b(g.name), b("consumers"), g.meta.consumers, b("pending"), g.meta.pending, b("last-delivered-id"), idReply(g.meta.lastId), b("entries-read"), read, b("lag"), int(g.lag())];
  const limit = count || -1;
  const pel = [...g.pending(ZERO_ID, null, limit)].map(([id, n]): Reply => [idReply(id), b(n.consumer), n.deliveryTime, n.deliveryCount]);
  const consumers = [...g.consumers()].map(([name, c]): Reply => [
    b("name"), b(name), b("seen-time"), c.seenTime, b("active-time"), c.activeTime, b("pel-count"), c.pending,
    b("pending"), [...g.pending(ZERO_ID, name, limit)].map(([id, n]): Reply => [idReply(id), n.deliveryTime, n.deliveryCount]),
  ]);
  return [b("name"), b(g.name), b("last-delivered-id"), idReply(g.meta.lastId), b("entries-read"), read, b("lag"), int(g.lag()), b("pel-count"), g.meta.pending, b("pending"), pel, b("consumers"), consumers];
}

function streamInfo(s: Stream, opts: readonly string[]): Reply {
  let full = false;
  let count = 10;
  if (opts.length > 0) {
    if ((opts.length !== 1 && opts.length !== 3) || opts[0]!.toLowerCase() !== "full") throw subcommandSyntax("STREAM");
    full = true;
    if (opts.length === 3) {
      if (opts[1]!.toLowerCase() !== "count") throw subcommandSyntax("STREAM");
      const n = parseInt64(opts[2]!);
      count = n < 0n ? 10 : Number(n);
    }
  }
  const m = s.meta;
  const keys = Math.ceil(m.length / NODE_ENTRIES);
  const head: Reply[] = [
    b("length"), m.length, b("radix-tree-keys"), keys, b("radix-tree-nodes"), keys + 1, b("last-generated-id"), idReply(m.lastId),
    b("max-deleted-entry-id"), idReply(m.maxDeletedId), b("entries-added"), int(BigInt.asIntN(64, m.entriesAdded)), b("recorded-first-entry-id"), idReply(m.firstId),
  ];
  if (!full) {
    const first = s.edge(false);
    const last = s.edge(true);
    return [...head, b("groups"), m.groups, b("first-entry"), first && entryReply(first), b("last-entry"), last && entryReply(last)];
  }
  return [...head, b("entries"), s.range(ZERO_ID, MAX_ID, false, count || -1).map(entryReply), b("groups"), [...Group.all(s)].map((g) => groupInfo(g, true, count))];
}
