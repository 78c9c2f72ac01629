/**
 * Conformance cases: Streams (see cases.ts). Redis 7.2's semantics (checked against redis-server
 * 7.0.15, then moved to 7.2 where it changed: XINFO CONSUMERS's `inactive`, consumers made by any
 * XREADGROUP or claim, XSETID against max-deleted-entry-id, the XADD `ms-*` overflow error, the
 * unbalanced-streams text), lag and entries-read as 8.0 fixed them; exact trimming only (no `~`).
 */
import type { Case, Expected, Step } from "./cases";

const ok = (cmd: Step["cmd"]): Step => ({ cmd, reply: "OK" });
/** Steps that each answer `OK`. */
const oks = (...cmds: Step["cmd"][]): Step[] => cmds.map((cmd) => ok(cmd));
/** Steps that each fail with the same error. */
const fails = (error: string, ...cmds: Step["cmd"][]): Step[] => cmds.map((cmd) => ({ cmd, error }));
/** XADD with a full explicit ID, which is its reply. */
const add = (key: string, id: string, ...fv: string[]): Step => ({ cmd: ["XADD", key, id, ...fv], reply: id });
/** An entry as Redis replies it: [id, [field, value, ...]]. */
const e = (id: string, ...fv: string[]): Expected => [id, fv];
/** Entries 1-1 .. 5-1 of `five`, by number. */
const xs = (...ns: number[]): Expected => ns.map((n) => e(`${n}-1`, "a", String(n)));
/** An XREAD / XREADGROUP reply from stream `s` alone. */
const fromS = (...ns: number[]): Expected => [["s", xs(...ns)]];
/** Milliseconds since the last delivery or activity. */
const idle: Expected = { between: [0, 100_000] };
/** One XPENDING extended-form element. */
const pel = (id: string, consumer: string, deliveries: number): Expected => [id, consumer, idle, deliveries];
/** One XINFO GROUPS element. */
const group = (name: string, consumers: number, pending: number, last: string, read: number | null, lag: number | null): Expected =>
  ["name", name, "consumers", consumers, "pending", pending, "last-delivered-id", last, "entries-read", read, "lag", lag];
/** One XINFO CONSUMERS element; `inactive` -1 for a consumer that never got anything (Redis 7.2). */
const consumer = (name: string, pending: number, active = true): Expected => ["name", name, "pending", pending, "idle", idle, "inactive", active ? idle : -1];
const none: Expected = [0, null, null, null];

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INT = "ERR value is not an integer or out of range";
const SYNTAX = "ERR syntax error";
const BAD_ID = "ERR Invalid stream ID specified as stream command argument";
const SMALLER = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
const MAXLEN_NEG = "ERR The MAXLEN argument must be >= 0.";
const NO_KEY =
  "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
const UNBALANCED = "ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.";
const UNBALANCED_GROUP = "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.";
const LIMIT = "ERR syntax error, LIMIT cannot be used without the special ~ option";
const BOTH = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
const ENTRIESREAD = "ERR value for ENTRIESREAD must be positive or -1";
const MAX_ID = "18446744073709551615-18446744073709551615";
const arity = (name: string) => `ERR wrong number of arguments for '${name}' command`;
const nogroup = (key: string, group: string) => `NOGROUP No such key '${key}' or consumer group '${group}'`;
const nogroupRead = (key: string, group: string) => `${nogroup(key, group)} in XREADGROUP with GROUP option`;
const nogroupKey = (key: string, group: string) => `NOGROUP No such consumer group '${group}' for key name '${key}'`;

/** Five entries 1-1 .. 5-1, field `a`, values 1 .. 5. */
const five = [1, 2, 3, 4, 5].map((n) => add("s", `${n}-1`, "a", String(n)));
const readGroup = (consumer: string, ...rest: (string | number)[]): Step["cmd"] => ["XREADGROUP", "GROUP", "g", consumer, ...rest];

