// Keyspace notifications beside redis-server (issue 35): the same commands, one of every write
// command Redis notifies for, run against a redis-server of our own and against the worker through
// `flaredis proxy`, each with a client subscribed (PSUBSCRIBE) to every key event; the events each
// subscriber received, in order, are equal. The keyspace channels (K) likewise, for a few commands.
import Redis from "ioredis";
import { describe, expect, it } from "vitest";
import { tool } from "./need-tool";
import { waitFor } from "../e2e/start";
import { sideBySide } from "./side-by-side";

const redisServer = tool("redis-server", "redis-server");

const t = sideBySide(["dev-admin-token"]);


/** One of every write command Redis notifies for, and some that change nothing (no event). */
const COMMANDS: (string | number)[][] = [
  ["SET", "s", "1", "EX", "100"],
  ["SETNX", "s2", "a"],
  ["SETNX", "s2", "b"],
  ["SETEX", "s3", "100", "v"],
  ["PSETEX", "s4", "100000", "v"],
  ["GETSET", "s2", "b"],
  ["MSET", "m1", "1", "m2", "2"],
  ["MSETNX", "m3", "1", "m4", "2"],
  ["SETRANGE", "s2", "0", "x"],
  ["APPEND", "s2", "y"],
  ["INCR", "n"],
  ["DECR", "n"],
  ["INCRBY", "n", "5"],
  ["DECRBY", "n", "2"],
  ["INCRBYFLOAT", "f", "1.5"],
  ["GETEX", "s3", "PERSIST"],
  ["GETEX", "s3", "EX", "100"],
  ["GETEX", "s3"],
  ["GETDEL", "m1"],
  ["SETBIT", "b", "3", "1"],
  ["BITFIELD", "b2", "SET", "u8", "0", "200"],
  ["BITOP", "OR", "bo", "b", "b2"],
  ["BITOP", "AND", "bo", "nothing", "nothing2"],
  ["EXPIRE", "s", "200"],
  ["PEXPIRE", "s", "200000"],
  ["EXPIREAT", "s", "99999999999"],
  ["PEXPIREAT", "s", "99999999999000"],
  ["PERSIST", "s"],
  ["PERSIST", "s"],
  ["RENAME", "s", "s5"],
  ["RENAMENX", "s5", "s6"],
  ["COPY", "s6", "s7"],
  ["GETEX", "s6", "PERSIST"],
  ["MSET", "dup", "1", "dup", "2"],
  ["RPUSH", "l", "3", "1", "2"],
  ["LPUSH", "l", "0"],
  ["LPUSHX", "l", "9"],
  ["RPUSHX", "nolist", "1"],
  ["LINSERT", "l", "BEFORE", "1", "x"],
  ["LINSERT", "l", "BEFORE", "nope", "x"],
  ["LSET", "l", "0", "y"],
  ["LREM", "l", "1", "x"],
  ["LTRIM", "l", "0", "2"],
  ["LTRIM", "l", "0", "-1"],
  ["SORT", "l", "ALPHA", "STORE", "sorted"],
  ["SORT", "nolist", "STORE", "sorted"],
  ["LPOP", "l"],
  ["RPOP", "l", "5"],
  ["RPUSH", "l2", "a", "b", "c"],
  ["LMPOP", "1", "l2", "LEFT"],
  ["RPOPLPUSH", "l2", "l3"],
  ["LMOVE", "l2", "l3", "LEFT", "RIGHT"],
  ["BLPOP", "l3", "0.1"],
  ["BRPOP", "l3", "0.1"],
  ["SADD", "x", "a", "b", "c"],
  ["SADD", "x", "a"],
  ["SREM", "x", "a"],
  ["SREM", "x", "nope"],
  ["SADD", "y", "c"],
  ["SMOVE", "x", "y", "c"],
  ["SMOVE", "x", "y", "b"],
  ["SPOP", "x"],
  ["SADD", "x1", "1", "2"],
  ["SADD", "x2", "2", "3"],
  ["SINTERSTORE", "si", "x1", "x2"],
  ["SUNIONSTORE", "su", "x1", "x2"],
  ["SDIFFSTORE", "sd", "x1", "x2"],
  ["SINTERSTORE", "si", "x1", "nothing"],
  ["SINTERSTORE", "si", "x1", "nothing"],
  ["HSET", "h", "f", "v", "g", "w"],
  ["HSETNX", "h", "f", "z"],
  ["HSETNX", "h", "k", "z"],
  ["HMSET", "h", "m", "1"],
  ["HDEL", "h", "f"],
  ["HINCRBY", "h", "n", "1"],
  ["HINCRBYFLOAT", "h", "fl", "1.5"],
  ["HDEL", "h", "g", "n", "fl", "k", "m"],
  ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
  ["ZADD", "z", "INCR", "1", "a"],
  ["ZADD", "z", "1", "c"],
  ["ZADD", "z", "NX", "1", "c"],
  ["ZADD", "incr", "1", "incr"],
  ["ZINCRBY", "z", "1", "b"],
  ["ZREM", "z", "a"],
  ["ZADD", "z", "4", "d", "5", "e", "6", "f"],
  ["ZREMRANGEBYSCORE", "z", "4", "4"],
  ["ZREMRANGEBYRANK", "z", "0", "0"],
  ["ZADD", "zl", "0", "a", "0", "b", "0", "c"],
  ["ZREMRANGEBYLEX", "zl", "[a", "[a"],
  ["ZPOPMIN", "z"],
  ["ZPOPMAX", "z"],
  ["ZMPOP", "1", "z", "MIN"],
  ["BZPOPMIN", "z", "0.1"],
  ["BZMPOP", "0.1", "1", "zl", "MAX"],
  ["ZUNIONSTORE", "zu", "2", "zl", "z"],
  ["ZINTERSTORE", "zi", "2", "zl", "zl"],
  ["ZDIFFSTORE", "zd", "1", "zl"],
  ["ZRANGESTORE", "zr", "zl", "0", "-1"],
  ["ZINTERSTORE", "zi", "2", "zl", "nothing"],
  ["GEOADD", "g", "13.361389", "38.115556", "a", "15.087269", "37.502669", "b"],
  ["GEOSEARCHSTORE", "gs", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
  ["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "gr"],
  ["PFADD", "p", "a", "b"],
  ["PFADD", "p", "a"],
  ["PFMERGE", "p2", "p"],
  ["XADD", "st", "1-1", "f", "v"],
  ["XADD", "st", "MAXLEN", "1", "2-1", "f", "v"],
  ["XTRIM", "st", "MAXLEN", "0"],
  ["XADD", "st", "3-1", "f", "v"],
  ["XDEL", "st", "3-1"],
  ["XDEL", "st", "3-1"],
  ["XSETID", "st", "9-0"],
  ["XGROUP", "CREATE", "st", "g", "0"],
  ["XGROUP", "CREATE", "st3", "g", "$", "MKSTREAM"],
  ["XGROUP", "CREATECONSUMER", "st", "g", "c"],
  ["XGROUP", "DELCONSUMER", "st", "g", "c"],
  ["XGROUP", "SETID", "st", "g", "$"],
  ["XGROUP", "DESTROY", "st", "g"],
  ["EVAL", "redis.call('set', KEYS[1], '1'); redis.call('incr', KEYS[1]); return redis.call('del', KEYS[1])", "1", "ev"],
  ["DEL", "s2", "s3", "nothing"],
  ["UNLINK", "m2"],
  ["EXPIRE", "m3", "-1"],
  ["SET", "m4", "v", "PX", "100000"],
];

/** The key events a subscriber received while `COMMANDS` ran on `port`, in order (`event key`). */
async function eventsOn(port: number, configure: (value: string) => Promise<unknown>, flags: string, commands: (string | number)[][]): Promise<string[]> {
  const subscriber = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  const client = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  const seen: string[] = [];
  try {
    await client.flushall();
    await configure(flags);
    subscriber.on("pmessage", (_pattern: string, channel: string, message: string) => seen.push(`${channel} ${message}`));
    await subscriber.psubscribe("__key*__:*");
    for (const argv of commands) await client.call(String(argv[0]), ...argv.slice(1).map(String)).catch((e: Error) => e);
    // A last event of a class `flags` asks for, then wait for it: every event before it has arrived.
    if (flags.includes("l") && !flags.includes("A")) await client.rpush("the-end", "1");
    else await client.set("the-end", "1");
    await waitFor(() => seen.some((e) => e.includes("the-end")), 30_000, 25);
    await configure("");
    return seen;
  } finally {
    subscriber.disconnect();
    client.disconnect();
  }
}

const flaredisConfig = async (value: string) =>
  fetch(t.server.url, { method: "POST", headers: { authorization: "Bearer dev-admin-token" }, body: JSON.stringify(["CONFIG", "SET", "notify-keyspace-events", value]) }).then((r) => r.json());

const redisConfig = (port: number) => async (value: string) => {
  const c = new Redis({ port, host: "127.0.0.1" });
  await c.config("SET", "notify-keyspace-events", value);
  c.disconnect();
};

describe.skipIf(redisServer.skip && !process.env.FLAREDIS_INTEROP_REQUIRED)("keyspace notifications beside redis-server", () => {
  it("every write command's key events, in order, as redis-server sends them", async () => {
    const expected = await eventsOn(t.reference!.port, redisConfig(t.reference!.port), "EA", COMMANDS);
    const actual = await eventsOn(t.proxy.port, flaredisConfig, "EA", COMMANDS);
    expect(expected.length).toBeGreaterThan(100);
    expect(actual).toEqual(expected);
  });

  it("the keyspace channels (K) and a class chosen alone (Kl: lists only)", async () => {
    const some = COMMANDS.slice(30, 50);
    for (const flags of ["KA", "Kl", "KEg$"]) {
      const expected = await eventsOn(t.reference!.port, redisConfig(t.reference!.port), flags, some);
      expect(await eventsOn(t.proxy.port, flaredisConfig, flags, some), flags).toEqual(expected);
    }
  });
});
