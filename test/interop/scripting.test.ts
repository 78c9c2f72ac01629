// Lua scripts on Flaredis and on a redis-server of our own (issue 25): each script below runs on
// both, from the same keyspace, and the replies must be equal, errors (which name the script's
// SHA-1 and line) included. The generated programs of test/interop/differential.test.ts run
// commands inside scripts too; these are the script-side cases a generator does not make:
// the language, the libraries, the globals' protection, flags, conversions and error texts.
import { describe, expect, it } from "vitest";
import { equal, render } from "./fuzz/reply";
import { redisSystems } from "./redis-systems";

const { redisServer, systems } = redisSystems();


/** Each: the script, then its keys and arguments (numkeys is the keys' count). */
const SCRIPTS: [string, string[]?, string[]?][] = [
  // Conversions both ways.
  ["return {1, 2.9, -2.9, 'x', true, false, nil, 4}"],
  ["return {ok = 'fine'}"],
  ["return {err = 'MYERR went wrong'}"],
  ["return {double = 3.25}"],
  ["return {1, {2, {3, {4}}}, {ok = 'in'}, {}}"],
  ["return 9007199254740993"],
  ["return -0.5"],
  ["return {map = {x = 1, y = {ok = 'z'}}}"],
  ["return {set = {a = true, b = true}}"],
  ["redis.call('set', KEYS[1], 'v') return {redis.call('get', KEYS[1]), redis.call('get', 'missing'), redis.call('exists', KEYS[1])}", ["s"]],
  ["redis.call('rpush', KEYS[1], 'a', 'b', 'c') return redis.call('lrange', KEYS[1], 0, -1)", ["l"]],
  ["redis.call('hset', KEYS[1], 'f', 1.5) return redis.call('hincrbyfloat', KEYS[1], 'f', 0.1)", ["h"]],
  ["return redis.call('zadd', KEYS[1], 1e300, 'a', -0.1, 'b') + #redis.call('zrange', KEYS[1], 0, -1, 'withscores')", ["z"]],
  ["return redis.call('incrbyfloat', KEYS[1], 1/3)", ["f"]],
  ["return redis.call('set', KEYS[1], 123456789012345678)", ["big"]],
  ["return redis.call('get', KEYS[1])", ["big"]],
  ["return type(redis.call('type', KEYS[1])) .. redis.call('type', KEYS[1]).ok", ["h"]],
  ["return redis.call('ping')"],
  ["return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", ["k1", "k2"], ["a1", "a2"]],
  // Errors: the command's, the script's, the language's.
  ["return redis.call('incr', KEYS[1])", ["l"]],
  ["return redis.pcall('incr', KEYS[1])", ["l"]],
  ["local r = redis.pcall('hget', KEYS[1], 'x') return {r.err, r.ignore_error_stats_update}", ["l"]],
  ["return redis.call('nosuch', 1)"],
  ["return redis.call('get')"],
  ["return redis.call()"],
  ["return redis.call('get', {})"],
  ["return redis.call('eval', 'return 1', 0)"],
  ["return redis.call('wait', 0, 0)"],
  ["return redis.error_reply('E1 custom')"],
  ["return redis.error_reply('nocode')"],
  ["return redis.status_reply('S1')"],
  ["return redis.status_reply({})"],
  ["error('plain')"],
  ["error({err = 'TABLE err'})"],
  ["error(42)"],
  ["local x = nil\nlocal y = 1\nreturn x.field"],
  ["return undefined_global"],
  ["newglobal = 1"],
  ["redis = nil"],
  ["string.len = nil"],
  ["return loadstring('return 1 +')"],
  ["return pcall(error)"],
  ["local ok, e = pcall(redis.call, 'nosuch') return e"],
  ["local ok, e = pcall(error, {err = 'kept'}) return e"],
  ["return xpcall(function() error('in') end, function(e) return 'handled: ' .. e end)"],
  ["return +"],
  ["return 'unfinished"],
  ["#!lua flags=no-writes\nreturn redis.call('set', 'x', 1)"],
  ["#!lua flags=no-writes,allow-oom\nreturn redis.call('get', 'x')"],
  ["#!lua name=x\nreturn 1"],
  ["#!lua flags=nosuch\nreturn 1"],
  ["#!lua\nlocal t = nil\nreturn t.x"],
  // The language as Lua 5.1 has it, and Redis's libraries.
  ["return {10 / 4, 7 % 3, 2 ^ 10, math.floor(-3.5), math.huge > 1, tostring(1e15), tostring(1e16), tostring(0.1)}"],
  ["return string.format('%d %5.2f %s %q %x', 3.99, 1/3, 'a', 'b\\n', 255)"],
  ["return {string.find('hello world', 'o w'), string.match('key:42', '(%a+):(%d+)')}"],
  ["return {string.gsub('a,b,,c', ',', ';')}"],
  ["return {string.byte('AZ', 1, 2), string.char(72, 105), string.rep('ab', 3), ('x'):upper()}"],
  ["local t = {5, 2, 8, 1} table.sort(t) return t"],
  ["local t = {3, 1, 2} table.sort(t, function(a, b) return a > b end) return table.concat(t, '-')"],
  ["return {table.getn({1, 2, 3}), select('#', 1, 2, 3), unpack({7, 8})}"],
  ["return {math.random(), math.random(10), math.random(5, 7)}"],
  ["math.randomseed(7) return {math.random(100), math.random(100)}"],
  ["return {type(os), type(io), type(require), type(print), type(dofile)}"],
  ["return {_VERSION, type(coroutine.create), type(newproxy), type(gcinfo())}"],
  ["local co = coroutine.wrap(function() coroutine.yield(1) coroutine.yield(2) end) return {co(), co()}"],
  ["return cjson.encode({a = {1, 2, 3}, b = 'x', c = cjson.null})"],
  ["return cjson.encode(cjson.decode('{\"n\": 1.5e300, \"s\": \"\\\\u00e9\", \"l\": [true, false, null]}'))"],
  ["return cjson.decode('[1, 2')"],
  ["return cjson.encode({[1] = 1, [3] = 3})"],
  ["return cjson.encode(0/0)"],
  ["return cmsgpack.pack({a = 1, b = {1, 2, 3}, c = 'str', d = 1.5, e = -2^40})"],
  ["return {cmsgpack.unpack(cmsgpack.pack(1, -1, 2^31, 'x', {k = 'v'}, 0.25))}"],
  ["return {bit.band(0xFF, 0x0F), bit.bor(1, 2), bit.bxor(3, 5), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.tobit(2^32 + 3), bit.tohex(255, 4), bit.bnot(0)}"],
  ["return {struct.pack('>i4H', -2, 65535), struct.unpack('<h', '\\255\\255'), struct.size('>i4H')}"],
  ["return struct.unpack('>I4', 'ab')"],
  ["return redis.sha1hex('abc')"],
  ["return {redis.REDIS_VERSION ~= nil, redis.LOG_WARNING, redis.REPL_ALL}"],
  ["redis.log(redis.LOG_WARNING, 'from a script') return 1"],
  ["return redis.log(9, 'x')"],
  ["return redis.setresp(4)"],
  ["return redis.replicate_commands()"],
  ["return redis.acl_check_cmd('get', 'k')"],
  ["return redis.acl_check_cmd('nosuch')"],
  // Redis's security releases of 2025, which Debian's build carries: no getfenv, setfenv or
  // newproxy; the basic types' metatables read-only; unpack's range and the lexer's long brackets.
  ["return getfenv"],
  ["return newproxy"],
  ["getmetatable('').__index = function() return 1 end"],
  ["local t = {} for i, v in ipairs({unpack({1, 2, 3}, -1, 5)}) do t[i] = v end return {select('#', unpack({1, 2, 3}, -1, 5)), t}"],
  ["return {pcall(unpack, {1, 2, 3}, -2147483648, -2147483646)}"],
  ["return {pcall(unpack, {}, 0, 2147483647)}"],
  ["return loadstring('return [==[x]==]')()"],
  ["return {loadstring('return [=x')}"],
  ["local s = string.rep('x', 100) return #loadstring('return [[' .. s .. ']]')()"],
];

describe("Lua scripts: Flaredis against redis-server", () => {
  it.skipIf(redisServer.skip)(
    `${SCRIPTS.length} scripts answer as redis-server answers them, errors included${redisServer.skipReason}`,
    async () => {
      const { redis, flaredis } = systems().differential;
      await systems().differential.reset();
      const diverged: string[] = [];
      for (const [script, keys = [], args = []] of SCRIPTS) {
        const command = ["EVAL", script, String(keys.length), ...keys, ...args];
        const expected = await redis.send(...command).catch((e: Error) => ({ error: e.message }));
        const { reply } = await flaredis.single(command);
        if (!equal(expected as never, reply)) diverged.push(`${JSON.stringify(script)}\n  redis:    ${render(expected as never)}\n  flaredis: ${render(reply)}`);
      }
      expect(diverged.join("\n\n")).toBe("");
    },
    120_000,
  );
});