export const streamsCases: readonly Case[] = [
  {
    name: "XADD with explicit and partial IDs (ms-*, ms alone, leading zeros), XRANGE of the whole stream",
    steps: [
      { cmd: ["XLEN", "s"], reply: 0 },
      add("s", "1-1", "a", "1"),
      { cmd: ["XADD", "s", "1-*", "b", "2"], reply: "1-2" },
      { cmd: ["XADD", "s", "2-*", "c", "3"], reply: "2-0" },
      { cmd: ["XADD", "s", "3", "d", "4"], reply: "3-0" },
      { cmd: ["XADD", "s", "3-*", "f", "x", "f", "y"], reply: "3-1" },
      add("s", "5-18446744073709551615", "g", "5"),
      { cmd: ["XADD", "s", "5-*", "g", "6"], error: SMALLER },
      { cmd: ["XADD", "s", "6-*", "h", "7"], reply: "6-0" },
      { cmd: ["XADD", "s", "007-1", "i", "8"], reply: "7-1" },
      {
        cmd: ["XRANGE", "s", "-", "+"],
        reply: [e("1-1", "a", "1"), e("1-2", "b", "2"), e("2-0", "c", "3"), e("3-0", "d", "4"), e("3-1", "f", "x", "f", "y"),
          e("5-18446744073709551615", "g", "5"), e("6-0", "h", "7"), e("7-1", "i", "8")],
      },
      { cmd: ["XADD", "z", "0-*", "a", "1"], reply: "0-1" },
      { cmd: ["XADD", "z", "0-*", "a", "2"], reply: "0-2" },
    ],
  },
  {
    name: "XADD errors: 0-0, not above the top item, invalid IDs, odd arguments, an exhausted stream",
    steps: [
      { cmd: ["XADD", "s", "0-0", "a", "1"], error: "ERR The ID specified in XADD must be greater than 0-0" },
      add("s", "5-5", "a", "1"),
      ...fails(SMALLER, ["XADD", "s", "5-5", "a", "1"], ["XADD", "s", "5-4", "a", "1"], ["XADD", "s", "5", "a", "1"], ["XADD", "s", "4-*", "a", "1"]),
      ...fails(BAD_ID, ...["abc", "1-", "-1", "1-2-3", "x-1", "7-x", "7.0-1", "", "*-1", "7-18446744073709551616"].map((id) => ["XADD", "s", id, "a", "1"])),
      ...fails(arity("xadd"), ["XADD", "s", "6-0", "a"], ["XADD", "s", "6-0", "a", "1", "b"], ["XADD", "s", "6-0"], ["XADD", "s"]),
      add("s", MAX_ID, "a", "1"),
      ...fails("ERR The stream has exhausted the last possible ID, unable to add more items", ["XADD", "s", "18446744073709551615-*", "a", "1"], ["XADD", "s", "*", "a", "1"]),
    ],
  },
  {
    name: "XADD NOMKSTREAM; streams and the other commands: TYPE, EXISTS, DEL, WRONGTYPE both ways",
    steps: [
      { cmd: ["XADD", "s", "NOMKSTREAM", "1-1", "a", "1"], reply: null },
      add("s", "1-1", "a", "1"),
      { cmd: ["XADD", "s", "NOMKSTREAM", "2-1", "a", "2"], reply: "2-1" },
      { cmd: ["XADD", "s", "NOMKSTREAM", "MAXLEN", "1", "3-1", "a", "3"], reply: "3-1" },
      { cmd: ["XRANGE", "s", "-", "+"], reply: xs(3) },
      { cmd: ["TYPE", "s"], reply: "stream" },
      ...fails(WRONGTYPE, ["GET", "s"], ["LPUSH", "s", "x"], ["HGET", "s", "a"]),
      ok(["SET", "str", "v"]),
      ...fails(WRONGTYPE, ["XLEN", "str"], ["XRANGE", "str", "-", "+"], ["XREVRANGE", "str", "+", "-"], ["XDEL", "str", "1-1"],
        ["XTRIM", "str", "MAXLEN", "1"], ["XADD", "str", "1-1", "a", "1"]),
      { cmd: ["DEL", "s"], reply: 1 },
      { cmd: ["EXISTS", "s"], reply: 0 },
      add("s", "1-1", "a", "1"),
    ],
  },
  {
    name: "XADD MAXLEN and MINID trim exactly, and their option errors",
    steps: [
      ...five.slice(0, 3),
      { cmd: ["XADD", "s", "MAXLEN", "2", "4-1", "a", "4"], reply: "4-1" },
      { cmd: ["XRANGE", "s", "-", "+"], reply: xs(3, 4) },
      { cmd: ["XADD", "s", "MAXLEN", "=", "1", "5-1", "a", "5"], reply: "5-1" },
      { cmd: ["XRANGE", "s", "-", "+"], reply: xs(5) },
      add("s", "6-1", "a", "6"),
      add("s", "7-1", "a", "7"),
      { cmd: ["XADD", "s", "MINID", "6", "8-1", "a", "8"], reply: "8-1" },
      { cmd: ["XRANGE", "s", "-", "+"], reply: xs(6, 7, 8) },
      { cmd: ["XADD", "s", "MINID", "=", "9-0", "9-0", "a", "9"], reply: "9-0" },
      { cmd: ["XADD", "s", "MAXLEN", "0", "10-0", "a", "10"], reply: "10-0" },
      { cmd: ["XADD", "s", "9-5", "a", "1"], error: SMALLER },
      { cmd: ["XADD", "s", "MAXLEN", "-1", "11-0", "a", "1"], error: MAXLEN_NEG },
      { cmd: ["XADD", "s", "MAXLEN", "1", "MINID", "1", "11-0", "a", "1"], error: BOTH },
      ...fails(LIMIT, ["XADD", "s", "MAXLEN", "1", "LIMIT", "10", "11-0", "a", "1"], ["XADD", "s", "MINID", "=", "1", "LIMIT", "10", "11-0", "a", "1"]),
    ],
  },
  {
    name: "XTRIM MAXLEN and MINID trim exactly, and its errors",
    steps: [
      { cmd: ["XTRIM", "s", "MAXLEN", "1"], reply: 0 },
      ...five,
      { cmd: ["XTRIM", "s", "MAXLEN", "10"], reply: 0 },
      { cmd: ["XTRIM", "s", "MAXLEN", "=", "3"], reply: 2 },
      { cmd: ["XRANGE", "s", "-", "+"], reply: xs(3, 4, 5) },
      { cmd: ["XTRIM", "s", "MINID", "5"], reply: 2 },
      { cmd: ["XRANGE", "s", "-", "+"], reply: xs(5) },
      { cmd: ["XTRIM", "s", "MAXLEN", "-1"], error: MAXLEN_NEG },
      { cmd: ["XTRIM", "s", "MAXLEN", "1", "MINID", "1"], error: BOTH },
      { cmd: ["XTRIM", "s", "MINID", "1", "LIMIT", "1"], error: LIMIT },
      ...fails(SYNTAX, ["XTRIM", "s", "FOO", "1"], ["XTRIM", "s", "MAXLEN", "1", "extra"]),
      { cmd: ["XTRIM", "s"], error: arity("xtrim") },
      { cmd: ["XTRIM", "s", "MAXLEN", "0"], reply: 1 },
      { cmd: ["XLEN", "s"], reply: 0 },
      { cmd: ["EXISTS", "s"], reply: 1 },
    ],
  },
  {
    name: "XDEL; a stream emptied by XDEL still exists and keeps its last ID",
    steps: [
      { cmd: ["XDEL", "s", "1-1"], reply: 0 },
      ...five.slice(0, 3),
      { cmd: ["XDEL", "s", "2-1", "9-9", "2-1"], reply: 1 },
      { cmd: ["XDEL", "s", "3"], reply: 0 },
      { cmd: ["XRANGE", "s", "-", "+"], reply: xs(1, 3) },
      { cmd: ["XDEL", "s", "1-1", "3-1"], reply: 2 },
      { cmd: ["XLEN", "s"], reply: 0 },
      { cmd: ["EXISTS", "s"], reply: 1 },
      { cmd: ["XADD", "s", "3-1", "a", "1"], error: SMALLER },
      add("s", "3-2", "a", "1"),
    ],
  },
  {
    name: "XRANGE with -, +, incomplete IDs and exclusive bounds",
    steps: [
      ...["1-1", "1-2", "2-0", "3-5", "5-0", "5-1", "5-2", "7-0"].map((id) => add("s", id, "f", id)),
      { cmd: ["XRANGE", "s", "5", "5"], reply: [e("5-0", "f", "5-0"), e("5-1", "f", "5-1"), e("5-2", "f", "5-2")] },
      { cmd: ["XRANGE", "s", "2", "3"], reply: [e("2-0", "f", "2-0"), e("3-5", "f", "3-5")] },
      { cmd: ["XRANGE", "s", "(1-1", "(5-1"], reply: [e("1-2", "f", "1-2"), e("2-0", "f", "2-0"), e("3-5", "f", "3-5"), e("5-0", "f", "5-0")] },
      { cmd: ["XRANGE", "s", "(5", "+"], reply: [e("5-1", "f", "5-1"), e("5-2", "f", "5-2"), e("7-0", "f", "7-0")] },
      { cmd: ["XRANGE", "s", "(3", "(5"], reply: [e("3-5", "f", "3-5"), e("5-0", "f", "5-0"), e("5-1", "f", "5-1"), e("5-2", "f", "5-2")] },
      { cmd: ["XRANGE", "s", "(0-0", "(1-2"], reply: [e("1-1", "f", "1-1")] },
      { cmd: ["XRANGE", "s", "007", "+"], reply: [e("7-0", "f", "7-0")] },
      { cmd: ["XRANGE", "s", "6", "4"], reply: [] },
      { cmd: ["XRANGE", "s", "-", "(1-1"], reply: [] },
    ],
  },
  {
    name: "XRANGE and XREVRANGE with COUNT (0 and negative are nil), XREVRANGE bounds, missing keys, errors",
    steps: [
      { cmd: ["XRANGE", "s", "-", "+"], reply: [] },
      { cmd: ["XRANGE", "s", "-", "+", "COUNT", 0], reply: [] },
      ...five,
      { cmd: ["XRANGE", "s", "-", "+", "COUNT", 2], reply: xs(1, 2) },
      { cmd: ["XRANGE", "s", "(2-1", "+", "COUNT", 2], reply: xs(3, 4) },
      { cmd: ["XRANGE", "s", "-", "+", "COUNT", 1, "COUNT", 3], reply: xs(1, 2, 3) },
      { cmd: ["XRANGE", "s", "-", "+", "COUNT", 0], reply: null },
      { cmd: ["XRANGE", "s", "-", "+", "COUNT", -1], reply: null },
      { cmd: ["XREVRANGE", "s", "+", "-"], reply: xs(5, 4, 3, 2, 1) },
      { cmd: ["XREVRANGE", "s", "+", "-", "COUNT", 2], reply: xs(5, 4) },
      { cmd: ["XREVRANGE", "s", "4", "2"], reply: xs(4, 3, 2) },
      { cmd: ["XREVRANGE", "s", "(4-1", "(2-1"], reply: xs(3) },
      { cmd: ["XREVRANGE", "s", "-", "+"], reply: [] },
      ...fails(BAD_ID, ...["x", "(-", "(", "1-x", "-1"].map((id) => ["XRANGE", "s", id, "+"]), ["XRANGE", "s", "-", "(+"], ["XREVRANGE", "s", "x", "-"]),
      { cmd: ["XRANGE", "s", `(${MAX_ID}`, "+"], error: "ERR invalid start ID for the interval" },
      { cmd: ["XRANGE", "s", "-", "(0-0"], error: "ERR invalid end ID for the interval" },
      { cmd: ["XRANGE", "s", "-", "+", "COUNT", "x"], error: NOT_INT },
      ...fails(SYNTAX, ["XRANGE", "s", "-", "+", "COUNT"], ["XRANGE", "s", "-", "+", "FOO", 1]),
      { cmd: ["XRANGE", "s", "-"], error: arity("xrange") },
      { cmd: ["XREVRANGE", "s", "+"], error: arity("xrevrange") },
    ],
  },
  {
    name: "XREAD from several streams, COUNT, $, nil for no data, and its errors",
    steps: [
      { cmd: ["XREAD", "STREAMS", "s", "0"], reply: null },
      ...five.slice(0, 2),
      add("t", "1-5", "b", "1"),
      { cmd: ["XREAD", "STREAMS", "s", "t", "0", "0"], reply: [["s", xs(1, 2)], ["t", [e("1-5", "b", "1")]]] },
      { cmd: ["XREAD", "COUNT", 1, "STREAMS", "s", "t", "1-1", "1"], reply: [["s", xs(2)], ["t", [e("1-5", "b", "1")]]] },
      { cmd: ["XREAD", "STREAMS", "s", "t", "2-1", "1-5"], reply: null },
      { cmd: ["XREAD", "STREAMS", "s", "$"], reply: null },
      { cmd: ["XREAD", "STREAMS", "s", "t", "$", "0"], reply: [["t", [e("1-5", "b", "1")]]] },
      { cmd: ["XREAD", "STREAMS", "nokey", "s", "0", "1"], reply: fromS(1, 2) },
      { cmd: ["XREAD", "COUNT", 0, "STREAMS", "s", "0"], reply: fromS(1, 2) },
      { cmd: ["XREAD", "COUNT", -1, "STREAMS", "s", "1-1"], reply: fromS(2) },
      ...fails(UNBALANCED, ["XREAD", "STREAMS", "s", "t", "0"], ["XREAD", "COUNT", 1, "STREAMS", "s"]),
      ...fails(BAD_ID, ["XREAD", "STREAMS", "s", "t"], ["XREAD", "STREAMS", "s", "x"]),
      { cmd: ["XREAD", "s", "0"], error: arity("xread") },
      { cmd: ["XREAD", "FOO", 1, "STREAMS", "s", "0"], error: SYNTAX },
      { cmd: ["XREAD", "STREAMS", "s", ">"], error: "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option." },
      { cmd: ["XREAD", "NOACK", "STREAMS", "s", "0"], error: "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead." },
      ok(["SET", "str", "v"]),
      { cmd: ["XREAD", "STREAMS", "str", "0"], error: WRONGTYPE },
    ],
  },
  {
    name: "XSETID: against the last entry, ENTRIESADDED, MAXDELETEDID, and its errors",
    steps: [
      { cmd: ["XSETID", "s", "1-1"], error: "ERR no such key" },
      add("s", "5-1", "a", "1"),
      add("s", "6-1", "a", "2"),
      { cmd: ["XSETID", "s", "5-5"], error: "ERR The ID specified in XSETID is smaller than the target stream top item" },
      ...oks(["XSETID", "s", "6-1"], ["XSETID", "s", "10-0"]),
      { cmd: ["XADD", "s", "9-9", "a", "3"], error: SMALLER },
      { cmd: ["XADD", "s", "10-*", "a", "3"], reply: "10-1" },
      { cmd: ["XDEL", "s", "10-1"], reply: 1 },
      { cmd: ["XSETID", "s", "6-1"], error: "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id" },
      { cmd: ["XADD", "s", "7-0", "a", "4"], error: SMALLER },
      add("s", "11-0", "a", "4"),
      { cmd: ["XSETID", "s", "10-1"], error: "ERR The ID specified in XSETID is smaller than the target stream top item" },
      { cmd: ["XSETID", "s", "12-0", "ENTRIESADDED", 2], error: "ERR The entries_added specified in XSETID is smaller than the target stream length" },
      { cmd: ["XSETID", "s", "10-1", "ENTRIESADDED", 5, "MAXDELETEDID", "10-5"], error: "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id" },
      { cmd: ["XSETID", "s", "10-1", "ENTRIESADDED", -1], error: "ERR entries_added must be positive" },
      ...fails(BAD_ID, ["XSETID", "s", "10-1", "MAXDELETEDID", "x"], ["XSETID", "s", "x"]),
      { cmd: ["XSETID", "s"], error: arity("xsetid") },
      ok(["XSETID", "s", "12-1", "ENTRIESADDED", 5, "MAXDELETEDID", "12-1"]),
      { cmd: ["XADD", "s", "12-1", "a", "5"], error: SMALLER },
      add("s", "12-2", "a", "5"),
      add("e", "5-0", "a", "1"),
      { cmd: ["XDEL", "e", "5-0"], reply: 1 },
      { cmd: ["XSETID", "e", "1-0"], error: "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id" },
      { cmd: ["XADD", "e", "5-0", "a", "1"], error: SMALLER },
      add("e", "5-1", "a", "1"),
      ok(["SET", "str", "v"]),
      { cmd: ["XSETID", "str", "1-1"], error: WRONGTYPE },
    ],
  },
  {
    name: "XGROUP CREATE with $, 0, an ID, MKSTREAM and ENTRIESREAD; XINFO GROUPS in name order",
    steps: [
      { cmd: ["XGROUP", "CREATE", "s", "g", "$"], error: NO_KEY },
      ok(["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
      { cmd: ["TYPE", "s"], reply: "stream" },
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 0, 0, "0-0", null, 0)] },
      { cmd: ["XGROUP", "CREATE", "s", "g", "0"], error: "BUSYGROUP Consumer Group name already exists" },
      ...five.slice(0, 3),
      ...oks(["XGROUP", "CREATE", "s", "zero", "0", "ENTRIESREAD", -1], ["XGROUP", "CREATE", "s", "mid", "2-1"], ["XGROUP", "CREATE", "s", "top", "$"],
        ["XGROUP", "CREATE", "s", "er", "0", "ENTRIESREAD", 1], ["XGROUP", "CREATE", "s", "part", "2"]),
      {
        cmd: ["XINFO", "GROUPS", "s"],
        reply: [group("er", 0, 0, "0-0", 1, 3), group("g", 0, 0, "0-0", null, 3), group("mid", 0, 0, "2-1", null, null),
          group("part", 0, 0, "2-0", null, null), group("top", 0, 0, "3-1", null, 0), group("zero", 0, 0, "0-0", null, 3)],
      },
      { cmd: ["XGROUP", "CREATE", "s", "bad", "0", "ENTRIESREAD", -5], error: ENTRIESREAD },
      { cmd: ["XGROUP", "CREATE", "s", "bad", "0", "FOO"], error: "ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP." },
      { cmd: ["XGROUP", "CREATE", "s"], error: arity("xgroup|create") },
      { cmd: ["XGROUP", "FOO", "s", "g"], error: "ERR unknown subcommand 'FOO'. Try XGROUP HELP." },
      ok(["SET", "str", "v"]),
      ...fails(WRONGTYPE, ["XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"], ["XINFO", "GROUPS", "str"]),
    ],
  },
  {
    name: "XGROUP CREATECONSUMER, DELCONSUMER, DESTROY; XINFO CONSUMERS; NOGROUP and XINFO errors",
    steps: [
      ...five.slice(0, 3),
      ok(["XGROUP", "CREATE", "s", "g", "0"]),
      { cmd: ["XGROUP", "CREATECONSUMER", "s", "g", "zed"], reply: 1 },
      { cmd: ["XGROUP", "CREATECONSUMER", "s", "g", "zed"], reply: 0 },
      { cmd: ["XGROUP", "CREATECONSUMER", "s", "g", "amy"], reply: 1 },
      { cmd: readGroup("zed", "COUNT", 2, "STREAMS", "s", ">"), reply: fromS(1, 2) },
      { cmd: ["XINFO", "CONSUMERS", "s", "g"], reply: [consumer("amy", 0, false), consumer("zed", 2)] },
      { cmd: ["XGROUP", "DELCONSUMER", "s", "g", "zed"], reply: 2 },
      { cmd: ["XGROUP", "DELCONSUMER", "s", "g", "zed"], reply: 0 },
      { cmd: ["XPENDING", "s", "g"], reply: none },
      { cmd: ["XINFO", "CONSUMERS", "s", "g"], reply: [consumer("amy", 0, false)] },
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 1, 0, "2-1", 2, 1)] },
      ...fails(nogroupKey("s", "nog"), ["XGROUP", "CREATECONSUMER", "s", "nog", "c"], ["XGROUP", "DELCONSUMER", "s", "nog", "c"],
        ["XINFO", "CONSUMERS", "s", "nog"]),
      ...fails(NO_KEY, ["XGROUP", "CREATECONSUMER", "nokey", "g", "c"], ["XGROUP", "DESTROY", "nokey", "g"]),
      ...fails("ERR no such key", ["XINFO", "CONSUMERS", "nokey", "g"], ["XINFO", "GROUPS", "nokey"]),
      { cmd: ["XINFO", "CONSUMERS", "s"], error: arity("xinfo|consumers") },
      { cmd: ["XINFO", "FOO", "s"], error: "ERR unknown subcommand 'FOO'. Try XINFO HELP." },
      { cmd: ["XGROUP", "DESTROY", "s", "g"], reply: 1 },
      { cmd: ["XGROUP", "DESTROY", "s", "g"], reply: 0 },
      { cmd: ["XINFO", "GROUPS", "s"], reply: [] },
    ],
  },
  {
    name: "XGROUP SETID with $, an ID and ENTRIESREAD; the PEL stays; redelivery resets the count",
    steps: [
      ...five.slice(0, 3),
      ok(["XGROUP", "CREATE", "s", "g", "0"]),
      { cmd: readGroup("c", "COUNT", 1, "STREAMS", "s", ">"), reply: fromS(1) },
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 1, 1, "1-1", 1, 2)] },
      ok(["XGROUP", "SETID", "s", "g", "$"]),
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 1, 1, "3-1", null, 0)] },
      ok(["XGROUP", "SETID", "s", "g", "2-1", "ENTRIESREAD", 2]),
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 1, 1, "2-1", 2, 1)] },
      { cmd: readGroup("c", "STREAMS", "s", ">"), reply: fromS(3) },
      ok(["XGROUP", "SETID", "s", "g", "0"]),
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 1, 2, "0-0", null, 3)] },
      { cmd: readGroup("c", "STREAMS", "s", ">"), reply: fromS(1, 2, 3) },
      { cmd: ["XPENDING", "s", "g", "-", "+", 10], reply: [pel("1-1", "c", 1), pel("2-1", "c", 1), pel("3-1", "c", 1)] },
      { cmd: ["XGROUP", "SETID", "s", "nog", "$"], error: nogroupKey("s", "nog") },
      { cmd: ["XGROUP", "SETID", "nokey", "g", "0"], error: NO_KEY },
      { cmd: ["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", -2], error: ENTRIESREAD },
    ],
  },
  {
    name: "XREADGROUP: new entries with >, the consumer's own history with 0 or an ID, COUNT, NOACK",
    steps: [
      ...five.slice(0, 4),
      ok(["XGROUP", "CREATE", "s", "g", "0"]),
      { cmd: readGroup("c1", "COUNT", 2, "STREAMS", "s", ">"), reply: fromS(1, 2) },
      { cmd: readGroup("c2", "COUNT", 1, "STREAMS", "s", ">"), reply: fromS(3) },
      { cmd: readGroup("c1", "STREAMS", "s", "0"), reply: fromS(1, 2) },
      { cmd: readGroup("c1", "STREAMS", "s", "1-1"), reply: fromS(2) },
      { cmd: readGroup("c1", "COUNT", 1, "STREAMS", "s", "0"), reply: fromS(1) },
      { cmd: readGroup("c3", "STREAMS", "s", "0"), reply: [["s", []]] },
      { cmd: readGroup("c2", "NOACK", "STREAMS", "s", ">"), reply: fromS(4) },
      { cmd: readGroup("c2", "STREAMS", "s", ">"), reply: null },
      { cmd: readGroup("c2", "STREAMS", "s", "0"), reply: fromS(3) },
      { cmd: ["XPENDING", "s", "g", "-", "+", 10], reply: [pel("1-1", "c1", 3), pel("2-1", "c1", 3), pel("3-1", "c2", 2)] },
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 3, 3, "4-1", 4, 0)] },
      { cmd: ["XINFO", "CONSUMERS", "s", "g"], reply: [consumer("c1", 2), consumer("c2", 1), consumer("c3", 0, false)] },
    ],
  },
  {
    name: "XREADGROUP over several streams, an empty > still makes its consumer (7.2), and its errors",
    steps: [
      add("s", "1-1", "a", "1"),
      add("t", "1-2", "b", "1"),
      ...oks(["XGROUP", "CREATE", "s", "g", "0"], ["XGROUP", "CREATE", "t", "g", "0"]),
      { cmd: readGroup("c", "STREAMS", "s", "t", ">", ">"), reply: [["s", xs(1)], ["t", [e("1-2", "b", "1")]]] },
      add("t", "2-2", "b", "2"),
      { cmd: readGroup("c", "STREAMS", "s", "t", ">", ">"), reply: [["t", [e("2-2", "b", "2")]]] },
      { cmd: readGroup("c", "STREAMS", "s", "t", "0", ">"), reply: fromS(1) },
      { cmd: readGroup("c", "STREAMS", "t", "s", "1-2", "0"), reply: [["t", [e("2-2", "b", "2")]], ["s", xs(1)]] },
      { cmd: readGroup("zed", "STREAMS", "s", ">"), reply: null },
      { cmd: ["XINFO", "CONSUMERS", "s", "g"], reply: [consumer("c", 1), consumer("zed", 0, false)] },
      { cmd: ["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"], error: nogroupRead("s", "nog") },
      { cmd: readGroup("c", "STREAMS", "s", "nokey", ">", ">"), error: nogroupRead("nokey", "g") },
      { cmd: readGroup("c", "STREAMS", "s", "$"), error: "ERR The $ ID is meaningless in the context of XREADGROUP" },
      { cmd: readGroup("c", "STREAMS", "s", "t", ">"), error: UNBALANCED_GROUP },
      { cmd: readGroup("c", "STREAMS", "s"), error: arity("xreadgroup") },
      { cmd: readGroup("c", "FOO", "STREAMS", "s", ">"), error: SYNTAX },
      ok(["SET", "str", "v"]),
      { cmd: readGroup("c", "STREAMS", "str", ">"), error: WRONGTYPE },
    ],
  },
  {
    name: "XACK and the XPENDING summary form",
    steps: [
      { cmd: ["XPENDING", "s", "g"], error: nogroup("s", "g") },
      ...five.slice(0, 3),
      { cmd: ["XPENDING", "s", "g"], error: nogroup("s", "g") },
      ok(["XGROUP", "CREATE", "s", "g", "0"]),
      { cmd: ["XPENDING", "s", "g"], reply: none },
      { cmd: readGroup("zed", "COUNT", 2, "STREAMS", "s", ">"), reply: fromS(1, 2) },
      { cmd: readGroup("amy", "STREAMS", "s", ">"), reply: fromS(3) },
      { cmd: ["XPENDING", "s", "g"], reply: [3, "1-1", "3-1", [["amy", "1"], ["zed", "2"]]] },
      { cmd: ["XACK", "s", "g", "1-1", "9-9", "1-1"], reply: 1 },
      { cmd: ["XACK", "s", "nog", "2-1"], reply: 0 },
      { cmd: ["XACK", "s", "g"], error: arity("xack") },
      { cmd: ["XPENDING", "s", "g"], reply: [2, "2-1", "3-1", [["amy", "1"], ["zed", "1"]]] },
      { cmd: ["XACK", "s", "g", "2-1", "3-1"], reply: 2 },
      { cmd: ["XPENDING", "s", "g"], reply: none },
      { cmd: ["XINFO", "CONSUMERS", "s", "g"], reply: [consumer("amy", 0), consumer("zed", 0)] },
      ok(["SET", "str", "v"]),
      { cmd: ["XPENDING", "str", "g"], error: WRONGTYPE },
    ],
  },
  {
    name: "XPENDING extended form: ranges, COUNT, a consumer, IDLE, and its errors",
    steps: [
      ...five.slice(0, 3),
      ok(["XGROUP", "CREATE", "s", "g", "0"]),
      { cmd: ["XPENDING", "s", "g", "-", "+", 10], reply: [] },
      { cmd: readGroup("c1", "COUNT", 2, "STREAMS", "s", ">"), reply: fromS(1, 2) },
      { cmd: readGroup("c2", "STREAMS", "s", ">"), reply: fromS(3) },
      { cmd: ["XPENDING", "s", "g", "-", "+", 10], reply: [pel("1-1", "c1", 1), pel("2-1", "c1", 1), pel("3-1", "c2", 1)] },
      { cmd: ["XPENDING", "s", "g", "-", "+", 2], reply: [pel("1-1", "c1", 1), pel("2-1", "c1", 1)] },
      { cmd: ["XPENDING", "s", "g", "-", "+", 10, "c2"], reply: [pel("3-1", "c2", 1)] },
      { cmd: ["XPENDING", "s", "g", "(1-1", "+", 10], reply: [pel("2-1", "c1", 1), pel("3-1", "c2", 1)] },
      { cmd: ["XPENDING", "s", "g", "-", "(3-1", 10, "c1"], reply: [pel("1-1", "c1", 1), pel("2-1", "c1", 1)] },
      { cmd: ["XPENDING", "s", "g", "-", "+", 0], reply: [] },
      { cmd: ["XPENDING", "s", "g", "IDLE", 0, "-", "+", 10, "c2"], reply: [pel("3-1", "c2", 1)] },
      { cmd: ["XPENDING", "s", "g", "IDLE", 3_600_000, "-", "+", 10], reply: [] },
      ...fails(NOT_INT, ["XPENDING", "s", "g", "-", "+", "x"], ["XPENDING", "s", "g", "IDLE", "x", "-", "+", 10]),
      { cmd: ["XPENDING", "s", "g", "-", "+"], error: SYNTAX },
      { cmd: ["XPENDING", "s", "g", "x", "+", 10], error: BAD_ID },
      { cmd: ["XPENDING", "nokey", "g", "-", "+", 10], error: nogroup("nokey", "g") },
    ],
  },
  {
    name: "XCLAIM: JUSTID, FORCE, RETRYCOUNT, IDLE, TIME, delivery counts, a deleted pending entry",
    steps: [
      ...five.slice(0, 4),
      ok(["XGROUP", "CREATE", "s", "g", "0"]),
      { cmd: readGroup("c1", "COUNT", 3, "STREAMS", "s", ">"), reply: fromS(1, 2, 3) },
      { cmd: ["XCLAIM", "s", "g", "c2", 0, "1-1"], reply: xs(1) },
      { cmd: ["XCLAIM", "s", "g", "c2", 0, "2-1", "JUSTID"], reply: ["2-1"] },
      { cmd: ["XPENDING", "s", "g", "-", "+", 10], reply: [pel("1-1", "c2", 2), pel("2-1", "c2", 1), pel("3-1", "c1", 1)] },
      { cmd: ["XCLAIM", "s", "g", "c2", 0, "4-1"], reply: [] },
      { cmd: ["XCLAIM", "s", "g", "c2", 0, "4-1", "FORCE"], reply: xs(4) },
      { cmd: ["XCLAIM", "s", "g", "c3", 0, "3-1", "RETRYCOUNT", 7], reply: xs(3) },
      { cmd: ["XPENDING", "s", "g", "-", "+", 10], reply: [pel("1-1", "c2", 2), pel("2-1", "c2", 1), pel("3-1", "c3", 7), pel("4-1", "c2", 2)] },
      { cmd: ["XCLAIM", "s", "g", "c3", 0, "1-1", "IDLE", 50_000, "JUSTID"], reply: ["1-1"] },
      { cmd: ["XPENDING", "s", "g", "-", "+", 10, "c3"], reply: [["1-1", "c3", { between: [50_000, 150_000] }, 2], pel("3-1", "c3", 7)] },
      { cmd: ["XCLAIM", "s", "g", "c4", 3_600_000, "1-1"], reply: [] },
      { cmd: ["XCLAIM", "s", "g", "c4", 40_000, "1-1", "JUSTID"], reply: ["1-1"] },
      { cmd: ["XCLAIM", "s", "g", "c4", 0, "1-1", "TIME", "99999999999999", "JUSTID"], reply: ["1-1"] },
      { cmd: ["XPENDING", "s", "g", "-", "+", 1], reply: [pel("1-1", "c4", 2)] },
      { cmd: ["XCLAIM", "s", "g", "c4", -1, "1-1"], reply: xs(1) },
      { cmd: ["XCLAIM", "s", "g", "c3", 0, "9-9", "FORCE"], reply: [] },
      { cmd: ["XDEL", "s", "2-1"], reply: 1 },
      { cmd: readGroup("c2", "STREAMS", "s", "0"), reply: [["s", [["2-1", null], e("4-1", "a", "4")]]] },
      { cmd: ["XCLAIM", "s", "g", "c3", 0, "2-1", "4-1", "JUSTID"], reply: ["4-1"] },
      { cmd: ["XPENDING", "s", "g"], reply: [3, "1-1", "4-1", [["c3", "2"], ["c4", "1"]]] },
      { cmd: ["XINFO", "CONSUMERS", "s", "g"], reply: [consumer("c1", 0), consumer("c2", 0), consumer("c3", 2), consumer("c4", 1)] },
    ],
  },
  {
    name: "XAUTOCLAIM: the cursor, COUNT, JUSTID, and deleted entries reported and dropped",
    steps: [
      ...five,
      ok(["XGROUP", "CREATE", "s", "g", "0"]),
      { cmd: readGroup("c1", "STREAMS", "s", ">"), reply: fromS(1, 2, 3, 4, 5) },
      { cmd: ["XDEL", "s", "2-1", "4-1"], reply: 2 },
      { cmd: ["XAUTOCLAIM", "s", "g", "c2", 0, "0", "COUNT", 2], reply: ["3-1", xs(1), ["2-1"]] },
      { cmd: ["XPENDING", "s", "g", "-", "+", 10], reply: [pel("1-1", "c2", 2), pel("3-1", "c1", 1), pel("4-1", "c1", 1), pel("5-1", "c1", 1)] },
      { cmd: ["XAUTOCLAIM", "s", "g", "c2", 0, "3-1", "COUNT", 2], reply: ["5-1", xs(3), ["4-1"]] },
      { cmd: ["XAUTOCLAIM", "s", "g", "c3", 0, "0", "JUSTID"], reply: ["0-0", ["1-1", "3-1", "5-1"], []] },
      { cmd: ["XPENDING", "s", "g", "-", "+", 10], reply: [pel("1-1", "c3", 2), pel("3-1", "c3", 2), pel("5-1", "c3", 1)] },
      { cmd: ["XAUTOCLAIM", "s", "g", "c3", 0, "0-0", "COUNT", 1, "JUSTID"], reply: ["3-1", ["1-1"], []] },
      { cmd: ["XAUTOCLAIM", "s", "g", "c4", 3_600_000, "0"], reply: ["0-0", [], []] },
      { cmd: ["XAUTOCLAIM", "s", "g", "c4", 0, "(1-1"], reply: ["0-0", xs(3, 5), []] },
      { cmd: ["XPENDING", "s", "g", "-", "+", 10], reply: [pel("1-1", "c3", 2), pel("3-1", "c4", 3), pel("5-1", "c4", 2)] },
      { cmd: ["XINFO", "CONSUMERS", "s", "g"], reply: [consumer("c1", 0), consumer("c2", 0), consumer("c3", 1), consumer("c4", 2)] },
    ],
  },
  {
    name: "XCLAIM and XAUTOCLAIM errors; a claim of nothing still makes its consumer (7.2)",
    steps: [
      add("s", "1-1", "a", "1"),
      ok(["XGROUP", "CREATE", "s", "g", "$"]),
      { cmd: ["XCLAIM", "s", "g", "bob", 0, "1-1"], reply: [] },
      { cmd: ["XAUTOCLAIM", "s", "g", "carl", 0, "0"], reply: ["0-0", [], []] },
      { cmd: ["XINFO", "CONSUMERS", "s", "g"], reply: [consumer("bob", 0, false), consumer("carl", 0, false)] },
      { cmd: ["XCLAIM", "s", "g", "c", "x", "1-1"], error: "ERR Invalid min-idle-time argument for XCLAIM" },
      { cmd: ["XCLAIM", "s", "g", "c", 0, "x"], error: "ERR Unrecognized XCLAIM option 'x'" },
      { cmd: ["XCLAIM", "s", "g", "c", 0, "1-1", "FOO"], error: "ERR Unrecognized XCLAIM option 'FOO'" },
      { cmd: ["XCLAIM", "s", "g", "c", 0, "1-1", "RETRYCOUNT", "x"], error: "ERR Invalid RETRYCOUNT option argument for XCLAIM" },
      { cmd: ["XCLAIM", "s", "g", "c", 0, "1-1", "TIME", "x"], error: "ERR Invalid TIME option argument for XCLAIM" },
      { cmd: ["XCLAIM", "s", "g", "c", 0], error: arity("xclaim") },
      { cmd: ["XAUTOCLAIM", "s", "g", "c", 0, "x"], error: BAD_ID },
      { cmd: ["XAUTOCLAIM", "s", "g", "c", "x", "0"], error: "ERR Invalid min-idle-time argument for XAUTOCLAIM" },
      ...fails("ERR COUNT must be > 0", ...[0, -1, "x"].map((n) => ["XAUTOCLAIM", "s", "g", "c", 0, "0", "COUNT", n])),
      { cmd: ["XAUTOCLAIM", "s", "g", "c", 0, "0", "FOO"], error: SYNTAX },
      ...fails(nogroup("s", "nog"), ["XCLAIM", "s", "nog", "c", 0, "1-1"], ["XAUTOCLAIM", "s", "nog", "c", 0, "0"]),
      { cmd: ["XAUTOCLAIM", "s", "g", "c", 0], error: arity("xautoclaim") },
      ok(["SET", "str", "v"]),
      ...fails(WRONGTYPE, ["XCLAIM", "str", "g", "c", 0, "1-1"], ["XAUTOCLAIM", "str", "g", "c", 0, "0"]),
    ],
  },
  {
    name: "XINFO GROUPS lag after XSETID ENTRIESADDED, XADD and XDEL",
    steps: [
      ...five.slice(0, 3),
      ...oks(["XGROUP", "CREATE", "s", "g", "0"], ["XGROUP", "CREATE", "s", "g2", "$"]),
      { cmd: readGroup("c", "COUNT", 1, "STREAMS", "s", ">"), reply: fromS(1) },
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 1, 1, "1-1", 1, 2), group("g2", 0, 0, "3-1", null, 0)] },
      ok(["XSETID", "s", "3-1", "ENTRIESADDED", 10]),
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 1, 1, "1-1", 1, 9), group("g2", 0, 0, "3-1", null, 0)] },
      add("s", "4-1", "a", "4"),
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 1, 1, "1-1", 1, 10), group("g2", 0, 0, "3-1", null, null)] },
      { cmd: ["XDEL", "s", "3-1"], reply: 1 },
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 1, 1, "1-1", 1, null), group("g2", 0, 0, "3-1", null, null)] },
      { cmd: ["XDEL", "s", "1-1", "2-1", "4-1"], reply: 3 },
      // Emptied: every group's lag is 0 (8.0; 7.x answered 10 for g from its read counter).
      { cmd: ["XINFO", "GROUPS", "s"], reply: [group("g", 1, 1, "1-1", 1, 0), group("g2", 0, 0, "3-1", null, 0)] },
    ],
  },
];
