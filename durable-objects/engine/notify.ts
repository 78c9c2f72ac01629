/**
 * Keyspace notifications (CONFIG SET notify-keyspace-events), as Redis's notifyKeyspaceEvent
 * sends them: for each event of an enabled class, a message `<event>` on `__keyspace@0__:<key>`
 * (flag K) and a message `<key>` on `__keyevent@0__:<event>` (flag E).
 *
 * The events of one command are made in two places. The keyspace's change (keyspace/overlay.ts)
 * records what happens to a key whatever the command: `expired` when a key is found past its
 * deadline (a lookup, or the master's sweep), `del` when it is deleted or a collection is emptied,
 * `evicted` under maxmemory. The dispatcher (dispatch.ts) adds the command's own events after it
 * ran, from EVENTS below: Redis's event name for the command, on the keys its effects wrote, in
 * Redis's order (a key's `del` after the command's event on it, a lookup's `expired` first).
 * Only the master makes events; it publishes them as it publishes PUBLISH's messages, so each
 * replica's subscribers get them too (node/publisher.ts). Redis's `n` class (`new`) is not made.
 */
import { fromBytes } from "./bytes";
import type { PubSubMessage } from "../protocol/pubsub";
import type { Effect } from "./keyspace";

/** One event: its class (a character of "g$lshzxetd"), its name, its key. */
export interface KeyEvent {
  readonly cls: string;
  readonly event: string;
  readonly key: string;
}

const ALL_CLASSES = "g$lshzxetd";

/** What notify-keyspace-events (as CONFIG normalizes it) asks for; null when nothing is sent. */
export interface Notifying {
  readonly classes: ReadonlySet<string>;
  readonly keyspace: boolean;
  readonly keyevent: boolean;
}

export function notifyingOf(flags: string): Notifying | null {
  const keyspace = flags.includes("K");
  const keyevent = flags.includes("E");
  if (!keyspace && !keyevent) return null;
  const classes = new Set<string>();
  for (const c of flags) {
    if (c === "A") for (const x of ALL_CLASSES) classes.add(x);
    else if (ALL_CLASSES.includes(c)) classes.add(c);
  }
  return classes.size === 0 ? null : { classes, keyspace, keyevent };
}

/** The messages of `events` that `notifying` enables, in order (the keyspace channel's first, as Redis). */
export function messagesOf(events: readonly KeyEvent[], notifying: Notifying): PubSubMessage[] {
  const out: PubSubMessage[] = [];
  for (const { cls, event, key } of events) {
    if (!notifying.classes.has(cls)) continue;
    if (notifying.keyspace) out.push({ channel: `__keyspace@0__:${key}`, message: event });
    if (notifying.keyevent) out.push({ channel: `__keyevent@0__:${event}`, message: key });
  }
  return out;
}

const keyOf = (e: Effect): string => {
  const k = e[1]!;
  return typeof k === "string" ? k : fromBytes(k);
};

/** A command's call, as its rule reads it: its arguments and the effects it recorded. */
interface Call {
  readonly argv: readonly string[];
  readonly effects: readonly Effect[];
  /** Keys the effects wrote (deleting them included: a pop of a whole list), in order, once each. */
  readonly written: readonly string[];
  /** Whether a key exists once the command ran. */
  readonly exists: (key: string) => boolean;
}

type Rule = (call: Call) => KeyEvent[];

/** `event` of class `cls` on every key the call wrote. */
const each =
  (cls: string, event: string): Rule =>
  ({ written }) =>
    written.map((key) => ({ cls, event, key }));

/** Whether the call recorded an effect named `name` (PEXPIREAT, PERSIST...) on `key`. */
const recorded = (call: Call, name: string, key: string) => call.effects.some((e) => e[0] === name && keyOf(e) === key);

/** SET and its kin: `set`, then `expire` where the command gave the key a deadline. */
const setting =
  (expires: (argv: readonly string[]) => boolean): Rule =>
  (call) =>
    call.written.flatMap((key) => [{ cls: "$", event: "set", key }, ...(expires(call.argv) ? [{ cls: "g", event: "expire", key }] : [])]);

/** MSET and MSETNX: a `set` per pair, a key given twice included (as Redis's loop sends them), when any was written. */
const pairs = (call: Call): KeyEvent[] =>
  call.written.length === 0 ? [] : call.argv.filter((_, i) => i % 2 === 1).map((key) => ({ cls: "$", event: "set", key }));

