/**
 * A Lua 5.1 VM: Lua 5.1.5 itself, compiled to WebAssembly (vm/lua51.wasm, built by vm/build.sh),
 * the language Redis runs scripts in, so numbers are doubles (10/2 is 5, 2^53 exact) and the
 * standard library is 5.1's (unpack, table.getn, no integer division). Chosen by measurement over
 * fengari (Lua 5.3 with 32-bit integers) and others: docs/scripting.md.
 *
 * One `LuaVm` is one WebAssembly instance and one Lua state, synchronous throughout: a script runs
 * to its end (or its budget) while nothing else runs on the node. Lua strings are bytes and stay
 * bytes across the boundary (Uint8Array); numbers cross as doubles. Errors inside Lua are JS
 * exceptions (LuaThrow) that unwind the wasm stack to the nearest protected call, which restores
 * the C stack pointer; any other exception (the runtime's own stack overflow) leaves the instance
 * unusable: `broken` says so and the caller makes a new one.
 */
import { fromBytes, toBytes } from "../bytes";
import { type ConversionBounds, FIELDS, type HostFunction, LuaError, LuaFailure, type LuaTable, type LuaValue, LuaValueTooLarge, type ToLua } from "./lua-values";
import luaModule from "./vm/lua51.wasm";
import { type Exports, wasi } from "./wasm-abi";

class LuaThrow {
  constructor(readonly status: number) {}
}

const GLOBALS = -10002;
const REGISTRY = -10000;
const T_NIL = 0;
const T_BOOLEAN = 1;
const T_NUMBER = 3;
const T_STRING = 4;
const T_TABLE = 5;
/** lua_type's answers by name (lua.h). */
const TYPE_NAMES = ["nil", "boolean", "lightuserdata", "number", "string", "table", "function", "userdata", "thread"];
/**
 * The most of Lua's heap a script may use: past it, an allocation fails as Lua's "not enough
 * memory" error. The wasm memory's cap (64 MiB, build.sh) leaves room above it for what the VM
 * does outside a script.
 */
export const HEAP_LIMIT = 40 * 1024 * 1024;
/** A table nested deeper than this converts as nil (Redis stops at the same depth, with an error reply). */
const MAX_DEPTH = 1000;



export class LuaVm {
  /** What the C code wrote (to its stdout or stderr: the libraries' last words before a trap). */
  readonly output: string[] = [];
  /** True once an exception that is not Lua's unwound the instance: it must not be used again. */
  broken = false;
  private readonly ex: Exports;
  private readonly L: number;
  private readonly hosts: HostFunction[] = [];
  private readonly names = new Map<string, number>();
  private scratch: number;
  private scratchSize = 4096;
  private readonly lengthAt: number;
  /** What the value being converted may still take (`call`'s bounds), or null: no bound. */
  private converting: { values: number; bytes: number } | null = null;
  /** What the last `call`'s bounds had left after its value was converted. */
  conversionLeft: { values: number; bytes: number } = { values: 0, bytes: 0 };
  /** Set by `call`: called every `every` instructions or units of C work; an error value to stop the script with. */
  private budget: ((instructions: boolean) => ToLua | null) | null = null;

  constructor() {
    const env = {
      js_throw: (status: number) => {
        throw new LuaThrow(status);
      },
      js_try: (fn: number, L: number, ud: number) => {
        const sp = this.ex.__stack_pointer.value as number;
        try {
          (this.ex.__indirect_function_table.get(fn) as (L: number, ud: number) => void)(L, ud);
        } catch (e) {
          if (!(e instanceof LuaThrow)) {
            this.broken = true;
            throw e;
          }
          this.ex.__stack_pointer.value = sp;
        }
      },
      js_host_call: (_L: number, nargs: number, which: number) => this.hostCall(nargs, which),
      js_budget: (_L: number, instructions: number) => {
        const stop = this.budget?.(instructions !== 0) ?? null;
        if (stop === null) return 0;
        this.push(stop);
        return 1;
      },
    };
    const instance = new WebAssembly.Instance(luaModule, { env, wasi_snapshot_preview1: wasi({ output: this.output, memory: () => this.ex.memory, exited: () => (this.broken = true) }) });
    this.ex = instance.exports as unknown as Exports;
    this.ex._initialize();
    this.L = this.ex.fl_new();
    if (this.L === 0) throw new Error("lua: no memory for a new state");
    this.scratch = this.ex.fl_malloc(this.scratchSize);
    this.lengthAt = this.ex.fl_malloc(4);
  }

