// EVAL and its kin on the engine alone (issue 25): Redis 7's conversions, error texts, flags,
// atomicity and replication as one transaction. Expected values are redis-server 7.0.15's answers;
// test/interop/scripting.test.ts compares many more scripts with a live redis-server.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine, type Permission } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { fixedRandom, newEngine, run } from "../support/fixtures";

const text = (s: string) => new TextEncoder().encode(s);
const as = (engine: Engine, permission: Permission, ...argv: string[]) => {
  const result = engine.run({ mode: "single", commands: [argv], permission });
  if (!("outcomes" in result)) throw new Error(result.error);
  return result.outcomes[0]!;
};
const evalIn = (engine: Engine, script: string, keys: string[] = [], args: string[] = []) =>
  run(engine, "EVAL", script, String(keys.length), ...keys, ...args);
const sha = (s: string) => run(newEngine(), "SCRIPT", "LOAD", s);

describe("EVAL", () => {
  it("converts replies both ways as Redis 7 does over RESP2", () => {
    const engine = newEngine();
    const cases: [string, unknown][] = [
      ["return 3.99", 3],
      ["return -3.99", -3],
      ["return 1e300", -(2n ** 63n)],
      ["return 0/0", -(2n ** 63n)],
      ["return 2^53 + 2", 2n ** 53n + 2n],
      ["return true", 1],
      ["return false", null],
      ["return nil", null],
      ["return 'x'", text("x")],
      ["return {1, 2, nil, 4}", [1, 2]],
      ["return {1, {2, 'a'}, false}", [1, [2, text("a")], null]],
      ["return {ok = 'a\\r\\nb'}", "a  b"],
      ["return {ok = 1}", []],
      ["return {err = 5}", []],
      ["return {double = 1.5}", text("1.5")],
      ["return {double = 0.1}", text("0.10000000000000001")],
      ["return {1, {double = 2.5}}", [1, text("2.5")]],
      ["return {big_number = '123'}", text("123")],
      ["return {map = {a = 1}}", [text("a"), 1]],
      ["return {set = {a = true}}", [text("a")]],
      ["return {verbatim_string = {format = 'txt', string = 'hi'}}", text("hi")],
      ["return {1, {err = 'X y'}, 3}", [1, "X y", 3]],
      ["return redis.status_reply('FINE')", "FINE"],
      ["return redis.sha1hex('')", text("da39a3ee5e6b4b0d3255bfef95601890afd80709")],
      ["return redis.call('get', 'nokey')", null],
      ["return {redis.call('get', 'nokey')}", [null]],
      ["return redis.call('ping')", "PONG"],
      ["return type(redis.call('ping'))", text("table")],
      ["return redis.call('ping', 'x')", text("x")],
      ["return redis.call('set', 'n', 10) .ok", text("OK")],
      ["return redis.call('incrby', 'n', 2.0)", 12],
      ["return redis.call('set', 'f', 0.1) and redis.call('get', 'f')", text("0.10000000000000001")],
      ["return math.random(1, 1000000)", 396465],
      ["return tostring(0.1) .. string.format('%d', 3.7)", text("0.13")],
      ["return #KEYS + #ARGV", 0],
      ["return unpack({1, 2})", 1],
      ["return table.getn({1, 2, 3})", 3],
      ["return redis.REDIS_VERSION_NUM > 0", 1],
      // A bulk reply is a string in Lua, a status a table: OBJECT ENCODING's is bulk (was a status).
      ["redis.call('set', 'e', 'x') return type(redis.call('object', 'encoding', 'e'))", text("string")],
      // Redis's libraries, as redis-server 7.0.15 (Debian) answers.
      ["return cjson.encode({1,2,3,x=0.1})", text('{"1":1,"2":2,"3":3,"x":0.1}')],
      [`return cjson.encode(cjson.decode('{"a":[1,2,{"b":null}],"c":"d"}'))`, text('{"a":[1,2,{"b":null}],"c":"d"}')],
      ["return cjson.decode('[1,2,3]')[2]", 2],
      ["return cjson.encode(3.14159265358979)", text("3.1415926535898")],
      ["return cmsgpack.pack({1,2,'a'})", Uint8Array.of(0x93, 1, 2, 0xa1, 0x61)],
      ["return {cmsgpack.unpack(cmsgpack.pack(1, 'x', {y=2}))}", [1, text("x"), []]],
      ["return bit.tohex(bit.band(0xff00ff,0x0ff0))", text("000000f0")],
      ["return bit.tohex(65535, -2147483648)", text("0000FFFF")],
      ["return bit.bxor(5, 3)", 6],
      ["return struct.pack('>I2', 258)", Uint8Array.of(1, 2)],
      ["return {struct.unpack('<i4', struct.pack('<i4', -7))}", [-7, 5]],
    ];
    for (const [script, expected] of cases) expect(evalIn(engine, script), script).toEqual({ result: expected });
  });

  it("answers Redis's errors, naming the script and line", () => {
    const engine = newEngine();
    const shaOf = (s: string) => (run(engine, "SCRIPT", "LOAD", s) as { result: Uint8Array }).result;
    const errorOf = (script: string) => {
      const out = evalIn(engine, script);
      return "error" in out ? out.error : out;
    };
    const at = (script: string, line = 1) => ` script: ${new TextDecoder().decode(shaOf(script))}, on @user_script:${line}.`;
    const cases: [string, string][] = [
      ["return redis.call('nosuch')", "ERR Unknown Redis command called from script"],
      ["return redis.call('get')", "ERR Wrong number of args calling Redis command from script"],
      ["return redis.call()", "ERR Please specify at least one argument for this redis lib call"],
      ["return redis.call('get', {})", "ERR Lua redis lib command arguments must be strings or integers"],
      ["return redis.call('eval', 'return 1', 0)", "ERR This Redis command is not allowed from script"],
      ["return redis.call('config', 'get', 'maxmemory')", "ERR This Redis command is not allowed from script"],
      ["redis.call('set', 's', 'x') return redis.call('incr', 's')", "ERR value is not an integer or out of range"],
      ["redis.call('set', 'h', 'x')\nreturn redis.call('hget', 'h', 'f')", "WRONGTYPE Operation against a key holding the wrong kind of value"],
      ["error(nil)", "ERR nil"],
      ["error({err = 5})", "5"],
      ["local t = nil\nreturn t.x", "ERR user_script:2: attempt to index local 't' (a nil value)"],
      ["x = 1", "ERR user_script:1: Attempt to modify a readonly table"],
      ["return print", "ERR user_script:1: Script attempted to access nonexistent global variable 'print'"],
      ["return redis.log(5, 'x')", "ERR Invalid debug level."],
      ["return cjson.encode({[1]=1,[20]=2})", "ERR user_script:1: Cannot serialise table: excessively sparse array"],
      ["cjson.x = 1", "ERR user_script:1: Attempt to modify a readonly table"],
    ];
    for (const [script, message] of cases) {
      const line = script.includes("\n") ? 2 : 1;
      expect(errorOf(script), script).toBe(message + at(script, line));
    }
    expect(errorOf("return redis.error_reply('My')")).toBe("ERR My");
    expect(errorOf("return redis.error_reply('-X y')")).toBe("X y");
    expect(errorOf("return redis.status_reply(5)")).toBe("ERR wrong number or type of arguments");
    expect(errorOf("return +")).toBe("ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'");
    expect(errorOf("#!lua flags=no-writes,bad\nreturn 1")).toBe("ERR Unexpected flag in script shebang: bad");
    expect(errorOf("#!python\nreturn 1")).toBe("ERR Unexpected engine in script shebang: #!python");
    expect(errorOf("#!lua")).toBe("ERR Invalid script shebang");
    expect(run(engine, "EVAL", "return 1", "2", "a")).toEqual({ error: "ERR Number of keys can't be greater than number of args" });
    expect(run(engine, "EVAL", "return 1", "-1")).toEqual({ error: "ERR Number of keys can't be negative" });
    expect(run(engine, "EVAL", "return 1", "x")).toEqual({ error: "ERR value is not an integer or out of range" });
  });

  it("passes KEYS and ARGV, and pcall catches a command's error as its table", () => {
    const engine = newEngine();
    expect(evalIn(engine, "return {KEYS[1], ARGV[1], ARGV[2]}", ["k"], ["a", "b"])).toEqual({ result: [text("k"), text("a"), text("b")] });
    run(engine, "SET", "s", "x");
    expect(evalIn(engine, "local r = redis.pcall('incr', KEYS[1]) return r.err", ["s"])).toEqual({ result: text("ERR value is not an integer or out of range") });
    expect(evalIn(engine, "local ok, e = pcall(redis.call, 'incr', 's') return {tostring(ok), e}")).toEqual({
      result: [text("false"), text("ERR value is not an integer or out of range")],
    });
  });

  it("EVALSHA runs a cached script; an unknown SHA-1 is NOSCRIPT; SCRIPT EXISTS and FLUSH", () => {
    const engine = newEngine();
    const hash = new TextDecoder().decode((run(engine, "SCRIPT", "LOAD", "return ARGV[1]") as { result: Uint8Array }).result);
    expect(hash).toBe("098e0f0d1448c0a81dafe820f66d460eb09263da");
    expect(run(engine, "EVALSHA", hash.toUpperCase(), "0", "v")).toEqual({ result: text("v") });
    expect(run(engine, "SCRIPT", "EXISTS", hash, "ffffffffffffffffffffffffffffffffffffffff")).toEqual({ result: [1, 0] });
    expect(run(engine, "EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0")).toEqual({ error: "NOSCRIPT No matching script. Please use EVAL." });
    expect(run(engine, "EVALSHA", "abc", "x")).toEqual({ error: "NOSCRIPT No matching script. Please use EVAL." });
    expect(run(engine, "SCRIPT", "FLUSH")).toEqual({ result: "OK" });
    expect(run(engine, "EVALSHA", hash, "0")).toEqual({ error: "NOSCRIPT No matching script. Please use EVAL." });
    expect(run(engine, "SCRIPT", "KILL")).toEqual({ error: "NOTBUSY No scripts in execution right now." });
    expect(run(engine, "SCRIPT", "FLUSH", "LATER")).toEqual({ error: "ERR SCRIPT FLUSH only support SYNC|ASYNC option" });
    // EVAL caches what it runs.
    evalIn(engine, "return 7");
    const seven = new TextDecoder().decode((sha("return 7") as { result: Uint8Array }).result);
    expect(run(engine, "EVALSHA", seven, "0")).toEqual({ result: 7 });
  });

  it("refuses writes in read-only scripts, and a write script by a *_RO command", () => {
    const engine = newEngine();
    expect(run(engine, "EVAL_RO", "return redis.call('set', 'k', 'v')", "0")).toEqual({
      error: expect.stringMatching(/^ERR Write commands are not allowed from read-only scripts\. script: [0-9a-f]{40}, on @user_script:1\.$/),
    });
    expect(evalIn(engine, "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')")).toEqual({
      error: expect.stringMatching(/^ERR Write commands are not allowed from read-only scripts\. script: .*, on @user_script:2\.$/),
    });
    expect(run(engine, "EVAL_RO", "#!lua\nreturn 1", "0")).toEqual({ error: "ERR Can not execute a script with write flag using *_ro command." });
    expect(run(engine, "EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "0")).toEqual({ result: null });
    expect(run(engine, "EXISTS", "k")).toEqual({ result: 0 });
    // A read-only token runs EVAL_RO, and its script only what the token may run.
    expect(as(engine, "readonly", "EVAL", "return 1", "0")).toEqual({ error: "NOPERM this user has no permissions to run the 'eval' command" });
    expect(as(engine, "readonly", "EVAL_RO", "return redis.call('get', 'k')", "0")).toEqual({ result: null });
    expect(as(engine, "readonly", "EVAL_RO", "return redis.pcall('keys', '*').err", "0")).toEqual({ result: text("ERR The user executing the script can't run this command or subcommand") });
  });

  it("is atomic and replicates as the effects it made, in one MULTI; a failure keeps what ran before it, as Redis", () => {
    const storage = new MemoryStorage();
    const engine = new Engine(storage, { clock: new ManualClock(1_000), random: fixedRandom });
    const before = engine.log.offset;
    expect(evalIn(engine, "redis.call('incr', KEYS[1]) redis.call('pexpire', KEYS[1], 5000) return redis.call('get', KEYS[1])", ["c"])).toEqual({ result: text("1") });
    const frames = engine.log.entriesAfter(before, 1 << 20).map((e) => new TextDecoder().decode(e.frame));
    expect(frames.join("")).toMatch(/MULTI.*SET.*c.*1.*PEXPIREAT.*c.*6000.*EXEC/s);
    expect(evalIn(engine, "redis.call('set', 'a', '1') error('boom')")).toMatchObject({ error: expect.stringContaining("ERR user_script:1: boom") });
    expect(run(engine, "GET", "a")).toEqual({ result: text("1") });
    expect(evalIn(engine, "redis.call('set', 'b', '1') return redis.error_reply('NO')")).toEqual({ error: "ERR NO" });
    expect(run(engine, "GET", "b")).toEqual({ result: text("1") });
  });

  it("stops a script that runs past busy-reply-threshold, keeps nothing it wrote, and goes on serving", () => {
    const engine = newEngine();
    run(engine, "CONFIG", "SET", "busy-reply-threshold", "10");
    const out = evalIn(engine, "redis.call('set', 'w', '1') while true do pcall(function() end) end");
    // (Raised past the script's own handlers, it names no line.)
    expect(out).toEqual({ error: "BUSY Script stopped after running past busy-reply-threshold (10 ms of work); nothing it wrote was kept" });
    expect(run(engine, "EXISTS", "w")).toEqual({ result: 0 });
    expect(evalIn(engine, "return redis.call('ping')")).toEqual({ result: "PONG" });
    // So is the work of Lua's C library, which no instruction counts: a pattern that backtracks, a sort.
    expect(evalIn(engine, "local s = string.rep('a', 5000) while true do string.find(s, '.-b') end")).toMatchObject({ error: expect.stringContaining("BUSY Script stopped") });
    expect(evalIn(engine, "local t = {} for i = 1, 10000 do t[i] = (i * 7919) % 10007 end while true do pcall(table.sort, t) end")).toMatchObject({ error: expect.stringContaining("BUSY Script stopped") });
    // A loop of commands is bounded too.
    expect(evalIn(engine, "while true do redis.call('incr', 'n') end")).toMatchObject({ error: expect.stringContaining("BUSY Script stopped") });
    expect(run(engine, "EXISTS", "n")).toEqual({ result: 0 });
  });

  it("an EVAL whose script declares no-writes is a read: a replica serves it, and the read-only token may send it", () => {
    const replica = new Engine(new MemoryStorage(), { clock: new ManualClock(), random: fixedRandom, role: "slave" });
    const script = "#!lua flags=no-writes\nreturn redis.call('exists', KEYS[1])";
    expect(Engine.isRead(["EVAL", script, "1", "k"])).toBe(true);
    expect(Engine.isRead(["EVAL", "return 1", "0"])).toBe(false);
    expect(Engine.isRead(["EVAL", "#!lua flags=no-writes,nosuch\nreturn 1", "0"])).toBe(false);
    expect(as(replica, "readonly", "EVAL", script, "1", "k")).toEqual({ result: 0 });
    // An EVAL without flags may write (Redis's may-replicate): refused nothing before it runs, its writes as it makes them.
    expect(as(replica, "readwrite", "EVAL", "return 1", "0")).toEqual({ result: 1 });
    expect(as(replica, "readwrite", "EVAL", "return redis.call('set', 'k', 'v')", "0")).toEqual({
      error: expect.stringMatching(/^READONLY You can't write against a read only replica\. script: [0-9a-f]{40}, on @user_script:1\.$/),
    });
    // A script flagged to write is a write: refused as one (redis-server 7.0.15's texts, checked).
    expect(as(replica, "readwrite", "EVAL", "#!lua\nreturn 1", "0")).toEqual({ error: "READONLY You can't write against a read only replica." });
    // EVAL_RO runs where reads run: a replica answers as its master would, not READONLY.
    expect(as(replica, "readonly", "EVAL_RO", "#!lua\nreturn 1", "0")).toEqual({ error: "ERR Can not execute a script with write flag using *_ro command." });
  });

  it("a master short of replicas (min-replicas-to-write) runs a script that only reads, and refuses its first write", () => {
    const engine = newEngine();
    run(engine, "CONFIG", "SET", "min-replicas-to-write", "1");
    expect(evalIn(engine, "return redis.call('get', 'k')")).toEqual({ result: null });
    expect(evalIn(engine, "return redis.call('set', 'k', 'v')")).toEqual({ error: expect.stringMatching(/^NOREPLICAS Not enough good replicas to write\. script: /) });
    expect(evalIn(engine, "#!lua\nreturn 1")).toEqual({ error: "NOREPLICAS Not enough good replicas to write." });
  });

  it("bounds what no instruction counts: full collections, shifts of a long array, each command's undo point", () => {
    const engine = newEngine();
    run(engine, "CONFIG", "SET", "busy-reply-threshold", "20");
    const busy = { error: expect.stringContaining("BUSY Script stopped") };
    expect(evalIn(engine, "local t = {} for i = 1, 100000 do t[i] = {} end while true do collectgarbage() end")).toMatchObject(busy);
    expect(evalIn(engine, "local t = {} for i = 1, 100000 do t[i] = i end while true do table.insert(t, 1, 0) table.remove(t, 1) end")).toMatchObject(busy);
    expect(evalIn(engine, "for i = 1, 1000000 do redis.call('set', 'w' .. i, i) end")).toMatchObject(busy);
    expect(run(engine, "DBSIZE")).toEqual({ result: 0 });
  });

  it("refuses a reply past the bounds (a table shared at every level) and keeps nothing; the node goes on", () => {
    const engine = newEngine();
    expect(evalIn(engine, "redis.call('set', 'r', 1) local t = {1} for i = 1, 50 do t = {t, t} end return t")).toEqual({
      error: "ERR the script's reply is past what Flaredis returns (1000000 values or 33554432 bytes of strings in a request's scripts); nothing it wrote was kept",
    });
    expect(run(engine, "EXISTS", "r")).toEqual({ result: 0 });
    expect(evalIn(engine, "return redis.call('ping')")).toEqual({ result: "PONG" });
  });

  it("bounds what a script's commands log as it runs, not only once it ends", () => {
    const engine = newEngine();
    expect(evalIn(engine, "local v = string.rep('x', 1000000) for i = 1, 100 do redis.call('set', 'big' .. i, v) end")).toEqual({
      error: expect.stringContaining("ERR this request would add more than 33554432 bytes to the replication log; split it"),
    });
    expect(run(engine, "DBSIZE")).toEqual({ result: 0 });
  });

  it("collectgarbage('stop') does not outlive its script: later scripts' garbage is collected", () => {
    const engine = newEngine();
    evalIn(engine, "collectgarbage('stop')");
    for (let i = 0; i < 8; i++) expect(evalIn(engine, "local t = {} for i = 1, 100000 do t[i] = {i} end return #t")).toEqual({ result: 100000 });
  });

  it("a script stopped at its bound keeps nothing, even after a command whose own error keeps its writes", () => {
    const engine = newEngine();
    run(engine, "CONFIG", "SET", "busy-reply-threshold", "10");
    run(engine, "PFADD", "k0", "e59", "x389419", "e44", "e19");
    run(engine, "SETRANGE", "k0", "18", "3.5"); // a corrupted HLL: PFADD keeps what it added before it found it
    const out = evalIn(engine, "pcall(redis.call, 'PFADD', 'k0', 'e6', 'e42', 'e9') redis.call('set', 'x', 1) while true do end");
    expect(out).toMatchObject({ error: expect.stringContaining("BUSY Script stopped") });
    expect(run(engine, "EXISTS", "x")).toEqual({ result: 0 }); // was kept before the fix
  });

  it("SCRIPT EXISTS takes a SHA-1 in either case; SCRIPT LOAD keeps a script EVAL cached; a flagged write refused as a write first", () => {
    const engine = newEngine();
    evalIn(engine, "return 'cased'");
    const hash = new TextDecoder().decode((run(engine, "SCRIPT", "LOAD", "return 'cased'") as { result: Uint8Array }).result);
    expect(run(engine, "SCRIPT", "EXISTS", hash.toUpperCase())).toEqual({ result: [1] });
    // Past 500 scripts cached by EVAL, the oldest go; the one SCRIPT LOAD asked for stays.
    for (let i = 0; i < 510; i++) evalIn(engine, `return ${i}`);
    expect(run(engine, "SCRIPT", "EXISTS", hash, new TextDecoder().decode((sha("return 0") as { result: Uint8Array }).result))).toEqual({ result: [1, 0] });
    // A script flagged to write is refused as a write (min-replicas here) before *_ro refuses it (redis-server 7.0.15, checked).
    expect(run(engine, "EVAL_RO", "#!lua\nreturn 1", "0")).toEqual({ error: "ERR Can not execute a script with write flag using *_ro command." });
    run(engine, "CONFIG", "SET", "min-replicas-to-write", "1");
    expect(run(engine, "EVAL_RO", "#!lua\nreturn 1", "0")).toEqual({ error: "NOREPLICAS Not enough good replicas to write." });
  });

  it("bounds the counted work of a request's scripts together (a pipeline of EVALs)", () => {
    const engine = new Engine(new MemoryStorage(), { clock: new ManualClock(), random: fixedRandom, scriptWorkPerRequestMs: 30 });
    run(engine, "CONFIG", "SET", "busy-reply-threshold", "20");
    const loop = ["EVAL", "while true do end", "0"];
    const result = engine.run({ mode: "pipeline", commands: [loop, loop, ["EVAL", "return 1", "0"]], permission: "admin" });
    expect(result).toMatchObject({
      outcomes: [
        { error: expect.stringContaining("BUSY Script stopped after running past busy-reply-threshold (20 ms of work)") },
        { error: expect.stringContaining("BUSY Script stopped: the request's scripts together ran past 30 ms of work") },
        { result: 1 }, // a script that does next to nothing still runs
      ],
    });
  });

  it("redis.log writes to the node's log, at or above CONFIG's loglevel", () => {
    const lines: [number, string][] = [];
    const engine = new Engine(new MemoryStorage(), { clock: new ManualClock(), random: fixedRandom, log: (level, message) => lines.push([level, message]) });
    expect(evalIn(engine, "redis.log(redis.LOG_WARNING, 'a', 1, {}) redis.log(redis.LOG_DEBUG, 'hidden') return 1")).toEqual({ result: 1 });
    run(engine, "CONFIG", "SET", "loglevel", "debug");
    evalIn(engine, "redis.log(redis.LOG_DEBUG, 'shown')");
    expect(lines).toEqual([[3, "a 1"], [0, "shown"]]);
  });

  it("what host functions read, redis.log's size, xpcall handlers, the collector's pace, a request's logs and replies", () => {
    const lines: [number, string][] = [];
    const engine = new Engine(new MemoryStorage(), { clock: new ManualClock(), random: fixedRandom, log: (level, message) => lines.push([level, message]) });
    const busy = { error: expect.stringContaining("BUSY Script stopped") };
    // A table given to a host function is not converted (it expanded to 2^60 values).
    expect(evalIn(engine, "local t = {1} for i = 1, 60 do t = {t, t} end return redis.status_reply(t)")).toEqual({ error: "ERR wrong number or type of arguments" });
    // redis.log takes at most 64 KiB of a message.
    evalIn(engine, "local s = string.rep('x', 1000000) redis.log(redis.LOG_WARNING, s, s, s)");
    expect(lines.map(([level, message]) => [level, message.length])).toEqual([[3, 65536]]);
    run(engine, "CONFIG", "SET", "busy-reply-threshold", "20");
    // An xpcall handler that loops is stopped too (it ran with hooks off).
    expect(evalIn(engine, "return xpcall(function() while true do end end, function() while true do end end)")).toMatchObject(busy);
    // A collector paced at 0 (every allocation a full collection) is held to 100.
    expect(evalIn(engine, "collectgarbage('setpause', 0) collectgarbage('setstepmul', 0) local t = {} for i = 1, 100000 do t[i] = {} end while true do local x = {} end")).toMatchObject(busy);
    // In a MULTI, a script's log counts what the commands before it logged.
    run(engine, "CONFIG", "SET", "busy-reply-threshold", "5000");
    const fill = ["EVAL", "local v = string.rep('x', 1000000) for i = 1, 20 do redis.call('set', KEYS[1] .. i, v) end return 1", "1"];
    const multi = engine.run({ mode: "multi", commands: [[...fill, "a"], [...fill, "b"]], permission: "admin" });
    expect(multi).toMatchObject({ outcomes: [{ result: 1 }, { error: expect.stringContaining("ERR this request would add more than 33554432 bytes") }] });
    // A request's scripts' replies together are bounded.
    const big = ["EVAL", "local t = {} for i = 1, 600000 do t[i] = i end return t", "0"];
    const pipeline = engine.run({ mode: "pipeline", commands: [big, big], permission: "admin" });
    expect(pipeline).toMatchObject({ outcomes: [{ result: expect.any(Array) }, { error: expect.stringContaining("ERR the script's reply is past what Flaredis returns") }] });
  });

  it("runs inside MULTI with the other commands", () => {
    const engine = newEngine();
    const result = engine.run({ mode: "multi", commands: [["SET", "k", "1"], ["EVAL", "return redis.call('incr', KEYS[1])", "1", "k"], ["GET", "k"]], permission: "admin" });
    expect(result).toMatchObject({ outcomes: [{ result: "OK" }, { result: 2 }, { result: text("2") }] });
  });
});