const setExpires = (argv: readonly string[]) => argv.slice(3).some((a) => ["EX", "PX", "EXAT", "PXAT"].includes(a.toUpperCase()));

/** A deadline set (`expire`) or removed (`persist`) on the keys the call wrote. */
const deadlines: Rule = (call) =>
  call.written.flatMap((key) => [
    ...(recorded(call, "PEXPIREAT", key) ? [{ cls: "g", event: "expire", key }] : []),
    ...(recorded(call, "PERSIST", key) ? [{ cls: "g", event: "persist", key }] : []),
  ]);

/** HEXPIRE and its kin (Redis 7.4): `hdel` when a deadline already past deleted fields, else `hexpire`. */
const fieldDeadlines: Rule = (call) =>
  call.written.flatMap((key) => (recorded(call, "HDEL", key) ? [{ cls: "h", event: "hdel", key }] : recorded(call, "HPEXPIREAT", key) ? [{ cls: "h", event: "hexpire", key }] : []));

/** An event on argv[at], when the call wrote anything. */
const on =
  (cls: string, event: string, at: number): Rule =>
  (call) =>
    call.effects.length > 0 ? [{ cls, event, key: call.argv[at]! }] : [];

/** A STORE command's event on its destination (argv[at]); an empty result deletes it instead (`del`, from the change). */
const stored =
  (cls: string, event: string, at = 1): Rule =>
  (call) => {
    const key = call.argv[at]!;
    return call.written.includes(key) && call.exists(key) ? [{ cls, event, key }] : [];
  };

/** LPOP/RPOP by a direction word (LEFT/RIGHT) at `at`. */
const popBy = (cls: string, at: number, left: string, right: string, words: [string, string]): Rule => (call) => {
  const word = (call.argv[at] ?? "").toUpperCase();
  return each(cls, word === words[0] ? left : right)(call);
};

/** LMPOP/ZMPOP numkeys key... LEFT|RIGHT / MIN|MAX (BLMPOP/BZMPOP after their timeout). */
const mpop = (cls: string, timeout: number, left: string, right: string, words: [string, string]): Rule => (call) => {
  const n = Number(call.argv[1 + timeout]);
  return popBy(cls, 2 + timeout + n, left, right, words)(call);
};

/** LMOVE source destination wherefrom whereto: the push on the destination, then the pop on the source (Redis's order). */
const move = (from: (argv: readonly string[]) => string, to: (argv: readonly string[]) => string): Rule => (call) => {
  if (call.effects.length === 0) return [];
  const [source, destination] = [call.argv[1]!, call.argv[2]!];
  return [
    { cls: "l", event: to(call.argv), key: destination },
    { cls: "l", event: from(call.argv), key: source },
  ];
};
const end = (word: string | undefined, left: string, right: string) => ((word ?? "").toUpperCase() === "LEFT" ? left : right);

/** RENAME and RENAMENX: `rename_from` on the source, `rename_to` on the destination, when it happened. */
const renamed: Rule = (call) =>
  call.effects.length > 0 ? [{ cls: "g", event: "rename_from", key: call.argv[1]! }, { cls: "g", event: "rename_to", key: call.argv[2]! }] : [];

/** GEORADIUS and GEORADIUSBYMEMBER with STORE or STOREDIST: `georadiusstore` on a destination left holding the result. */
const radiusStored: Rule = (call) => call.written.filter(call.exists).map((key) => ({ cls: "z", event: "georadiusstore", key }));

/** ZADD: `zincr` with INCR, else `zadd`. */
const zadd: Rule = (call) => {
  let incr = false;
  for (let i = 2; i < call.argv.length && ZADD_OPTIONS.has(call.argv[i]!.toUpperCase()); i++) incr ||= call.argv[i]!.toUpperCase() === "INCR";
  return each("z", incr ? "zincr" : "zadd")(call);
};
const ZADD_OPTIONS = new Set(["NX", "XX", "GT", "LT", "CH", "INCR"]);

/** XADD: `xadd`, and `xtrim` when its MAXLEN/MINID removed entries. */
const xadd: Rule = (call) => call.written.flatMap((key) => [{ cls: "t", event: "xadd", key }, ...(recorded(call, "XREM", key) ? [{ cls: "t", event: "xtrim", key }] : [])]);

/** XGROUP's subcommands' events, `xgroup-<subcommand>`, on the stream. */
const xgroup: Rule = (call) => (call.effects.length > 0 ? [{ cls: "t", event: `xgroup-${call.argv[1]!.toLowerCase()}`, key: call.argv[2]! }] : []);

