// The Lua VM scripts will run in (durable-objects/engine/scripting/vm.ts): Lua 5.1.5 compiled to
// WebAssembly, running in workerd. Lua 5.1's semantics where later Luas differ (every number a
// double, no integer division, unpack), bytes across the boundary, errors raised and caught in
// both directions, host functions (what redis.call will be), and the instruction budget that
// bounds a script.
import { describe, expect, it } from "vitest";
import { fromBytes } from "../../durable-objects/engine/bytes";
import { LuaError, LuaFailure, type LuaValue } from "../../durable-objects/engine/scripting/lua-values";
import { HEAP_LIMIT, LuaVm } from "../../durable-objects/engine/scripting/vm";

const text = (v: LuaValue) => (v instanceof Uint8Array ? fromBytes(v) : v);

describe("Lua 5.1 in WebAssembly", () => {
  it("has Lua 5.1's numbers and library, as Redis's scripts see them", () => {
    const vm = new LuaVm();
    const cases: [string, unknown][] = [
      ["return tostring(10/2)", "5"],
      ["return tostring(3/2)", "1.5"],
      ["return tostring(2^53)", "9.007199254741e+15"],
      ["return 2^53 == 9007199254740992 and 2^53 + 1 == 2^53", true],
      ["return tostring(2147483647 + 1)", "2147483648"],
      ["return tostring(1e15)", "1e+15"],
      ["return tostring(0.1 + 0.2)", "0.3"],
      ["return tostring(-0)", "-0"],
      ["return type(unpack)", "function"],
      ["return table.getn({1, 2, 3})", 3],
      ['return string.format("%d", 3.7)', "3"],
      ['return string.format("%d", 2^40)', "1099511627776"],
      ['return loadstring("return 3 // 2") == nil', true],
      ["return type(math.type)", "nil"],
      ["return _VERSION", "Lua 5.1"],
      ['return tonumber("0x10")', 16],
      ['return (string.gsub("hello world", "o", "0"))', "hell0 w0rld"],
      ["return #string.rep(\"ab\", 1000)", 2000],
      ["local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end) local _, x = coroutine.resume(co, 1) local _, y = coroutine.resume(co, 10) return x .. ',' .. y", "2,20"],
    ];
    for (const [source, expected] of cases) expect(text(vm.eval(source)), source).toEqual(expected);
  });

  it("keeps bytes as bytes both ways, every byte value", () => {
    const vm = new LuaVm();
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    vm.setGlobal("b", all);
    expect(vm.eval("return #b")).toBe(256);
    expect(vm.eval("return b")).toEqual(all);
    expect(vm.eval("return string.char(0, 255, 128, 10)")).toEqual(Uint8Array.of(0, 255, 128, 10));
    vm.setGlobal("s", "\xc3\xa9"); // a binary string: é's UTF-8
    expect(vm.eval("return #s")).toBe(2);
    expect(vm.eval("return s")).toEqual(Uint8Array.of(0xc3, 0xa9));
  });

  it("converts tables as Redis reads them: the array part to the first nil, and ok, err, double", () => {
    const vm = new LuaVm();
    const t = vm.eval('return {1, "two", {3}, nil, 5, ok = "fine"}');
    expect(t).toEqual({ array: [1, new TextEncoder().encode("two"), { array: [3] }], ok: new TextEncoder().encode("fine") });
    expect(vm.eval('return {err = "ERR no"}')).toEqual({ array: [], err: new TextEncoder().encode("ERR no") });
    expect(vm.eval("return function() end")).toBeNull();
    // Deep nesting converts without overrunning Lua's stack (past 1,000 levels, nil); metamethods do not run.
    let deep = vm.eval("local t = {} local top = t for i = 1, 5000 do local n = {} t[1] = n t = n end return top");
    let levels = 0;
    while (deep !== null && typeof deep === "object" && !(deep instanceof Uint8Array)) [deep, levels] = [deep.array[0] ?? null, levels + 1];
    expect(levels).toBe(1000);
    expect(vm.eval('return setmetatable({}, {__index = function() error("ran") end})')).toEqual({ array: [] });
    expect(vm.broken).toBe(false);
    expect(vm.eval("return false")).toBe(false);
  });

  it("raises errors in Lua, catchable by pcall, and reports those it does not catch", () => {
    const vm = new LuaVm();
    expect(text(vm.eval('local ok, e = pcall(error, "boom") return tostring(ok) .. ":" .. e'))).toBe("false:boom");
    // Redis's pcall: an error table with an `err` text is caught as that text.
    expect(text(vm.eval('local ok, e = pcall(function() error({err = "x"}) end) return e'))).toBe("x");
    expect(() => vm.eval('error("not caught")', "@user_script")).toThrow(LuaFailure);
    // Not caught: Redis's error handler makes it a table with the ERR code and where it was raised.
    let failure: unknown;
    try {
      vm.eval("local t = nil\nreturn t.x", "@user_script");
    } catch (e) {
      failure = e;
    }
    expect((failure as LuaFailure).message).toBe("ERR user_script:2: attempt to index local 't' (a nil value)");
    expect((failure as LuaFailure).value).toMatchObject({ source: new TextEncoder().encode("@user_script"), line: 2 });
    expect(() => vm.load("return +", "@user_script")).toThrow("user_script:1: unexpected symbol near '+'");
    // The runtime recovers: a stack overflow in Lua is Lua's error, not the runtime's.
    expect(vm.eval("local function f(n) return f(n + 1) + 1 end local ok = pcall(f, 1) return ok")).toBe(false);
    expect(vm.eval("return 1 + 1")).toBe(2);
    expect(vm.broken).toBe(false);
  });

  it("calls host functions with Lua's arguments and returns their values; a host error is a Lua error", () => {
    const vm = new LuaVm();
    const seen: unknown[] = [];
    vm.register("redis", "call", (v, n) => {
      const args = Array.from({ length: n }, (_, i) => v.argBytes(i + 1));
      const first = args[0] ?? null;
      seen.push(args.map((a) => (a === null ? null : fromBytes(a))));
      if (first !== null && fromBytes(first) === "fail") throw new LuaError({ err: "ERR failed" });
      return [args.length, "ok"];
    });
    expect(vm.eval('local n, s = redis.call("x", 1.5, "\\0") return n .. s')).toEqual(new TextEncoder().encode("3ok"));
    expect(seen).toEqual([["x", "1.5", "\u0000"]]);
    expect(text(vm.eval('local ok, e = pcall(redis.call, "fail") return e'))).toBe("ERR failed");
    expect(() => vm.eval('redis.call("fail")')).toThrow(LuaFailure);
  });

  it("gives scripts Redis's globals, protected as Redis 7 protects them", () => {
    const vm = new LuaVm();
    vm.register("redis", "call", () => []);
    vm.lock();
    const fails = (source: string, message: string) => expect(() => vm.eval(source, "@user_script"), source).toThrow(message);
    fails("return print", "Script attempted to access nonexistent global variable 'print'");
    fails("return dofile", "Script attempted to access nonexistent global variable 'dofile'");
    fails("return debug", "Script attempted to access nonexistent global variable 'debug'");
    fails("x = 1", "user_script:1: Attempt to modify a readonly table");
    fails("redis.call = nil", "Attempt to modify a readonly table");
    fails("string.upper = nil", "Attempt to modify a readonly table");
    fails("setmetatable(_G, nil)", "Attempt to modify a readonly table");
    fails("rawset(_G, 'x', 1)", "Attempt to modify a readonly table");
    fails("getmetatable('').__index = nil", "Attempt to modify a readonly table");
    fails("return getfenv", "Script attempted to access nonexistent global variable 'getfenv'");
    fails("return newproxy", "Script attempted to access nonexistent global variable 'newproxy'");
    fails('return loadstring(string.dump(function() return 1 end))()', "attempt to call a nil value");
    expect(vm.eval("local t = {} t.x = 1 return t.x")).toBe(1);
    vm.setLockedGlobal("KEYS", ["a"]);
    expect(text(vm.eval("table.insert(KEYS, 'b') return KEYS[2]"))).toBe("b");
    // math.random is rand48 from its own seed, the same sequence on every platform (Redis's).
    expect(vm.eval("return math.random(1, 1000000)")).toBe(396465);
    expect(vm.eval("math.randomseed(42) return math.random(100)")).toBe(vm.eval("math.randomseed(42) return math.random(100)"));
    expect(vm.formatNumber(0.1)).toBe("0.10000000000000001");
    expect(vm.formatNumber(1e21)).toBe("1e+21");
  });

  it("stops a script at its instruction budget, even one that catches errors", () => {
    const vm = new LuaVm();
    const ref = vm.load("while true do pcall(function() for i = 1, 100 do end end) end", "@user_script");
    let checks = 0;
    expect(() => vm.call(ref, [], { every: 1000, check: () => (++checks > 50 ? "ERR script over its budget" : null) })).toThrow("ERR script over its budget");
    expect(checks).toBeGreaterThan(50);
    // The budget ends with the call.
    expect(vm.eval("local n = 0 for i = 1, 100000 do n = n + i end return n")).toBe(5000050000);
  });

  it("fails a script that allocates without end as Lua's out-of-memory error, and goes on", () => {
    const vm = new LuaVm();
    const ref = vm.load("local t = {} for i = 1, 1e9 do t[i] = {i, i + 1, i + 2} end", "=eval");
    expect(() => vm.call(ref)).toThrow("not enough memory");
    expect(vm.broken).toBe(false);
    // Measured as the script ends (dropping it after may grow the registry by a few bytes, outside the bound).
    expect(vm.memoryUsed()).toBeLessThanOrEqual(HEAP_LIMIT);
    vm.unload(ref);
    expect(vm.eval("collectgarbage() return 7")).toBe(7);
    expect(vm.memoryUsed()).toBeLessThan(1024 * 1024);
  });
});
