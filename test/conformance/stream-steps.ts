/** The stream cases' steps, expected replies and error texts (streams.ts), as redis-server 7.2 answers. */
import type { Expected, Step } from "./cases";

export const ok = (cmd: Step["cmd"]): Step => ({ cmd, reply: "OK" });
/** Steps that each answer `OK`. */
export const oks = (...cmds: Step["cmd"][]): Step[] => cmds.map((cmd) => ok(cmd));
/** Steps that each fail with the same error. */
export const fails = (error: string, ...cmds: Step["cmd"][]): Step[] => cmds.map((cmd) => ({ cmd, error }));
/** XADD with a full explicit ID, which is its reply. */
export const add = (key: string, id: string, ...fv: string[]): Step => ({ cmd: ["XADD", key, id, ...fv], reply: id });
/** An entry as Redis replies it: [id, [field, value, ...]]. */
export const e = (id: string, ...fv: string[]): Expected => [id, fv];
/** Entries 1-1 .. 5-1 of `five`, by number. */
export const xs = (...ns: number[]): Expected => ns.map((n) => e(`${n}-1`, "a", String(n)));
/** An XREAD / XREADGROUP reply from stream `s` alone. */
export const fromS = (...ns: number[]): Expected => [["s", xs(...ns)]];
/** Milliseconds since the last delivery or activity. */
export const idle: Expected = { between: [0, 100_000] };
/** One XPENDING extended-form element. */
export const pel = (id: string, consumer: string, deliveries: number): Expected => [id, consumer, idle, deliveries];
/** One XINFO GROUPS element. */
export const group = (name: string, consumers: number, pending: number, last: string, read: number | null, lag: number | null): Expected =>
  ["name", name, "consumers", consumers, "pending", pending, "last-delivered-id", last, "entries-read", read, "lag", lag];
/** One XINFO CONSUMERS element; `inactive` -1 for a consumer that never got anything (Redis 7.2). */
export const consumer = (name: string, pending: number, active = true): Expected => ["name", name, "pending", pending, "idle", idle, "inactive", active ? idle : -1];
export const none: Expected = [0, null, null, null];

export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const NOT_INT = "ERR value is not an integer or out of range";
export const SYNTAX = "ERR syntax error";
export const BAD_ID = "ERR Invalid stream ID specified as stream command argument";
export const SMALLER = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
export const MAXLEN_NEG = "ERR The MAXLEN argument must be >= 0.";
export const NO_KEY =
  "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
export const UNBALANCED = "ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.";
export const UNBALANCED_GROUP = "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.";
export const LIMIT = "ERR syntax error, LIMIT cannot be used without the special ~ option";
export const BOTH = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
export const ENTRIESREAD = "ERR value for ENTRIESREAD must be positive or -1";
export const MAX_ID = "18446744073709551615-18446744073709551615";
export const arity = (name: string) => `ERR wrong number of arguments for '${name}' command`;
export const nogroup = (key: string, group: string) => `NOGROUP No such key '${key}' or consumer group '${group}'`;
export const nogroupRead = (key: string, group: string) => `${nogroup(key, group)} in XREADGROUP with GROUP option`;
export const nogroupKey = (key: string, group: string) => `NOGROUP No such consumer group '${group}' for key name '${key}'`;

/** Five entries 1-1 .. 5-1, field `a`, values 1 .. 5. */
export const five = [1, 2, 3, 4, 5].map((n) => add("s", `${n}-1`, "a", String(n)));
export const readGroup = (consumer: string, ...rest: (string | number)[]): Step["cmd"] => ["XREADGROUP", "GROUP", "g", consumer, ...rest];
