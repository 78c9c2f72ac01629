/**
 * Command cases, written once and run against every engine: the engine alone on in-memory
 * storage (`engine.test.ts`), and the node through the HTTP API (`http.test.ts`). Each case starts
 * from an empty keyspace. Expected values are in the JSON form of a reply (bulk strings as text).
 */

/** A time-dependent reply: any integer in [min, max]. */
export interface Between {
  readonly between: readonly [number, number];
}
/** An array whose order is unspecified (KEYS, SCAN). */
export interface Unordered {
  readonly unordered: readonly unknown[];
}
export type Expected = null | number | bigint | string | Between | Unordered | readonly Expected[];

export interface Step {
  readonly cmd: readonly (string | number)[];
  /** The reply; or `error`, a prefix of the expected error text. */
  readonly reply?: Expected;
  readonly error?: string;
}

export interface Case {
  readonly name: string;
  readonly steps: readonly Step[];
}

const ok = (cmd: Step["cmd"]): Step => ({ cmd, reply: "OK" });
const NOT_INT = "ERR value is not an integer or out of range";

export const cases: readonly Case[] = [
  {
    name: "PING, ECHO",
    steps: [
      { cmd: ["PING"], reply: "PONG" },
      { cmd: ["ping", "hi"], reply: "hi" },
      { cmd: ["ECHO", "héllo wörld"], reply: "héllo wörld" },
      { cmd: ["PING", "a", "b"], error: "ERR wrong number of arguments for 'ping' command" },
    ],
  },
  {
    name: "SET and GET",
    steps: [
      { cmd: ["GET", "k"], reply: null },
      ok(["SET", "k", "v"]),
      { cmd: ["GET", "k"], reply: "v" },
      ok(["set", "k", "v2"]),
      { cmd: ["GET", "k"], reply: "v2" },
      ok(["SET", "n", 42]),
      { cmd: ["GET", "n"], reply: "42" },
    ],
  },
  {
    name: "SET NX and XX",
    steps: [
      { cmd: ["SET", "k", "a", "XX"], reply: null },
      { cmd: ["GET", "k"], reply: null },
      ok(["SET", "k", "a", "NX"]),
      { cmd: ["SET", "k", "b", "NX"], reply: null },
      { cmd: ["GET", "k"], reply: "a" },
      ok(["SET", "k", "c", "XX"]),
      { cmd: ["GET", "k"], reply: "c" },
      { cmd: ["SET", "k", "d", "NX", "XX"], error: "ERR syntax error" },
      { cmd: ["GET", "k"], reply: "c" },
    ],
  },
  {
    name: "SET GET returns the old value",
    steps: [
      { cmd: ["SET", "k", "a", "GET"], reply: null },
      { cmd: ["SET", "k", "b", "GET"], reply: "a" },
      { cmd: ["SET", "k", "c", "NX", "GET"], reply: "b" },
      { cmd: ["GET", "k"], reply: "b" },
      { cmd: ["SET", "missing", "x", "XX", "GET"], reply: null },
      { cmd: ["EXISTS", "missing"], reply: 0 },
    ],
  },
  {
    name: "SET EX, PX, EXAT, PXAT and KEEPTTL",
    steps: [
      ok(["SET", "k", "v", "EX", 100]),
      { cmd: ["TTL", "k"], reply: { between: [99, 100] } },
      { cmd: ["PTTL", "k"], reply: { between: [99_000, 100_000] } },
      ok(["SET", "k", "v2", "KEEPTTL"]),
      { cmd: ["TTL", "k"], reply: { between: [99, 100] } },
      ok(["SET", "k", "v3"]),
      { cmd: ["TTL", "k"], reply: -1 },
      ok(["SET", "k", "v", "PX", 5000]),
      { cmd: ["PTTL", "k"], reply: { between: [4000, 5000] } },
      ok(["SET", "k", "v", "EXAT", 4_102_444_800]),
      { cmd: ["EXPIRETIME", "k"], reply: 4_102_444_800 },
      ok(["SET", "k", "v", "PXAT", 4_102_444_800_123]),
      { cmd: ["PEXPIRETIME", "k"], reply: 4_102_444_800_123 },
      ok(["SET", "past", "v", "PXAT", 1000]),
      { cmd: ["EXISTS", "past"], reply: 0 },
      { cmd: ["SET", "k", "v", "EX", 0], error: "ERR invalid expire time in 'set' command" },
      { cmd: ["SET", "k", "v", "EX", -5], error: "ERR invalid expire time in 'set' command" },
      { cmd: ["SET", "k", "v", "EX", "ten"], error: NOT_INT },
      { cmd: ["SET", "k", "v", "EX", 10, "PX", 100], error: "ERR syntax error" },
      { cmd: ["SET", "k", "v", "EX", 10, "KEEPTTL"], error: "ERR syntax error" },
      { cmd: ["SET", "k", "v", "EX"], error: "ERR syntax error" },
      { cmd: ["SET", "k", "v", "BOGUS"], error: "ERR syntax error" },
      { cmd: ["PEXPIRETIME", "k"], reply: 4_102_444_800_123 },
    ],
  },
  {
    name: "SETNX, SETEX, PSETEX, GETSET",
    steps: [
      { cmd: ["SETNX", "k", "a"], reply: 1 },
      { cmd: ["SETNX", "k", "b"], reply: 0 },
      { cmd: ["GET", "k"], reply: "a" },
      ok(["SETEX", "t", 10, "v"]),
      { cmd: ["TTL", "t"], reply: { between: [9, 10] } },
      ok(["PSETEX", "t", 1500, "v"]),
      { cmd: ["PTTL", "t"], reply: { between: [1000, 1500] } },
      { cmd: ["SETEX", "t", 0, "v"], error: "ERR invalid expire time in 'setex' command" },
      { cmd: ["GETSET", "t", "w"], reply: "v" },
      { cmd: ["TTL", "t"], reply: -1 },
      { cmd: ["GETSET", "new", "x"], reply: null },
    ],
  },
  {
    name: "GETDEL and GETEX",
    steps: [
      ok(["SET", "k", "v"]),
      { cmd: ["GETDEL", "k"], reply: "v" },
      { cmd: ["GETDEL", "k"], reply: null },
      ok(["SET", "k", "v"]),
      { cmd: ["GETEX", "k"], reply: "v" },
      { cmd: ["TTL", "k"], reply: -1 },
      { cmd: ["GETEX", "k", "EX", 50], reply: "v" },
      { cmd: ["TTL", "k"], reply: { between: [49, 50] } },
      { cmd: ["GETEX", "k", "PERSIST"], reply: "v" },
      { cmd: ["TTL", "k"], reply: -1 },
      { cmd: ["GETEX", "k", "PXAT", 4_102_444_800_000], reply: "v" },
      { cmd: ["PEXPIRETIME", "k"], reply: 4_102_444_800_000 },
      { cmd: ["GETEX", "k", "EX", 10, "PERSIST"], error: "ERR syntax error" },
      { cmd: ["GETEX", "missing", "EX", 10], reply: null },
    ],
  },
  {
    name: "MSET, MGET, MSETNX",
    steps: [
      ok(["MSET", "a", "1", "b", "2"]),
      { cmd: ["MGET", "a", "b", "c"], reply: ["1", "2", null] },
      { cmd: ["MSET", "a", "1", "b"], error: "ERR wrong number of arguments for 'mset' command" },
      { cmd: ["MSETNX", "c", "3", "a", "9"], reply: 0 },
      { cmd: ["MGET", "a", "c"], reply: ["1", null] },
      { cmd: ["MSETNX", "c", "3", "d", "4"], reply: 1 },
      { cmd: ["MGET", "c", "d"], reply: ["3", "4"] },
    ],
  },
  {
    name: "INCR, INCRBY, DECR, DECRBY",
    steps: [
      { cmd: ["INCR", "n"], reply: 1 },
      { cmd: ["INCRBY", "n", 10], reply: 11 },
      { cmd: ["DECR", "n"], reply: 10 },
      { cmd: ["DECRBY", "n", 20], reply: -10 },
      { cmd: ["INCRBY", "n", "-5"], reply: -15 },
      ok(["SET", "s", "abc"]),
      { cmd: ["INCR", "s"], error: NOT_INT },
      { cmd: ["INCRBY", "n", "1.5"], error: NOT_INT },
      { cmd: ["INCRBY", "n", "01"], error: NOT_INT },
      { cmd: ["GET", "n"], reply: "-15" },
      ok(["SET", "big", "9223372036854775806"]),
      { cmd: ["INCR", "big"], reply: 9223372036854775807n },
      { cmd: ["INCR", "big"], error: "ERR increment or decrement would overflow" },
      { cmd: ["GET", "big"], reply: "9223372036854775807" },
      ok(["SET", "t", "5", "EX", 100]),
      { cmd: ["INCR", "t"], reply: 6 },
      { cmd: ["TTL", "t"], reply: { between: [99, 100] } },
    ],
  },
  {
    name: "INCRBYFLOAT",
    steps: [
      { cmd: ["INCRBYFLOAT", "f", "10.5"], reply: "10.5" },
      { cmd: ["INCRBYFLOAT", "f", "0.1"], reply: "10.6" },
      { cmd: ["INCRBYFLOAT", "f", "-5"], reply: "5.6" },
      ok(["SET", "e", "5.0e3"]),
      { cmd: ["INCRBYFLOAT", "e", "2.0e2"], reply: "5200" },
      { cmd: ["INCRBYFLOAT", "f", "abc"], error: "ERR value is not a valid float" },
      ok(["SET", "s", "abc"]),
      { cmd: ["INCRBYFLOAT", "s", "1"], error: "ERR value is not a valid float" },
      { cmd: ["INCRBYFLOAT", "f", "inf"], error: "ERR increment would produce NaN or Infinity" },
      { cmd: ["GET", "f"], reply: "5.6" },
    ],
  },
  {
    name: "APPEND, STRLEN, GETRANGE, SETRANGE",
    steps: [
      { cmd: ["APPEND", "k", "Hello"], reply: 5 },
      { cmd: ["APPEND", "k", " World"], reply: 11 },
      { cmd: ["STRLEN", "k"], reply: 11 },
      { cmd: ["STRLEN", "missing"], reply: 0 },
      { cmd: ["GETRANGE", "k", 0, 4], reply: "Hello" },
      { cmd: ["GETRANGE", "k", -5, -1], reply: "World" },
      { cmd: ["GETRANGE", "k", 0, -1], reply: "Hello World" },
      { cmd: ["GETRANGE", "k", 5, 2], reply: "" },
      { cmd: ["GETRANGE", "k", 0, 100], reply: "Hello World" },
      { cmd: ["GETRANGE", "missing", 0, 10], reply: "" },
      { cmd: ["SETRANGE", "k", 6, "Redis"], reply: 11 },
      { cmd: ["GET", "k"], reply: "Hello Redis" },
      { cmd: ["SETRANGE", "pad", 3, "x"], reply: 4 },
      { cmd: ["GET", "pad"], reply: "\u0000\u0000\u0000x" },
      { cmd: ["SETRANGE", "k", -1, "x"], error: "ERR offset is out of range" },
      { cmd: ["SETRANGE", "none", 5, ""], reply: 0 },
      { cmd: ["EXISTS", "none"], reply: 0 },
      { cmd: ["STRLEN", "u"], reply: 0 },
      ok(["SET", "u", "héllo"]),
      { cmd: ["STRLEN", "u"], reply: 6 },
    ],
  },
  {
    name: "DEL, UNLINK, EXISTS, TOUCH, TYPE",
    steps: [
      ok(["MSET", "a", "1", "b", "2", "c", "3"]),
      { cmd: ["EXISTS", "a", "a", "x"], reply: 2 },
      { cmd: ["TOUCH", "a", "b", "x"], reply: 2 },
      { cmd: ["TYPE", "a"], reply: "string" },
      { cmd: ["TYPE", "x"], reply: "none" },
      { cmd: ["DEL", "a", "x"], reply: 1 },
      { cmd: ["UNLINK", "b", "c"], reply: 2 },
      { cmd: ["EXISTS", "a", "b", "c"], reply: 0 },
      { cmd: ["DBSIZE"], reply: 0 },
    ],
  },
  {
    name: "EXPIRE family, TTL, PTTL, PERSIST",
    steps: [
      { cmd: ["EXPIRE", "k", 10], reply: 0 },
      { cmd: ["TTL", "k"], reply: -2 },
      ok(["SET", "k", "v"]),
      { cmd: ["TTL", "k"], reply: -1 },
      { cmd: ["EXPIRE", "k", 100], reply: 1 },
      { cmd: ["TTL", "k"], reply: { between: [99, 100] } },
      { cmd: ["EXPIRE", "k", 50, "NX"], reply: 0 },
      { cmd: ["EXPIRE", "k", 50, "GT"], reply: 0 },
      { cmd: ["EXPIRE", "k", 50, "LT"], reply: 1 },
      { cmd: ["TTL", "k"], reply: { between: [49, 50] } },
      { cmd: ["EXPIRE", "k", 200, "XX"], reply: 1 },
      { cmd: ["EXPIRE", "k", 10, "NX", "XX"], error: "ERR NX and XX, GT or LT options at the same time are not compatible" },
      { cmd: ["EXPIRE", "k", 10, "GT", "LT"], error: "ERR GT and LT options at the same time are not compatible" },
      { cmd: ["EXPIRE", "k", 10, "FOO"], error: "ERR Unsupported option FOO" },
      { cmd: ["PEXPIRE", "k", 5000], reply: 1 },
      { cmd: ["PTTL", "k"], reply: { between: [4000, 5000] } },
      { cmd: ["PERSIST", "k"], reply: 1 },
      { cmd: ["PERSIST", "k"], reply: 0 },
      { cmd: ["EXPIRE", "k", 10, "GT"], reply: 0 },
      { cmd: ["EXPIRE", "k", 10, "XX", "LT"], reply: 0 },
      { cmd: ["EXPIRE", "k", 10, "LT"], reply: 1 },
      { cmd: ["EXPIRE", "k", 5, "xx", "lt"], reply: 1 },
      { cmd: ["TTL", "k"], reply: { between: [4, 5] } },
      { cmd: ["EXPIRE", "k", 10, "XX", "GT"], reply: 1 },
      { cmd: ["PERSIST", "k"], reply: 1 },
      { cmd: ["EXPIREAT", "k", 4_102_444_800], reply: 1 },
      { cmd: ["EXPIRETIME", "k"], reply: 4_102_444_800 },
      { cmd: ["PEXPIREAT", "k", 4_102_444_800_500], reply: 1 },
      { cmd: ["PEXPIRETIME", "k"], reply: 4_102_444_800_500 },
      { cmd: ["EXPIRETIME", "missing"], reply: -2 },
      { cmd: ["EXPIRE", "k", "soon"], error: NOT_INT },
      { cmd: ["EXPIRE", "k", -1], reply: 1 },
      { cmd: ["EXISTS", "k"], reply: 0 },
    ],
  },
  {
    name: "RENAME, RENAMENX, COPY",
    steps: [
      { cmd: ["RENAME", "a", "b"], error: "ERR no such key" },
      ok(["SET", "a", "1", "EX", 100]),
      ok(["RENAME", "a", "b"]),
      { cmd: ["EXISTS", "a"], reply: 0 },
      { cmd: ["GET", "b"], reply: "1" },
      { cmd: ["TTL", "b"], reply: { between: [99, 100] } },
      ok(["RENAME", "b", "b"]),
      ok(["SET", "c", "3"]),
      { cmd: ["RENAMENX", "b", "c"], reply: 0 },
      { cmd: ["RENAMENX", "b", "d"], reply: 1 },
      { cmd: ["MGET", "b", "c", "d"], reply: [null, "3", "1"] },
      { cmd: ["COPY", "d", "c"], reply: 0 },
      { cmd: ["COPY", "d", "c", "REPLACE"], reply: 1 },
      { cmd: ["GET", "c"], reply: "1" },
      { cmd: ["COPY", "d", "e"], reply: 1 },
      { cmd: ["TTL", "e"], reply: { between: [99, 100] } },
      { cmd: ["COPY", "missing", "f"], reply: 0 },
      { cmd: ["COPY", "d", "d"], error: "ERR source and destination objects are the same" },
      { cmd: ["COPY", "d", "g", "DB", "1"], error: "ERR DB index is out of range" },
    ],
  },
  {
    name: "KEYS and SCAN with MATCH, COUNT and TYPE",
    steps: [
      ok(["MSET", "user:1", "a", "user:2", "b", "user:10", "c", "post:1", "d", "h[x]", "e"]),
      { cmd: ["KEYS", "user:*"], reply: { unordered: ["user:1", "user:2", "user:10"] } },
      { cmd: ["KEYS", "user:?"], reply: { unordered: ["user:1", "user:2"] } },
      { cmd: ["KEYS", "user:[12]*"], reply: { unordered: ["user:1", "user:2", "user:10"] } },
      { cmd: ["KEYS", "user:[^1]"], reply: { unordered: ["user:2"] } },
      { cmd: ["KEYS", "h\\[x\\]"], reply: { unordered: ["h[x]"] } },
      { cmd: ["KEYS", "nothing*"], reply: [] },
      { cmd: ["SCAN", 0, "COUNT", 100], reply: ["0", { unordered: ["user:1", "user:2", "user:10", "post:1", "h[x]"] }] },
      { cmd: ["SCAN", 0, "MATCH", "post:*", "COUNT", 100], reply: ["0", ["post:1"]] },
      { cmd: ["SCAN", 0, "TYPE", "hash", "COUNT", 100], reply: ["0", []] },
      { cmd: ["SCAN", "x"], error: "ERR invalid cursor" },
      { cmd: ["SCAN", 0, "COUNT", 0], error: "ERR syntax error" },
    ],
  },
  {
    name: "RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL",
    steps: [
      { cmd: ["RANDOMKEY"], reply: null },
      ok(["SET", "only", "1"]),
      { cmd: ["RANDOMKEY"], reply: "only" },
      ok(["MSET", "a", "1", "b", "2"]),
      { cmd: ["DBSIZE"], reply: 3 },
      ok(["FLUSHDB"]),
      { cmd: ["DBSIZE"], reply: 0 },
      ok(["SET", "a", "1"]),
      ok(["FLUSHALL", "ASYNC"]),
      { cmd: ["GET", "a"], reply: null },
      { cmd: ["FLUSHALL", "LATER"], error: "ERR syntax error" },
    ],
  },
  {
    name: "wrong types and unknown commands",
    steps: [
      { cmd: ["NOSUCHCOMMAND", "a", "b"], error: "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' 'b' " },
      { cmd: ["GET"], error: "ERR wrong number of arguments for 'get' command" },
      { cmd: ["GET", "a", "b"], error: "ERR wrong number of arguments for 'get' command" },
      { cmd: ["TTL"], error: "ERR wrong number of arguments for 'ttl' command" },
    ],
  },
  {
    name: "unicode keys and values, and keys with / + =",
    steps: [
      ok(["SET", "a/b+c=d", "x/y+z="]),
      { cmd: ["GET", "a/b+c=d"], reply: "x/y+z=" },
      ok(["SET", "ключ 🔑", "значение ✓"]),
      { cmd: ["GET", "ключ 🔑"], reply: "значение ✓" },
      { cmd: ["KEYS", "*"], reply: { unordered: ["a/b+c=d", "ключ 🔑"] } },
    ],
  },
];