/**
 * Each write command's own events (Redis 7.0's notifyKeyspaceEvent calls). Commands that are not
 * here make none of their own: DEL, UNLINK and GETDEL's `del`, and what a script or a FLUSHALL
 * does, come from the change and from the commands a script calls.
 */
export const EVENTS: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ["set", setting(setExpires)],
  ["setnx", setting(() => false)],
  ["setex", setting(() => true)],
  ["psetex", setting(() => true)],
  ["getset", setting(() => false)],
  ["mset", (call) => pairs(call)],
  ["msetnx", (call) => pairs(call)],
  ["setrange", each("$", "setrange")],
  ["append", each("$", "append")],
  ["incr", each("$", "incrby")],
  ["decr", each("$", "incrby")],
  ["incrby", each("$", "incrby")],
  ["decrby", each("$", "incrby")],
  ["incrbyfloat", each("$", "incrbyfloat")],
  ["getex", deadlines],
  ["setbit", each("$", "setbit")],
  ["bitfield", each("$", "setbit")],
  ["bitop", stored("$", "set", 2)],
  ["expire", deadlines],
  ["pexpire", deadlines],
  ["expireat", deadlines],
  ["pexpireat", deadlines],
  ["persist", deadlines],
  ["rename", renamed],
  ["renamenx", renamed],
  ["copy", on("g", "copy_to", 2)],
  ["restore", (call) => call.written.filter(call.exists).map((key) => ({ cls: "g", event: "restore", key }))],
  ["sort", (call) => call.written.filter(call.exists).map((key) => ({ cls: "l", event: "sortstore", key }))],
  ["lpush", each("l", "lpush")],
  ["lpushx", each("l", "lpush")],
  ["rpush", each("l", "rpush")],
  ["rpushx", each("l", "rpush")],
  ["linsert", each("l", "linsert")],
  ["lset", each("l", "lset")],
  ["lrem", each("l", "lrem")],
  ["ltrim", (call) => (call.written.length > 0 || call.exists(call.argv[1]!) ? [{ cls: "l", event: "ltrim", key: call.argv[1]! }] : [])],
  ["lpop", each("l", "lpop")],
  ["rpop", each("l", "rpop")],
  ["blpop", each("l", "lpop")],
  ["brpop", each("l", "rpop")],
  ["lmpop", mpop("l", 0, "lpop", "rpop", ["LEFT", "RIGHT"])],
  ["blmpop", mpop("l", 1, "lpop", "rpop", ["LEFT", "RIGHT"])],
  ["rpoplpush", move(() => "rpop", () => "lpush")],
  ["brpoplpush", move(() => "rpop", () => "lpush")],
  ["lmove", move((a) => end(a[3], "lpop", "rpop"), (a) => end(a[4], "lpush", "rpush"))],
  ["blmove", move((a) => end(a[3], "lpop", "rpop"), (a) => end(a[4], "lpush", "rpush"))],
  ["sadd", each("s", "sadd")],
  ["srem", each("s", "srem")],
  ["spop", each("s", "spop")],
  [
    "smove",
    (call) =>
      call.effects.length > 0
        ? [{ cls: "s", event: "srem", key: call.argv[1]! }, ...(recorded(call, "SADD", call.argv[2]!) ? [{ cls: "s", event: "sadd", key: call.argv[2]! }] : [])]
        : [],
  ],
  ["sinterstore", stored("s", "sinterstore")],
  ["sunionstore", stored("s", "sunionstore")],
  ["sdiffstore", stored("s", "sdiffstore")],
  ["hset", each("h", "hset")],
  ["hmset", each("h", "hset")],
  ["hsetnx", each("h", "hset")],
  ["hdel", each("h", "hdel")],
  ["hincrby", each("h", "hincrby")],
  ["hincrbyfloat", each("h", "hincrbyfloat")],
  ["hexpire", fieldDeadlines],
  ["hpexpire", fieldDeadlines],
  ["hexpireat", fieldDeadlines],
  ["hpexpireat", fieldDeadlines],
  ["hpersist", (call) => call.written.filter((key) => recorded(call, "HPERSIST", key)).map((key) => ({ cls: "h", event: "hpersist", key }))],
  ["zadd", zadd],
  ["zincrby", each("z", "zincr")],
  ["zrem", each("z", "zrem")],
  ["zremrangebyscore", each("z", "zremrangebyscore")],
  ["zremrangebyrank", each("z", "zremrangebyrank")],
  ["zremrangebylex", each("z", "zremrangebylex")],
  ["zpopmin", each("z", "zpopmin")],
  ["zpopmax", each("z", "zpopmax")],
  ["bzpopmin", each("z", "zpopmin")],
  ["bzpopmax", each("z", "zpopmax")],
  ["zmpop", mpop("z", 0, "zpopmin", "zpopmax", ["MIN", "MAX"])],
  ["bzmpop", mpop("z", 1, "zpopmin", "zpopmax", ["MIN", "MAX"])],
  ["zunionstore", stored("z", "zunionstore")],
  ["zinterstore", stored("z", "zinterstore")],
  ["zdiffstore", stored("z", "zdiffstore")],
  ["zrangestore", stored("z", "zrangestore")],
  ["geoadd", each("z", "zadd")],
  ["georadius", radiusStored],
  ["georadiusbymember", radiusStored],
  ["geosearchstore", stored("z", "geosearchstore")],
  ["pfadd", each("$", "pfadd")],
  ["pfmerge", (call) => (call.exists(call.argv[1]!) ? [{ cls: "$", event: "pfadd", key: call.argv[1]! }] : [])],
  ["xadd", xadd],
  ["xtrim", each("t", "xtrim")],
  ["xdel", each("t", "xdel")],
  ["xsetid", each("t", "xsetid")],
  ["xgroup", xgroup],
]);

