// Redis 7's functions on the engine alone (issue 25): FUNCTION LOAD's library API and its errors,
// FCALL and FCALL_RO, LIST, STATS, DELETE, FLUSH, DUMP and RESTORE, and libraries kept in storage
// and replicated (the log's FUNCTION effects, a full sync's first chunk). Expected texts are
// redis-server 7.0.15's; test/interop/functions.test.ts compares many more with a live one.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import type { Context } from "../../durable-objects/engine/command";
import { Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { decodePayload, encodePayload } from "../../durable-objects/engine/scripting/function-payload";
import { crc64 } from "../../durable-objects/engine/rdb/crc64";
import { digest } from "../../durable-objects/engine/replication/sync";
import { catchUp, enginePair, fullSync } from "../support/engine-pair";
import { fixedRandom, newEngine, run } from "../support/fixtures";

const text = (s: string) => new TextEncoder().encode(s);
const lib = (name: string, body: string) => `#!lua name=${name}\n${body}`;
const load = (engine: Engine, code: string, ...options: string[]) => run(engine, "FUNCTION", "LOAD", ...options, code);

/** FUNCTION DUMP of redis-server 7.0.15 (its code LZF-compressed): library mylib, functions hello (no-writes, described) and count. */
const REDIS_DUMP =
  "f5c340d141121f23216c7561206e616d653d6d796c69620a72656469732e72656769737465725f0866756e6374696f6e7bc008005f602b112268656c6c6f222c2063616c6c6261636b3dc01f13286b6579732c2061726773292072657475726e20802d062022202e2e202840191f5b315d206f722022776f726c64222920656e642c20666c6167733d7b226e6f2d10777269746573227d2c20646573637269704082063d2273617973208079007de00fa8062822636f756e74209ae00491e0008b80df40b6052822696e6372202840b12091608601290a0a0095d4dbe89869023a";
const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
/** A command's context for calling the engine's functions directly (its change is not committed). */
const contextOf = (engine: Engine): Context => ({ db: engine.keyspace.begin(0, "master", engine.log.offset), now: 0, permission: "admin", server: undefined as never });

describe("FUNCTION LOAD and FCALL", () => {
  it("loads a library, calls its functions with their keys and arguments, and names them in errors", () => {
    const engine = newEngine();
    expect(load(engine, lib("l1", "redis.register_function('f1', function(keys, args) return {keys, args} end)"))).toEqual({ result: text("l1") });
    expect(run(engine, "FCALL", "f1", "2", "a", "b", "c", "d")).toEqual({ result: [[text("a"), text("b")], [text("c"), text("d")]] });
    // Function names are looked up case-insensitively, as Redis's function dictionary compares them.
    expect(run(engine, "FCALL", "F1", "0")).toEqual({ result: [[], []] });
    load(engine, lib("l2", [
      "redis.register_function('f2', function() error('inner') end)",
      "redis.register_function('f3', function() return redis.call('nosuch') end)",
      "redis.register_function{function_name='f4', callback=function() return redis.call('set','x','1') end, flags={'no-writes'}, description='desc'}",
      "redis.register_function('counter', function(keys) return redis.call('incr', keys[1]) end)",
    ].join("\n")));
    expect(run(engine, "FCALL", "f2", "0")).toEqual({ error: "ERR user_function:2: inner script: f2, on @user_function:2." });
    expect(run(engine, "FCALL", "f3", "0")).toEqual({ error: "ERR Unknown Redis command called from script script: f3, on @user_function:3." });
    expect(run(engine, "FCALL_RO", "f4", "0")).toEqual({ error: "ERR Write commands are not allowed from read-only scripts. script: f4, on @user_function:4." });
    expect(run(engine, "FCALL", "f4", "0")).toEqual({ error: "ERR Write commands are not allowed from read-only scripts. script: f4, on @user_function:4." });
    expect(run(engine, "FCALL_RO", "f1", "0")).toEqual({ error: "ERR Can not execute a script with write flag using *_ro command." });
    expect(run(engine, "FCALL", "nosuch", "x")).toEqual({ error: "ERR Function not found" });
    expect(run(engine, "FCALL", "f1", "x")).toEqual({ error: "ERR Bad number of keys provided" });
    expect(run(engine, "FCALL", "f1", "3", "a")).toEqual({ error: "ERR Number of keys can't be greater than number of args" });
    expect(run(engine, "FCALL", "f1", "-1")).toEqual({ error: "ERR Number of keys can't be negative" });
    expect(run(engine, "FCALL", "counter", "1", "n")).toEqual({ result: 1 });
    expect(run(engine, "FCALL", "counter", "1", "n")).toEqual({ result: 2 });
  });

  it("runs a library's code in the library API only, bounded, with Redis's errors", () => {
    const engine = newEngine();
    const cases: [string, string][] = [
      ["redis.register_function()", "ERR Error registering functions: ERR wrong number of arguments to redis.register_function"],
      ["error('boom')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'error'"],
      ["local x = string.len('a')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'string'"],
      ["redis.register_function{function_name='x', callback=function() end, flags={'no-writes','bad'}}", "ERR Error registering functions: ERR unknown flag given"],
      ["redis.register_function('a-b', function() end)", "ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"],
      ["redis.call('set','a','b')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"],
      ["while true do end", "ERR Error registering functions: ERR FUNCTION LOAD timeout"],
      ["local x = 1", "ERR No functions registered"],
      ["return +", "ERR Error compiling function: user_function:2: unexpected symbol near '+'"],
      ["redis.register_function('f', function() end) redis.register_function('f', function() end)", "ERR Error registering functions: ERR Function already exists in the library"],
      ["redis.register_function{function_name='f'}", "ERR Error registering functions: ERR redis.register_function must get a callback argument"],
      ["redis.register_function{callback=function() end}", "ERR Error registering functions: ERR redis.register_function must get a function name argument"],
      ["redis.register_function{function_name='f', callback=function() end, other=1}", "ERR Error registering functions: ERR unknown argument given to redis.register_function"],
      ["redis.register_function('f', 'not a function')", "ERR Error registering functions: ERR second argument to redis.register_function must be a function"],
      ["redis.register_function(5)", "ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."],
    ];
    for (const [body, error] of cases) expect(load(engine, lib("l", body)), body).toEqual({ error });
    expect(run(engine, "FUNCTION", "LOAD", "return 1")).toEqual({ error: "ERR Missing library metadata" });
    expect(run(engine, "FUNCTION", "LOAD", "#!lua")).toEqual({ error: "ERR Invalid library metadata" });
    expect(run(engine, "FUNCTION", "LOAD", "#!lua\nx")).toEqual({ error: "ERR Library name was not given" });
    expect(run(engine, "FUNCTION", "LOAD", "#!lua name=a name=b\nx")).toEqual({ error: "ERR Invalid metadata value, name argument was given multiple times" });
    expect(run(engine, "FUNCTION", "LOAD", "#!lua name=a flags=x\nx")).toEqual({ error: "ERR Invalid metadata value given: flags=x" });
    expect(run(engine, "FUNCTION", "LOAD", "#!js name=a\nx")).toEqual({ error: "ERR Engine 'js' not found" });
    expect(run(engine, "FUNCTION", "LOAD", "#!lua name=a.b\nx")).toEqual({ error: "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long" });
    expect(run(engine, "FUNCTION", "LOAD", "NOPE", lib("a", "x"))).toEqual({ error: "ERR Unknown option given: NOPE" });
    // None of the failures left anything behind.
    expect(run(engine, "FUNCTION", "LIST")).toEqual({ result: [] });
    // Functions see the whole library of scripts, not the library API, and no KEYS or ARGV.
    // redis.log works while a library's code runs.
    expect(load(engine, lib("logs", "redis.log(redis.LOG_WARNING, 'loading')\nredis.register_function('lg', function() return 1 end)"))).toEqual({ result: text("logs") });
    load(engine, lib("ok", "redis.register_function('up', function(keys, args) return string.upper(args[1]) .. type(redis.call) end)\nredis.register_function('g', function() return KEYS end)"));
    expect(run(engine, "FCALL", "up", "0", "abc")).toEqual({ result: text("ABCfunction") });
    expect(run(engine, "FCALL", "g", "0")).toEqual({ error: "ERR user_function:3: Script attempted to access nonexistent global variable 'KEYS' script: g, on @user_function:3." });
  });

  it("keeps library and function names unique, REPLACE swapping a library whole", () => {
    const engine = newEngine();
    load(engine, lib("a", "redis.register_function('f', function() return 'a1' end)"));
    expect(load(engine, lib("a", "redis.register_function('f', function() return 'a2' end)"))).toEqual({ error: "ERR Library 'a' already exists" });
    expect(load(engine, lib("b", "redis.register_function('F', function() return 'b' end)"))).toEqual({ error: "ERR Function F already exists" });
    expect(load(engine, lib("a", "redis.register_function('g', function() return 'a2' end)"), "REPLACE")).toEqual({ result: text("a") });
    expect(run(engine, "FCALL", "f", "0")).toEqual({ error: "ERR Function not found" });
    expect(run(engine, "FCALL", "g", "0")).toEqual({ result: text("a2") });
    // A failed REPLACE keeps the library as it was.
    expect(load(engine, lib("a", "error('x')"), "REPLACE")).toMatchObject({ error: expect.stringContaining("Error registering functions") });
    expect(run(engine, "FCALL", "g", "0")).toEqual({ result: text("a2") });
  });

  it("lists, counts, deletes and flushes libraries", () => {
    const engine = newEngine();
    const code = lib("mylib", "redis.register_function{function_name='hello', callback=function() return 1 end, flags={'NO-WRITES', 'allow-stale'}, description='says hello'}\nredis.register_function('count', function() return 2 end)");
    load(engine, code);
    load(engine, lib("other", "redis.register_function('x', function() return 3 end)"));
    const mylib = [
      text("library_name"), text("mylib"), text("engine"), text("LUA"), text("functions"),
      [
        [text("name"), text("hello"), text("description"), text("says hello"), text("flags"), ["no-writes", "allow-stale"]],
        [text("name"), text("count"), text("description"), null, text("flags"), []],
      ],
    ];
    expect(run(engine, "FUNCTION", "LIST", "LIBRARYNAME", "MY*")).toEqual({ result: [mylib] });
    expect(run(engine, "FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "mylib")).toEqual({ result: [[...mylib, text("library_code"), text(code)]] });
    expect(run(engine, "FUNCTION", "LIST", "LIBRARYNAME")).toEqual({ error: "ERR library name argument was not given" });
    expect(run(engine, "FUNCTION", "LIST", "WITHCODE", "WITHCODE")).toEqual({ error: "ERR Unknown argument WITHCODE" });
    expect(run(engine, "FUNCTION", "STATS")).toEqual({
      result: [text("running_script"), null, text("engines"), [text("LUA"), [text("libraries_count"), 2, text("functions_count"), 3]]],
    });
    expect(run(engine, "FUNCTION", "DELETE", "nosuch")).toEqual({ error: "ERR Library not found" });
    expect(run(engine, "FUNCTION", "DELETE", "mylib")).toEqual({ result: "OK" });
    expect(run(engine, "FCALL", "hello", "0")).toEqual({ error: "ERR Function not found" });
    expect(run(engine, "FUNCTION", "FLUSH", "BOGUS")).toEqual({ error: "ERR FUNCTION FLUSH only supports SYNC|ASYNC option" });
    expect(run(engine, "FUNCTION", "FLUSH", "SYNC", "x")).toEqual({ error: "ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP." });
    expect(run(engine, "FUNCTION", "FLUSH", "ASYNC")).toEqual({ result: "OK" });
    expect(run(engine, "FUNCTION", "LIST")).toEqual({ result: [] });
    expect(run(engine, "FUNCTION", "KILL")).toEqual({ error: "NOTBUSY No scripts in execution right now." });
  });

  it("INFO memory counts this node's scripts, functions and libraries, and its Lua heaps, with Redis 7.0's names", () => {
    const engine = newEngine();
    const memory = () => new TextDecoder().decode((run(engine, "INFO", "memory") as { result: Uint8Array }).result);
    expect(memory()).toMatch(/number_of_cached_scripts:0\r\nnumber_of_functions:0\r\nnumber_of_libraries:0\r\nused_memory_vm_functions:0\r\n/);
    load(engine, lib("l", "redis.register_function('a', function() return 1 end)\nredis.register_function('b', function() return 2 end)"));
    run(engine, "EVAL", "return 1", "0");
    const info = memory();
    expect(info).toMatch(/number_of_cached_scripts:1\r\nnumber_of_functions:2\r\nnumber_of_libraries:1\r\n/);
    expect(Number(/used_memory_vm_eval:(\d+)/.exec(info)![1])).toBeGreaterThan(10_000);
    expect(Number(/used_memory_vm_functions:(\d+)/.exec(info)![1])).toBeGreaterThan(10_000);
    expect(info).toContain("used_memory_scripts_eval:8\r\n"); // "return 1"
  });
});

describe("FUNCTION DUMP and RESTORE", () => {
  it("reads redis-server's payload (LZF-compressed code) and writes one it reads back; a bad payload is refused", () => {
    expect(crc64(text("123456789")).hex()).toBe("e9c6d914c4b8d9ca");
    const [code] = decodePayload(fromHex(REDIS_DUMP)).map((c) => new TextDecoder().decode(c));
    expect(code).toMatch(/^#!lua name=mylib\nredis.register_function\{function_name="hello".*"incr", keys\[1\]\) end\)\n$/s);
    expect(decodePayload(encodePayload([text(code!)])).map((c) => new TextDecoder().decode(c))).toEqual([code]);
    const corrupt = fromHex(REDIS_DUMP);
    corrupt[20]! ^= 1;
    expect(() => decodePayload(corrupt)).toThrow("DUMP payload version or checksum are wrong");
    const engine = newEngine();
    expect(run(engine, "FUNCTION", "RESTORE", "not a payload")).toEqual({ error: "ERR DUMP payload version or checksum are wrong" });
    expect(run(engine, "FUNCTION", "RESTORE", "x", "MERGE")).toEqual({ error: "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE." });
  });

  it("restores with APPEND, REPLACE and FLUSH as Redis joins libraries", () => {
    const engine = newEngine();
    load(engine, lib("a", "redis.register_function('fa', function() return 'old a' end)"));
    load(engine, lib("b", "redis.register_function('fb', function() return 'b' end)"));
    const payload = encodePayload([text(lib("a", "redis.register_function('fa2', function() return 'new a' end)")), text(lib("c", "redis.register_function('fc', function() return 'c' end)"))]);
    const restore = (policy: "append" | "replace" | "flush") =>
      engine.transaction(() => {
        try {
          engine.functions.restore(contextOf(engine), payload, policy);
          return "OK";
        } catch (e) {
          return (e as Error).message;
        }
      });
    expect(restore("append")).toBe("ERR Library a already exists");
    expect(run(engine, "FCALL", "fa", "0")).toEqual({ result: text("old a") });
    expect(restore("replace")).toBe("OK");
    expect(run(engine, "FCALL", "fa2", "0")).toEqual({ result: text("new a") });
    expect(run(engine, "FCALL", "fa", "0")).toEqual({ error: "ERR Function not found" });
    expect(run(engine, "FCALL", "fb", "0")).toEqual({ result: text("b") });
    expect(restore("flush")).toBe("OK");
    expect(run(engine, "FCALL", "fb", "0")).toEqual({ error: "ERR Function not found" });
    expect(run(engine, "FCALL", "fc", "0")).toEqual({ result: text("c") });
    // FUNCTION DUMP gives the libraries back in the payload's form.
    const dumped = run(engine, "FUNCTION", "DUMP");
    expect(decodePayload((dumped as { result: Uint8Array }).result).length).toBe(2);
  });
});

describe("the bounds on libraries", () => {
  // About 450 ms of counted work (20,000 instructions a ms), then one function.
  const slow = (name: string) => lib(name, `for i = 1, 9000000 do end\nredis.register_function('${name}_f', function() return 1 end)`);

  it("holds all libraries' load work to what a node runs again in one request after a restart", () => {
    const engine = newEngine();
    for (const name of ["s1", "s2", "s3", "s4"]) expect(load(engine, slow(name))).toEqual({ result: text(name) });
    expect(load(engine, slow("s5"))).toEqual({ error: expect.stringMatching(/^ERR the function libraries' code would take \d+ ms of work to run, past the 2000 Flaredis allows/) });
    expect(run(engine, "FCALL", "s5_f", "0")).toEqual({ error: "ERR Function not found" });
    // Replacing a library frees its share.
    expect(load(engine, lib("s4", "redis.register_function('s4_f', function() return 4 end)"), "REPLACE")).toEqual({ result: text("s4") });
    expect(load(engine, slow("s5"))).toEqual({ result: text("s5") });
  });

  it("charges a library's load work to the request's scripts, and bounds what redis.log reads and costs", () => {
    const engine = new Engine(new MemoryStorage(), { clock: new ManualClock(), random: fixedRandom, scriptWorkPerRequestMs: 300 });
    expect(load(engine, slow("s1"))).toEqual({ error: "ERR Error registering functions: ERR FUNCTION LOAD timeout" });
    let lines = 0;
    const logging = new Engine(new MemoryStorage(), { clock: new ManualClock(), random: fixedRandom, log: () => void lines++ });
    const body = "local s = ('x'):rep(100000) for i = 1, 1e9 do redis.log(redis.LOG_WARNING, s) end";
    expect(load(logging, lib("chatty", body))).toEqual({ error: "ERR Error registering functions: ERR FUNCTION LOAD timeout" });
    // Each line reads at most 64 KiB and costs its bytes: the 500 ms bound holds a few thousand of them.
    expect(lines).toBeGreaterThan(100);
    expect(lines).toBeLessThan(10_000);
  });

  it("keeps a library whose code fails to run again (stored, dumped, replicated), and drops a deleted one's row", () => {
    const storage = new MemoryStorage();
    const options = { clock: new ManualClock(), random: fixedRandom };
    storage.meta.set("functions", JSON.stringify(["bad"]));
    storage.meta.set("function:bad", lib("bad", "error('no longer runs')"));
    storage.meta.set("functions_version", 1);
    const engine = new Engine(storage, options);
    expect(run(engine, "FUNCTION", "LIST")).toEqual({ result: [] });
    expect(load(engine, lib("bad", "redis.register_function('b', function() end)"))).toEqual({ error: "ERR Library 'bad' already exists" });
    load(engine, lib("good", "redis.register_function('g', function() return 'g' end)"));
    expect(JSON.parse(String(storage.meta.get("functions")))).toEqual(["good", "bad"]);
    expect(decodePayload((run(engine, "FUNCTION", "DUMP") as { result: Uint8Array }).result)).toHaveLength(2);
    expect(run(engine, "FUNCTION", "DELETE", "bad")).toEqual({ result: "OK" });
    expect(storage.meta.get("function:bad")).toBeNull();
    // A replica that cannot run a library its master sent keeps it: the digests stay equal.
    const p = enginePair();
    fullSync(p, 1000).finish();
    p.replica.functions.apply({ op: "load", code: lib("r", "error('not here')") });
    expect(p.replica.functions.codes()).toEqual([lib("r", "error('not here')")]);
  });

  it("refuses a payload whose compressed code would inflate past a library's bound, without allocating it", () => {
    // Opcode 245, an LZF string (0xc3) of 1 compressed byte claiming 2^31 bytes, then version 10 and the CRC.
    const body = Uint8Array.from([245, 0xc3, 0x01, 0x80, 0x80, 0x00, 0x00, 0x00, 0x00, 10, 0]);
    const payload = new Uint8Array(body.length + 8);
    payload.set(body);
    payload.set(crc64(body).bytes(), body.length);
    expect(() => decodePayload(payload, 1024 * 1024)).toThrow("failed loading the given functions payload");
  });
});

describe("functions as data: stored and replicated", () => {
  it("survives a restart, and a transaction that rolls back leaves the libraries as they were", () => {
    const storage = new MemoryStorage();
    const options = { clock: new ManualClock(), random: fixedRandom };
    const engine = new Engine(storage, options);
    load(engine, lib("kept", "redis.register_function('k', function() return 'kept' end)"));
    expect(() =>
      engine.transaction(() => {
        engine.functions.load(contextOf(engine), lib("lost", "redis.register_function('l', function() return 1 end)"), false);
        throw new Error("rolled back");
      }),
    ).toThrow("rolled back");
    expect(run(engine, "FCALL", "l", "0")).toEqual({ error: "ERR Function not found" });
    const restarted = new Engine(storage, options);
    expect(run(restarted, "FCALL", "k", "0")).toEqual({ result: text("kept") });
    expect(run(restarted, "FCALL", "l", "0")).toEqual({ error: "ERR Function not found" });
  });

  it("replicates LOAD, DELETE and FLUSH through the log, and a full sync carries the libraries", () => {
    const p = enginePair();
    fullSync(p, 1000).finish();
    load(p.master, lib("a", "redis.register_function{function_name='ra', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}"));
    load(p.master, lib("w", "redis.register_function('wr', function(keys, args) redis.call('set', keys[1], args[1]) return redis.call('incr', keys[2]) end)"));
    run(p.master, "FCALL", "wr", "2", "k", "n", "v");
    catchUp(p.master, p.replica, 1 << 20);
    expect(run(p.replica, "FCALL_RO", "ra", "1", "k")).toEqual({ result: text("v") });
    expect(run(p.replica, "FUNCTION", "LIST")).toEqual(run(p.master, "FUNCTION", "LIST"));
    expect(digest(p.replica)).toBe(digest(p.master));
    // FCALL_RO of a function that may write answers as the master would; a replica refuses FUNCTION's writes, as it refuses any.
    expect(run(p.replica, "FCALL_RO", "wr", "0")).toEqual({ error: "ERR Can not execute a script with write flag using *_ro command." });
    expect(run(p.replica, "FUNCTION", "FLUSH")).toEqual({ error: "READONLY You can't write against a read only replica." });
    run(p.master, "FUNCTION", "DELETE", "a");
    catchUp(p.master, p.replica, 1 << 20);
    expect(run(p.replica, "FCALL_RO", "ra", "1", "k")).toEqual({ error: "ERR Function not found" });
    // A full sync: the replica's libraries become the master's, as they were when its first chunk was read.
    const q = enginePair();
    q.replica.functions.apply({ op: "load", code: lib("stale", "redis.register_function('st', function() return 1 end)") });
    load(q.master, lib("early", "redis.register_function{function_name='ea', callback=function() return 'early' end, flags={'no-writes'}}"));
    const sync = fullSync(q, 64);
    sync.chunk();
    load(q.master, lib("late", "redis.register_function{function_name='lt', callback=function() return 'late' end, flags={'no-writes'}}"));
    sync.finish();
    catchUp(q.master, q.replica, 1 << 20);
    expect(run(q.replica, "FUNCTION", "LIST")).toEqual(run(q.master, "FUNCTION", "LIST"));
    expect(run(q.replica, "FCALL_RO", "lt", "0")).toEqual({ result: text("late") });
    expect(run(q.replica, "FCALL_RO", "st", "0")).toEqual({ error: "ERR Function not found" });
    run(p.master, "FUNCTION", "FLUSH");
    catchUp(p.master, p.replica, 1 << 20);
    expect(run(p.replica, "FUNCTION", "LIST")).toEqual({ result: [] });
  });
});