  /** Defines `table.name` (a global table, made when missing) or, without a table, the global `name`. */
  register(table: string | null, name: string, fn: HostFunction): void {
    this.hosts.push(fn);
    this.ex.fl_register(this.L, table === null ? 0 : this.cstring(table), this.cstring(name), this.hosts.length - 1);
  }

  /** Sets a global (before `lock`). */
  setGlobal(name: string, value: ToLua): void {
    this.push(value);
    this.ex.lua_setfield(this.L, GLOBALS, this.cstring(name));
  }

  /**
   * Protects the globals as Redis 7 does: reading one that does not exist is an error, and the
   * globals and every table reachable from them (the libraries, `redis`) are read-only.
   */
  lock(): void {
    if (this.ex.fl_lock(this.L) !== 0) throw this.popFailure();
  }

  /**
   * Protects the globals as Redis 7 does for its functions (instead of `lock`): a function sees an
   * empty read-only table whose reads go to the real globals, locked, or (`loading`) to the
   * library API: a `redis` table with what the global table `lib` holds (registered for loading,
   * then removed from the globals), redis.log and the version and log-level constants.
   */
  lockForFunctions(lib: string): void {
    if (this.ex.fl_functions(this.L, this.cstring(lib)) !== 0) throw this.popFailure();
  }

  /** After `lockForFunctions`: whether a library's code runs (its globals are the library API) or functions do. */
  loading(on: boolean): void {
    this.ex.fl_loading(this.L, on ? 1 : 0);
  }

  /** A reference to argument `i` of the host function being called (a callback), for `call`; dropped with `unload`. */
  refArg(i: number): number {
    return this.ex.fl_refvalue(this.L, i);
  }

  /** The Lua type of argument `i`: "nil", "boolean", "number", "string", "table", "function" and so on. */
  argType(i: number): string {
    return TYPE_NAMES[this.ex.lua_type(this.L, i)] ?? "none";
  }

  /**
   * Visits the pairs of the table at stack index `i` (a host function's argument) in lua_next's
   * order: each key (its bytes when a string, else its Lua type's name) and the stack index of its
   * value, valid during the visit, for `argType`, `argBytes`, `refArg` and `sequence`.
   */
  eachPair(i: number, visit: (key: Uint8Array | string, at: number) => void): void {
    const L = this.L;
    if (this.ex.lua_checkstack(L, 3) === 0) throw new LuaError("stack overflow");
    this.ex.lua_pushnil(L);
    while (this.ex.lua_next(L, i) !== 0) {
      const at = this.ex.lua_gettop(L);
      // A number key is not read as text: lua_tolstring would change it in place, and lua_next lose its way.
      visit(this.ex.lua_type(L, at - 1) === T_STRING ? this.bytesAt(at - 1) : (TYPE_NAMES[this.ex.lua_type(L, at - 1)] ?? "none"), at);
      this.ex.lua_settop(L, at - 1);
    }
  }

  /** t[1], t[2] ... up to the first nil of the table at stack index `i` (raw reads): each as `argBytes` reads it. */
  sequence(i: number): (Uint8Array | null)[] {
    const L = this.L;
    const out: (Uint8Array | null)[] = [];
    if (this.ex.lua_checkstack(L, 2) === 0) throw new LuaError("stack overflow");
    for (let k = 1; ; k++) {
      this.ex.lua_rawgeti(L, i, k);
      const top = this.ex.lua_gettop(L);
      const nil = this.ex.lua_type(L, top) === T_NIL;
      if (!nil) out.push(this.argBytes(top));
      this.ex.lua_settop(L, top - 1);
      if (nil) return out;
    }
  }