/**
 * The events of one command that ran: `made` are those its change recorded meanwhile (a lookup's
 * `expired`, a deletion's `del`, and a script's commands' events); the command's own (EVENTS) go
 * after the `expired` ones, each key's `del` after the command's last event on that key. A `del`
 * of a key that exists when the command ends (deleted, then written again: an overwrite) is not an
 * event, as in Redis.
 */
export function commandEvents(argv: readonly string[], effects: readonly Effect[], made: readonly KeyEvent[], exists: (key: string) => boolean): KeyEvent[] {
  const rule = EVENTS.get(argv[0]!.toLowerCase());
  if (rule === undefined) return [...made];
  // A key the command found past its deadline was deleted for that (its `expired`), not written by
  // the command: that DEL is not the command's (SET XX, LPOP... of such a key make no event of theirs).
  const lapsed = new Set(made.filter((m) => m.event === "expired").map((m) => m.key));
  const ownEffects = effects.filter((e) => !(e[0] === "DEL" && e.length >= 2 && lapsed.delete(keyOf(e))));
  const written: string[] = [];
  for (const e of ownEffects) {
    if (e.length < 2) continue;
    const key = keyOf(e);
    if (!written.includes(key)) written.push(key);
  }
  const own = rule({ argv, effects: ownEffects, written, exists });
  // Expiries found by the command's lookups come first (a hash field's too: Redis's lazy expiry runs before the command's work).
  const first = (m: KeyEvent) => m.event === "expired" || m.event === "hexpired";
  const expired = made.filter(first);
  const deletions = made.filter((m) => !first(m) && !(m.event === "del" && exists(m.key)));
  const out = [...expired];
  for (const [i, event] of own.entries()) {
    out.push(event);
    // After the command's last event on a key: that key's deletion (a collection it emptied).
    if (own.slice(i + 1).some((later) => later.key === event.key)) continue;
    for (const d of deletions) if (d.key === event.key) out.push(d);
  }
  for (const d of deletions) if (!own.some((o) => o.key === d.key)) out.push(d);
  return out;
}

/** A master's keyspace notifications: what CONFIG asks for, and the messages committed changes made, until the node publishes them. */
export class Notifications {
  private notifying: Notifying | null = null;
  private pending: PubSubMessage[] = [];

  /** Whether any event is sent (commands then add their own). */
  get on(): boolean {
    return this.notifying !== null;
  }

  /** notify-keyspace-events' value, as CONFIG keeps it (undefined: the default, none). */
  configure(flags: string | undefined): void {
    this.notifying = notifyingOf(flags ?? "");
  }

  /** A committed change's events, as messages (those of classes not asked for dropped). */
  collect(events: readonly KeyEvent[]): void {
    if (this.notifying !== null && events.length > 0) this.pending.push(...messagesOf(events, this.notifying));
  }

  /** The messages to publish, in order, since the last call. */
  take(): PubSubMessage[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}
