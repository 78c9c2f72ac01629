import { LONG_MAX, long } from "../../../args";
import { type Reply, defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { Group, dropReferences, referenced } from "../groups";
import { type StreamId, parseId } from "../id";
import { Stream } from "../stream";
import { type RefPolicy, isRefPolicy } from "./xadd";

/** Per ID: not there (or not pending), deleted (or acknowledged and deleted), kept for a group that still needs it. */
const NOT_FOUND = -1;
const DELETED = 1;
const REFERENCED = 2;

/**
 * `[KEEPREF | DELREF | ACKED] IDS numids id …` from `args[from]` on, in any order, as Redis 8.2
 * reads it (streamParseAckDelArgsOrReply); the IDs are checked later.
 */
function parseAckDel(args: readonly string[], from: number): { policy: RefPolicy; ids: readonly string[] } {
  let policy: RefPolicy | null = null;
  let ids: readonly string[] | null = null;
  for (let j = from; j < args.length; ) {
    const opt = args[j]!.toLowerCase();
    if (isRefPolicy(opt) && policy === null) {
      policy = opt;
      j++;
    } else if (opt === "ids" && j + 1 < args.length) {
      const n = long(args[j + 1]!, 1n, LONG_MAX, "Number of IDs must be a positive integer");
      if (n > args.length - j - 2) throw new RedisError("ERR The `numids` parameter must match the number of arguments");
      ids = args.slice(j + 2, j + 2 + n);
      j += 2 + n;
    } else throw errors.syntax();
  }
  if (ids === null) throw new RedisError("ERR IDS option is required");
  return { policy: policy ?? "keepref", ids };
}

const parseIds = (ids: readonly string[]): StreamId[] => ids.map((id) => parseId(id, { strict: true }));

/**
 * XDELEX key [KEEPREF | DELREF | ACKED] IDS numids id … (Redis 8.2): XDEL with a policy for the
 * groups' references: KEEPREF leaves them, DELREF removes the entry from every PEL too, ACKED
 * deletes only an entry no group still needs. Per ID: -1 not there, 1 deleted, 2 still needed.
 * @see https://redis.io/docs/latest/commands/xdelex/
 */
export default defineCommand({
  name: "xdelex",
  arity: -5,
  flags: ["write"],
  keys: key(1),
  parse: (args) => ({ args }),
  run: ({ db }, { args }): Reply => {
    const s = Stream.find(db, args[0]!, false);
    const a = parseAckDel(args, 1);
    if (s === null) return a.ids.map(() => NOT_FOUND);
    const out = parseIds(a.ids).map((id) => {
      if (a.policy === "acked" && referenced(s, id)) return REFERENCED;
      if (a.policy === "delref") dropReferences(s, id);
      return s.deleteEntries([id]) > 0 ? DELETED : NOT_FOUND;
    });
    s.save();
    return out;
  },
});

/**
 * XACKDEL key group [KEEPREF | DELREF | ACKED] IDS numids id … (Redis 8.2): XACK, then the
 * entry's deletion as XDELEX's policy says. Per ID: -1 not pending in the group, 1 acknowledged
 * (and deleted, or gone already), 2 acknowledged and kept for another group.
 * @see https://redis.io/docs/latest/commands/xackdel/
 */
export const xackdel = defineCommand({
  name: "xackdel",
  arity: -6,
  flags: ["write"],
  keys: key(1),
  parse: (args) => ({ args }),
  run: ({ db }, { args }): Reply => {
    const s = Stream.find(db, args[0]!, false);
    const a = parseAckDel(args, 2);
    const g = s && Group.find(s, args[1]!);
    if (s === null || g === null) return a.ids.map(() => NOT_FOUND);
    const out = parseIds(a.ids).map((id) => {
      if (!g.acknowledge(id)) return NOT_FOUND;
      g.save();
      if (a.policy === "acked" && referenced(s, id)) return REFERENCED;
      if (a.policy === "delref") dropReferences(s, id);
      s.deleteEntries([id]);
      return DELETED;
    });
    g.save();
    s.save();
    return out;
  },
});