  /** Sets a global past the protection `lock` set (KEYS and ARGV before each script). */
  setLockedGlobal(name: string, value: ToLua): void {
    this.push(value);
    this.ex.fl_setglobal(this.L, this.cstring(name));
  }

  /** `n` as C's "%.17g" prints it (how Redis passes a Lua number to a command, and replies a double). */
  formatNumber(n: number): string {
    const length = this.ex.fl_g17(n, this.scratchFor(32));
    return fromBytes(new Uint8Array(this.ex.memory.buffer, this.scratch, length));
  }

  /**
   * Compiles `source` as a function named `chunkname` (Lua's "@name" or "=name" forms) and keeps it.
   * @returns its reference for `call`
   * @throws LuaFailure with the compiler's message
   */
  load(source: string | Uint8Array, chunkname: string): number {
    const bytes = typeof source === "string" ? toBytes(source) : source;
    if (this.ex.luaL_loadbuffer(this.L, this.toScratch(bytes), bytes.length, this.cstring(chunkname)) !== 0) throw this.popFailure();
    return this.ex.fl_ref(this.L);
  }

  /** Drops a function `load` kept. */
  unload(ref: number): void {
    this.ex.luaL_unref(this.L, REGISTRY, ref);
  }

  /**
   * Calls a loaded function with `args`; its first result. An error is given to the globals'
   * `__redis__err__handler` (host.c), which makes it Redis's error table with where it was raised.
   * `budget` is asked every `every` instructions (`instructions` true) and every `every` units of
   * the C library's work (`cWork`), and may answer an error value to stop the script with (raised
   * again at each check after, so that a pcall cannot swallow it for good). Without `handled`, no
   * handler: an error comes as it was raised (a library's code at FUNCTION LOAD).
   * @throws LuaFailure with the handler's table when the function raised an error
   */
  call(ref: number, args: readonly ToLua[] = [], budget?: { every: number; check: (instructions: boolean) => ToLua | null }, bounds?: ConversionBounds, handled = true): LuaValue {
    const top = this.ex.lua_gettop(this.L);
    if (this.ex.lua_checkstack(this.L, args.length + 3) === 0) throw new LuaFailure(toBytes("stack overflow"));
    for (const a of args) this.push(a);
    this.budget = budget?.check ?? null;
    this.ex.fl_budget(this.L, budget?.every ?? 0);
    this.ex.fl_limit(HEAP_LIMIT);
    let status: number;
    try {
      status = this.ex.fl_pcall(this.L, ref, args.length, handled ? 1 : 0);
    } finally {
      this.ex.fl_limit(0);
      this.ex.fl_budget(this.L, 0);
      this.budget = null;
    }
    this.converting = bounds ? { ...bounds } : null;
    try {
      if (status !== 0) throw this.popFailure();
      return this.value(-1, 0);
    } finally {
      this.conversionLeft = this.converting ?? { values: 0, bytes: 0 };
      this.converting = null;
      this.ex.lua_settop(this.L, top);
      // A script may have stopped the collector (collectgarbage("stop")): the next one finds it running.
      this.ex.fl_gc_restart(this.L);
    }
  }

  /** Compiles and runs `source` once. */
  eval(source: string, chunkname = "=eval"): LuaValue {
    const ref = this.load(source, chunkname);
    try {
      return this.call(ref);
    } finally {
      this.unload(ref);
    }
  }

  /** Argument `i` (1-based) of the host function being called; a table comes empty. */
  arg(i: number): LuaValue {
    // A table is not converted (no host function reads one): its kind is all a caller learns.
    return this.ex.lua_type(this.L, i) === T_TABLE ? { array: [] } : this.value(i, 0);
  }

