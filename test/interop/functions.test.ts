// Redis 7's functions on Flaredis and on a redis-server of our own (issue 25): each command below
// runs on both, in order, and the replies must be equal, errors included. FUNCTION LIST's order of
// libraries and of a library's functions is its dictionary's, which differs from run to run in
// Redis: both sides' lists are compared sorted by name. FUNCTION DUMP's payloads differ (Redis
// compresses the code): a payload of Flaredis's is restored into redis-server instead.
import { describe, expect, it } from "vitest";
import { type Reply, equal, render } from "./fuzz/reply";
import { redisSystems } from "./redis-systems";

const { redisServer, systems } = redisSystems();

const lib = (name: string, ...lines: string[]) => `#!lua name=${name}\n${lines.join("\n")}`;

const STEPS: string[][] = [
  ["FUNCTION", "FLUSH"],
  ["FUNCTION", "LIST"],
  ["FUNCTION", "STATS"],
  ["FUNCTION", "LOAD", lib("util", "redis.register_function('echo_all', function(keys, args) return {keys, args, #keys, #args} end)")],
  ["FCALL", "echo_all", "2", "k1", "k2", "a1", "a2", "a3"],
  ["FCALL", "ECHO_ALL", "0"],
  ["FCALL_RO", "echo_all", "0"],
  ["FCALL", "echo_all", "3", "k1"],
  ["FCALL", "echo_all", "-1"],
  ["FCALL", "echo_all", "one"],
  ["FCALL", "echo_all", "01"],
  ["FCALL", "nosuch", "nokeys"],
  ["FUNCTION", "LOAD", lib("util", "redis.register_function('x', function() return 1 end)")],
  ["FUNCTION", "LOAD", lib("other", "redis.register_function('echo_all', function() return 1 end)")],
  [
    "FUNCTION",
    "LOAD",
    lib(
      "kv",
      "local function get(keys) return redis.call('get', keys[1]) end",
      "redis.register_function{function_name='kv_get', callback=get, flags={'no-writes'}, description='reads a key'}",
      "redis.register_function{function_name='kv_set', callback=function(keys, args) return redis.call('set', keys[1], args[1]) end, description='writes a key'}",
      "redis.register_function{function_name='kv_bad', callback=function(keys) return redis.call('set', keys[1], 'x') end, flags={'no-writes', 'allow-stale'}}",
      "redis.register_function('kv_err', function() return redis.call('incr', 'kv:str') end)",
      "redis.register_function('kv_raise', function() error('raised here') end)",
      "redis.register_function('kv_table', function() error({err = 'MYCODE custom'}) end)",
      "redis.register_function('kv_pcall', function() return redis.pcall('incr', 'kv:str') end)",
      "redis.register_function('kv_reply', function() return {1, 2.5, 'three', true, false, {ok = 'fine'}, {double = 1.5}} end)",
      "redis.register_function('kv_libs', function(keys, args) return {cjson.encode({a = 1}), string.rep(args[1], 3), bit.band(12, 10), tostring(math.floor(2.7))} end)",
      "redis.register_function('kv_globals', function() return type(KEYS) end)",
      "redis.register_function('kv_write_global', function() newglobal = 1 end)",
      "redis.register_function('kv_register', function() return type(redis.register_function) end)",
    ),
  ],
  ["FCALL", "kv_set", "1", "kv:str", "hello"],
  ["FCALL", "kv_get", "1", "kv:str"],
  ["FCALL_RO", "kv_get", "1", "kv:str"],
  ["FCALL_RO", "kv_set", "1", "kv:str", "x"],
  ["FCALL", "kv_bad", "1", "kv:x"],
  ["FCALL_RO", "kv_bad", "1", "kv:x"],
  ["FCALL", "kv_err", "0"],
  ["FCALL", "kv_raise", "0"],
  ["FCALL", "kv_table", "0"],
  ["FCALL", "kv_pcall", "0"],
  ["FCALL", "kv_reply", "0"],
  ["FCALL", "kv_libs", "0", "ab"],
  ["FCALL", "kv_globals", "0"],
  ["FCALL", "kv_write_global", "0"],
  ["FCALL", "kv_register", "0"],
  ["FUNCTION", "LIST"],
  ["FUNCTION", "LIST", "LIBRARYNAME", "k*"],
  ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "UTIL"],
  ["FUNCTION", "LIST", "LIBRARYNAME"],
  ["FUNCTION", "LIST", "WITHCODE", "WITHCODE"],
  ["FUNCTION", "LIST", "BOGUS"],
  ["FUNCTION", "STATS"],
  // The library API: only `redis` with register_function, log and the constants, while the code runs.
  ["FUNCTION", "LOAD", lib("api", "redis.log(redis.LOG_NOTICE, 'loading', redis.REDIS_VERSION ~= nil)", "redis.register_function('api_ok', function() return 'ok' end)")],
  ["FUNCTION", "LOAD", lib("bad1", "local x = string.rep('a', 2)")],
  ["FUNCTION", "LOAD", lib("bad2", "redis.call('ping')")],
  ["FUNCTION", "LOAD", lib("bad3", "redis.setresp(3)")],
  ["FUNCTION", "LOAD", lib("bad4", "x = 1")],
  ["FUNCTION", "LOAD", lib("bad5", "error('at load')")],
  ["FUNCTION", "LOAD", lib("bad6", "while true do end")],
  ["FUNCTION", "LOAD", lib("bad7", "return")],
  ["FUNCTION", "LOAD", lib("bad8", "local f = function() end", "redis.register_function(f, f)")],
  ["FUNCTION", "LOAD", lib("bad9", "redis.register_function('a', function() end, 3)")],
  ["FUNCTION", "LOAD", lib("bad10", "redis.register_function({function_name = 'a', callback = 'x'})")],
  ["FUNCTION", "LOAD", lib("bad11", "redis.register_function({function_name = {}, callback = function() end})")],
  ["FUNCTION", "LOAD", lib("bad12", "redis.register_function({[1] = 'x'})")],
  ["FUNCTION", "LOAD", lib("bad13", "redis.register_function({function_name = 'a', callback = function() end, flags = 'no-writes'})")],
  ["FUNCTION", "LOAD", lib("bad14", "redis.register_function({function_name = 'a', callback = function() end, flags = {1}})")],
  ["FUNCTION", "LOAD", lib("bad15", "redis.register_function({function_name = 'a', callback = function() end, description = {}})")],
  ["FUNCTION", "LOAD", lib("bad16", "redis.register_function({function_name = 'a', callback = function() end, [true] = 1})")],
  ["FUNCTION", "LOAD", lib("bad17", "redis.register_function('', function() end)")],
  ["FUNCTION", "LOAD", lib("bad18", "redis.register_function('x1', function() end)", "redis.register_function('x1', function() end)")],
  ["FUNCTION", "LOAD", lib("bad19", "return +")],
  ["FUNCTION", "LOAD", lib("num", "redis.register_function(12, function() return 'twelve' end)")],
  ["FCALL", "12", "0"],
  ["FUNCTION", "LOAD", lib("case", "redis.register_function{FUNCTION_NAME = 'upper_keys', CALLBACK = function() return 'ok' end, FLAGS = {'NO-WRITES'}}")],
  ["FCALL_RO", "upper_keys", "0"],
  ["FUNCTION", "LOAD", "#!lua name=quoted \n redis.register_function('q', function() return 'q' end)"],
  ["FUNCTION", "LOAD", '#!lua "name=dq"\nredis.register_function(\'dq\', function() return 1 end)'],
  ["FUNCTION", "LOAD", "#!lua name=a name=b\nreturn"],
  ["FUNCTION", "LOAD", "#!lua nome=a\nreturn"],
  ["FUNCTION", "LOAD", "#!lua\nreturn"],
  ["FUNCTION", "LOAD", "#!lua name=bad-name\nreturn"],
  ["FUNCTION", "LOAD", "#!LUA name=upper\nredis.register_function('up', function() return 'up' end)"],
  ["FUNCTION", "LOAD", "#!python name=py\nx"],
  ["FUNCTION", "LOAD", "#!lua name=nonl"],
  ["FUNCTION", "LOAD", "no shebang"],
  ["FUNCTION", "LOAD", "REPLACE", "REPLACE", lib("util", "redis.register_function('echo_all', function() return 'replaced' end)")],
  ["FCALL", "echo_all", "0"],
  ["FUNCTION", "LOAD", "BOGUS", lib("x", "return")],
  ["FUNCTION", "LOAD"],
  ["FUNCTION", "DELETE", "nosuch"],
  ["FUNCTION", "DELETE", "KV"],
  ["FUNCTION", "DELETE", "kv"],
  ["FCALL", "kv_get", "1", "kv:str"],
  ["FUNCTION", "DELETE"],
  ["FUNCTION", "RESTORE", "garbage"],
  ["FUNCTION", "RESTORE", "garbage", "BOGUS"],
  ["FUNCTION", "RESTORE", "garbage", "APPEND", "x"],
  ["FUNCTION", "FLUSH", "BOGUS"],
  ["FUNCTION", "FLUSH", "SYNC", "x"],
  ["FUNCTION", "KILL"],
  ["FUNCTION", "NOSUCH"],
  ["FUNCTION", "HELP"],
  ["FUNCTION", "STATS"],
  ["FUNCTION", "LIST"],
  ["FUNCTION", "FLUSH", "ASYNC"],
  ["FUNCTION", "LIST"],
  ["FCALL", "echo_all", "0"],
];

