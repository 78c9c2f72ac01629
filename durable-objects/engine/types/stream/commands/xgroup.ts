import { parseInt64 } from "../../../args";
import { OK, defineCommand, key } from "../../../command";
import { RedisError, cArg, errors } from "../../../errors";
import { type StreamId, ZERO_ID, compareIds, isZero, parseId } from "../id";
import { Group } from "../groups";
import { Stream } from "../stream";

const HELP = [
  "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
  "HELP",
  "    Print this help.",
];

const subcommandSyntax = (sub: string) => new RedisError(`ERR unknown subcommand or wrong number of arguments for '${cArg(sub, 128)}'. Try XGROUP HELP.`);

/**
 * XGROUP CREATE | SETID | DESTROY | CREATECONSUMER | DELCONSUMER | HELP, with Redis's checks in
 * Redis's order (xgroupCommand). @see https://redis.io/docs/latest/commands/xgroup/
 */
export default defineCommand({
  name: "xgroup",
  arity: -2,
  flags: ["write", "denyoom"],
  keys: { first: 2, last: 2, step: 1 },
  subcommands: { create: -5, setid: -5, destroy: 4, createconsumer: 5, delconsumer: 5, help: 2 },
  parse: ([sub, ...rest]) => ({ sub: sub!, rest }),
  run: ({ db, now }, a) => {
    const sub = a.sub.toLowerCase();
    if (sub === "help") return HELP;
    const [k, name] = [a.rest[0]!, a.rest[1]!];
    let mkstream = false;
    let entriesRead: bigint | null = null;
    for (let i = 3; i < a.rest.length; ) {
      const opt = a.rest[i]!.toLowerCase();
      if (sub === "create" && opt === "mkstream") {
        mkstream = true;
        i++;
      } else if ((sub === "create" || sub === "setid") && opt === "entriesread" && i + 1 < a.rest.length) {
        const n = parseInt64(a.rest[i + 1]!);
        if (n < 0n && n !== -1n) throw new RedisError("ERR value for ENTRIESREAD must be positive or -1");
        entriesRead = n === -1n ? null : n;
        i += 2;
      } else throw subcommandSyntax(a.sub);
    }
    let s = Stream.find(db, k, false);
    if (!mkstream && s === null)
      throw new RedisError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
    const g = s && Group.find(s, name);
    if (!mkstream && g === null && sub !== "create" && sub !== "destroy") throw new RedisError(`NOGROUP No such consumer group '${cArg(name)}' for key name '${cArg(k)}'`);
    if (sub === "create" && a.rest.length <= 6) {
      const id = a.rest[2] === "$" ? (s?.meta.lastId ?? ZERO_ID) : parseId(a.rest[2]!, { strict: true });
      s ??= Stream.create(db, k);
      if (g !== null || Group.create(s, name, id, entriesRead) === null) throw new RedisError("BUSYGROUP Consumer Group name already exists");
      s.save();
      return OK;
    }
    if (sub === "setid" && (a.rest.length === 3 || a.rest.length === 5)) {
      const id = a.rest[2] === "$" ? s!.meta.lastId : parseId(a.rest[2]!);
      g!.meta = { ...g!.meta, lastId: id, entriesRead };
      g!.save();
      s!.save();
      return OK;
    }
    if (sub === "destroy") {
      if (g === null) return 0;
      g.destroy();
      s!.save();
      return 1;
    }
    if (sub === "createconsumer") {
      const created = g!.createConsumer(a.rest[2]!, now);
      s!.save();
      return created ? 1 : 0;
    }
    if (sub === "delconsumer") {
      const pending = g!.deleteConsumer(a.rest[2]!);
      s!.save();
      return pending ?? 0;
    }
    throw subcommandSyntax(a.sub);
  },
});

/**
 * XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]: the stream's last ID (never below its
 * last entry's) and counters. @see https://redis.io/docs/latest/commands/xsetid/
 */
export const xsetid = defineCommand({
  name: "xsetid",
  arity: -3,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, last, ...opts]) => {
    const id = parseId(last!, { strict: true });
    let entriesAdded: bigint | null = null;
    let maxDeleted: StreamId = ZERO_ID;
    for (let i = 0; i < opts.length; i += 2) {
      const opt = opts[i]!.toLowerCase();
      if (opt === "entriesadded" && i + 1 < opts.length) {
        entriesAdded = parseInt64(opts[i + 1]!);
        if (entriesAdded < 0n) throw new RedisError("ERR entries_added must be positive");
      } else if (opt === "maxdeletedid" && i + 1 < opts.length) {
        maxDeleted = parseId(opts[i + 1]!, { strict: true });
        if (compareIds(id, maxDeleted) < 0) throw new RedisError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
      } else throw errors.syntax();
    }
    return { key: k!, id, entriesAdded, maxDeleted };
  },
  run: ({ db }, a) => {
    const s = Stream.find(db, a.key, false);
    if (s === null) throw errors.noSuchKey();
    if (compareIds(a.id, s.meta.maxDeletedId) < 0) throw new RedisError("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id");
    if (s.meta.length > 0) {
      if (compareIds(a.id, s.lastValidId()) < 0) throw new RedisError("ERR The ID specified in XSETID is smaller than the target stream top item");
      if (a.entriesAdded !== null && BigInt(s.meta.length) > a.entriesAdded)
        throw new RedisError("ERR The entries_added specified in XSETID is smaller than the target stream length");
    }
    s.setMeta({ lastId: a.id, ...(a.entriesAdded !== null ? { entriesAdded: a.entriesAdded } : {}), ...(isZero(a.maxDeleted) ? {} : { maxDeletedId: a.maxDeleted }) });
    s.save();
    return OK;
  },
});