  /** Argument `i` as Lua's tostring would have it for a string or number (its first `max` bytes), else null. */
  argBytes(i: number, max = Number.POSITIVE_INFINITY): Uint8Array | null {
    const t = this.ex.lua_type(this.L, i);
    return t === T_STRING || t === T_NUMBER ? this.bytesAt(i, max) : null;
  }

  /** Argument `i` as Redis passes it to a command: a string's bytes, a number as "%.17g", else null. */
  argForCommand(i: number): Uint8Array | string | null {
    const t = this.ex.lua_type(this.L, i);
    return t === T_STRING ? this.bytesAt(i) : t === T_NUMBER ? this.formatNumber(this.ex.fl_tonumber(this.L, i)) : null;
  }

  /** The bytes of Lua's heap in use. */
  memoryUsed(): number {
    return this.ex.fl_memory();
  }

  /**
   * The work the VM's C code has done since it started, beyond instructions: bytes of strings
   * built, concatenated, searched and allocated, steps of pattern matching and sorting (work.patch).
   */
  cWork(): number {
    return this.ex.fl_work();
  }

  close(): void {
    if (!this.broken) this.ex.lua_close(this.L);
  }

  private hostCall(nargs: number, which: number): number {
    let results: ToLua[];
    try {
      results = this.hosts[which]!(this, nargs);
    } catch (e) {
      if (!(e instanceof LuaError)) throw e;
      this.push(e.value);
      return -1;
    }
    for (const r of results) this.push(r);
    return results.length;
  }

  private push(v: ToLua): void {
    const L = this.L;
    if (v === null) this.ex.lua_pushnil(L);
    else if (typeof v === "boolean") this.ex.lua_pushboolean(L, v ? 1 : 0);
    else if (typeof v === "number") this.ex.fl_pushnumber(L, v);
    else if (typeof v === "string" || v instanceof Uint8Array) {
      const bytes = typeof v === "string" ? toBytes(v) : v;
      this.ex.lua_pushlstring(L, this.toScratch(bytes), bytes.length);
    } else if (Array.isArray(v)) {
      this.ex.lua_createtable(L, v.length, 0);
      v.forEach((x: ToLua, i: number) => {
        this.push(x);
        this.ex.lua_rawseti(L, -2, i + 1);
      });
    } else {
      // Made empty and grown field by field, as Redis makes its tables: pairs() then visits
      // the fields in Redis's order (cjson.encode of a reply shows it).
      const fields = Object.entries(v);
      this.ex.lua_createtable(L, 0, 0);
      for (const [k, x] of fields) {
        this.push(x);
        this.ex.lua_setfield(L, -2, this.cstring(k));
      }
    }
  }

  /** The value at stack index `i` (negative: from the top). */
  private value(i: number, depth: number): LuaValue {
    const L = this.L;
    if (this.converting && --this.converting.values < 0) throw new LuaValueTooLarge();
    switch (this.ex.lua_type(L, i)) {
      case T_NIL:
        return null;
      case T_BOOLEAN:
        return this.ex.lua_toboolean(L, i) !== 0;
      case T_NUMBER:
        return this.ex.fl_tonumber(L, i);
      case T_STRING:
        return this.bytesAt(i);
      case T_TABLE: {
        // Each level holds a value on Lua's stack while it converts the next: room is asked for.
        if (depth >= MAX_DEPTH || this.ex.lua_checkstack(L, 2) === 0) return null;
        const at = i < 0 ? this.ex.lua_gettop(L) + i + 1 : i;
        // Raw reads: no metamethod of the script's runs here, outside the protected call.
        const field = (name: string): LuaValue | undefined => {
          this.push(name);
          this.ex.lua_rawget(L, at);
          const v = this.ex.lua_type(L, -1) === T_NIL ? undefined : this.value(-1, depth + 1);
          this.ex.lua_settop(L, -2);
          return v;
        };
        const array: LuaValue[] = [];
        for (let k = 1; ; k++) {
          this.ex.lua_rawgeti(L, at, k);
          const nil = this.ex.lua_type(L, -1) === T_NIL;
          if (!nil) array.push(this.value(-1, depth + 1));
          this.ex.lua_settop(L, -2);
          if (nil) break;
        }
        const table: { -readonly [K in keyof LuaTable]: LuaTable[K] } = { array };
        // Which fields it has, asked in one call (host.c fl_fields, bits in FIELDS's order, then map and set).
        const present = this.ex.fl_fields(L, at);
        if (present === 0) return table;
        FIELDS.forEach((name, bit) => {
          if ((present & (1 << bit)) === 0) return;
          const v = field(name);
          if (v !== undefined) table[name] = v;
        });
        const map = present & (1 << FIELDS.length) ? this.pairsOf("map", at, depth) : null;
        if (map) table.map = map;
        const set = present & (1 << (FIELDS.length + 1)) ? this.pairsOf("set", at, depth) : null;
        if (set) table.set = set.map(([k]) => k);
        return table;
      }
      default:
        return null; // functions, userdata, threads: nil, as Redis converts them
    }
  }