/** FUNCTION LIST's entries sorted by library name, and each one's functions by name. */
function sortedList(reply: Reply): Reply {
  if (!Array.isArray(reply)) return reply;
  const byName = (a: Reply, b: Reply) => (Array.isArray(a) && Array.isArray(b) ? String(a[1]).localeCompare(String(b[1])) : 0);
  const entries = reply.map((entry) => {
    if (!Array.isArray(entry)) return entry;
    const copy = [...entry];
    const functions = copy[5];
    if (Array.isArray(functions)) copy[5] = [...functions].sort(byName);
    return copy;
  });
  return entries.sort(byName);
}

describe("Redis functions: Flaredis against redis-server", () => {
  it.skipIf(redisServer.skip)(
    `${STEPS.length} FUNCTION and FCALL commands answer as redis-server answers them, errors included${redisServer.skipReason}`,
    async () => {
      const { redis, flaredis } = systems().differential;
      await systems().differential.reset();
      const diverged: string[] = [];
      for (const command of STEPS) {
        let expected = (await redis.send(...command).catch((e: Error) => ({ error: e.message }))) as Reply;
        let { reply } = await flaredis.single(command);
        if (command[0] === "FUNCTION" && command[1] === "LIST") [expected, reply] = [sortedList(expected), sortedList(reply)];
        if (!equal(expected, reply)) diverged.push(`${JSON.stringify(command)}\n  redis:    ${render(expected)}\n  flaredis: ${render(reply)}`);
      }
      expect(diverged.join("\n\n")).toBe("");
    },
    120_000,
  );

  it.skipIf(redisServer.skip)(`redis-server restores Flaredis's FUNCTION DUMP${redisServer.skipReason}`, async () => {
    const { redis, flaredis } = systems().differential;
    await flaredis.single(["FUNCTION", "FLUSH"]);
    await flaredis.single(["FUNCTION", "LOAD", lib("moved", "redis.register_function('moved_fn', function(keys, args) return 'moved ' .. args[1] end)", `-- ${"padding ".repeat(3000)}`)]);
    const { reply: payload } = await flaredis.single(["FUNCTION", "DUMP"]);
    expect(Buffer.isBuffer(payload)).toBe(true);
    expect(render(await redis.send("FUNCTION", "RESTORE", { base64: (payload as Buffer).toString("base64") }, "REPLACE"))).toBe(render(Buffer.from("OK")));
    expect(render(await redis.send("FCALL", "moved_fn", "0", "here"))).toBe(render(Buffer.from("moved here")));
  });
});