  /** The pairs of the table in field `name` of the table at `at`, or null when that is not a table. */
  private pairsOf(name: string, at: number, depth: number): [LuaValue, LuaValue][] | null {
    const L = this.L;
    this.push(name);
    this.ex.lua_rawget(L, at);
    if (this.ex.lua_type(L, -1) !== T_TABLE || this.ex.lua_checkstack(L, 3) === 0) {
      this.ex.lua_settop(L, -2);
      return null;
    }
    const pairs: [LuaValue, LuaValue][] = [];
    this.ex.lua_pushnil(L);
    while (this.ex.lua_next(L, -2) !== 0) {
      pairs.push([this.value(-2, depth + 1), this.value(-1, depth + 1)]);
      this.ex.lua_settop(L, -2);
    }
    this.ex.lua_settop(L, -2);
    return pairs;
  }

  private bytesAt(i: number, max = Number.POSITIVE_INFINITY): Uint8Array {
    const p = this.ex.lua_tolstring(this.L, i, this.lengthAt);
    const n = Math.min(new DataView(this.ex.memory.buffer).getUint32(this.lengthAt, true), max);
    if (this.converting && (this.converting.bytes -= n) < 0) throw new LuaValueTooLarge();
    return new Uint8Array(this.ex.memory.buffer.slice(p, p + n));
  }

  private popFailure(): LuaFailure {
    const failure = new LuaFailure(this.value(-1, 0));
    this.ex.lua_settop(this.L, -2);
    return failure;
  }

  /** `bytes` copied into wasm memory (valid until the next copy). */
  private toScratch(bytes: Uint8Array): number {
    this.scratchFor(bytes.length + 1);
    const memory = new Uint8Array(this.ex.memory.buffer);
    memory.set(bytes, this.scratch);
    memory[this.scratch + bytes.length] = 0;
    return this.scratch;
  }

  /** The scratch buffer, at least `size` bytes. */
  private scratchFor(size: number): number {
    if (size > this.scratchSize) {
      this.ex.fl_free(this.scratch);
      this.scratch = this.ex.fl_malloc(size * 2);
      this.scratchSize = this.scratch === 0 ? 0 : size * 2;
      if (this.scratch === 0) {
        // No buffer to write to: the VM is not used again (its owner makes a new one).
        this.broken = true;
        throw new Error("lua: no memory for a buffer of the VM");
      }
    }
    return this.scratch;
  }

  /** A NUL-terminated copy of `s` kept for the VM's life (names: few and short). */
  private cstring(s: string): number {
    let p = this.names.get(s);
    if (p === undefined) {
      const bytes = toBytes(s);
      p = this.ex.fl_malloc(bytes.length + 1);
      const memory = new Uint8Array(this.ex.memory.buffer);
      memory.set(bytes, p);
      memory[p + bytes.length] = 0;
      this.names.set(s, p);
    }
    return p;
  }
}
