/**
 * Redis 7's functions (functions.c, function_lua.c): libraries of Lua functions that FUNCTION LOAD
 * registers with `redis.register_function` and FCALL and FCALL_RO call, in a Lua state of their
 * own whose globals, while a library's code runs, are only the library API.
 *
 * Unlike EVAL's script cache, libraries are data. They are kept in the node's storage (meta rows:
 * the names, a row per library's code, a version that tells memory when storage moved under it, a
 * transaction rolled back or a restart), and replicated: each change is logged as an effect
 * (`FUNCTION LOAD REPLACE <code>`, `FUNCTION DELETE <name>`, `FUNCTION FLUSH`, absolute, so that
 * replaying them over a later state converges) and a full sync's first chunk carries them all. A
 * library loaded before a failover is there after it, on a replica as on its master.
 *
 * A node runs every library's code again after a restart (its functions are closures of a VM), in
 * one request: the libraries' load work together is bounded (MAX_LOAD_TOTAL_MS). A library whose
 * code fails to run again is kept (stored, replicated, dumped) without its functions, and tried
 * again in a fresh VM at the next change.
 */
import { isInt64 } from "../args";
import { type Bytes, fromBytes, toBytes } from "../bytes";
import type { Context, Reply, RequestBudget } from "../command";
import { RedisError } from "../errors";
import { REDIS_VERSION } from "../info";
import type { MetaStore } from "../storage";
import type { FunctionChange } from "../replication/effect";
import { functionEffect } from "./effects";
import { PayloadError, decodePayload, encodePayload } from "./function-payload";
import { listReply, statsReply } from "./function-replies";
import { fail, loadFailure, metadata, registerFunction } from "./library-code";
import { LuaFailure, type ToLua } from "./lua-values";
import { registerRedisApi } from "./redis-api";
import { errorTable } from "./replies";
import { CHECK_EVERY, type ScriptFlags, type ScriptRunner, keysAndArgs, workClock } from "./runner";
import { LuaVm } from "./vm";

/** A library's code at most, in bytes: one row of the node's storage holds it (SQLite's rows are at most 2 MB). */
export const MAX_LIBRARY_BYTES = 1024 * 1024;
/** All libraries' code together at most: a full sync's first chunk carries them all. */
export const MAX_LIBRARIES_BYTES = 8 * 1024 * 1024;
/** A library's name at most, in bytes (a storage row is named by it). */
const MAX_NAME_BYTES = 1024;
/** FUNCTION LOAD's bound on running a library's code (Redis's LOAD_TIMEOUT_MS), in ms of counted work. */
const LOAD_MS = 500;
/**
 * All libraries' load work together at most, in ms of counted work: a node runs them all again
 * in one request (after a restart, or to take a full sync's), well inside the platform's 30 s of CPU.
 */
export const MAX_LOAD_TOTAL_MS = 2_000;
/** The bound on running one library's code again: its measured work may differ a little in another VM's state. */
const RELOAD_MS = 2 * LOAD_MS;
/** The global table the host functions for loading are registered in (moved to the library API: host.c). */
const LIBRARY_API = "__flaredis_library_api";

export type RestorePolicy = "flush" | "append" | "replace";

export interface RegisteredFunction {
  readonly name: string;
  readonly description: Bytes | null;
  /** Its flags' names, in Redis's order. */
  readonly flags: readonly string[];
  readonly scriptFlags: ScriptFlags;
  /** The callback, in the VM of `generation`. */
  readonly ref: number;
  readonly generation: number;
  readonly library: string;
}

export interface Library {
  readonly name: string;
  /** The code as loaded, shebang included, and its UTF-8 bytes. */
  readonly code: string;
  readonly bytes: number;
  /** The counted work its code took to run, in ms (its share of MAX_LOAD_TOTAL_MS). */
  costMs: number;
  /** By name as registered (case-sensitive within a library, as Redis's library dictionary). */
  readonly functions: Map<string, RegisteredFunction>;
}

export class Functions {
  private libraries = new Map<string, Library>();
  /** Libraries kept whose code failed to run again here (name → code): stored and replicated, without functions. */
  private unloaded = new Map<string, string>();
  /** Every library's functions by lowercase name: Redis's function dictionary compares names case-insensitively. */
  private index = new Map<string, RegisteredFunction>();
  /** The stored version that memory reflects (-1: none read yet). */
  private version = -1;
  /** Set when a library could not be applied here: the next use runs them all again in a fresh VM. */
  private retry = false;
  private vm: LuaVm | null = null;
  /** Which VM the callbacks belong to: a ref of another is never called or dropped. */
  private generation = 0;
  /** The library whose code runs now (FUNCTION LOAD): what redis.register_function adds to, and its work meter. */
  private loading: { readonly lib: Library; charge(instructions: number): ToLua | null } | null = null;

  constructor(
    private readonly runner: ScriptRunner,
    private readonly meta: MetaStore,
  ) {}

  /** FUNCTION LOAD [REPLACE] code, its work charged to the request's. @returns the library's name */
  load(ctx: Context, code: string, replace: boolean): Bytes {
    this.current();
    const md = this.metadataOf(code);
    const old = this.libraries.get(md.name);
    if ((old || this.unloaded.has(md.name)) && !replace) throw fail(`Library '${md.name}' already exists`);
    this.checkBytes([md.bytes], [md.name]);
    const lib = this.build(md, code, LOAD_MS, ctx.request);
    try {
      this.checkCost([lib], [md.name]);
      for (const f of lib.functions.values()) {
        const other = this.index.get(f.name.toLowerCase());
        if (other && other.library !== lib.name) throw fail(`Function ${f.name} already exists`);
      }
    } catch (e) {
      this.release(lib);
      throw e;
    }
    if (old) this.release(old);
    this.unloaded.delete(md.name);
    this.link(lib);
    this.persist([lib.name]);
    ctx.db.record(functionEffect.of({ op: "load", code }));
    return toBytes(lib.name);
  }

  /** FUNCTION DELETE library-name. */
  delete(ctx: Context, name: string): void {
    this.current();
    const lib = this.libraries.get(name);
    if (!lib && !this.unloaded.has(name)) throw fail("Library not found");
    if (lib) this.unlink(lib);
    this.unloaded.delete(name);
    this.persist([name]);
    ctx.db.record(functionEffect.of({ op: "delete", name }));
  }

  /** FUNCTION FLUSH. */
  flush(ctx: Context): void {
    this.current();
    this.persist(this.clear());
    ctx.db.record(functionEffect.of({ op: "flush" }));
  }

  /**
   * FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]: the payload's libraries are made in a context
   * of their own (each loaded as FUNCTION LOAD would), then joined with the current ones, as Redis does.
   */
  restore(ctx: Context, payload: Bytes, policy: RestorePolicy): void {
    this.current();
    let codes: string[];
    try {
      codes = decodePayload(payload, MAX_LIBRARY_BYTES).map(fromBytes);
    } catch (e) {
      if (e instanceof PayloadError) throw fail(e.message);
      throw e;
    }
    const restored = new Map<string, Library>();
    const names = new Set<string>();
    try {
      const mds = codes.map((code) => this.metadataOf(code));
      const replaced = policy === "flush" ? [...this.libraries.keys(), ...this.unloaded.keys()] : mds.map((md) => md.name);
      this.checkBytes(mds.map((md) => md.bytes), replaced);
      for (const [i, md] of mds.entries()) {
        if (restored.has(md.name)) throw fail(`Library '${md.name}' already exists`);
        const lib = this.build(md, codes[i]!, LOAD_MS, ctx.request);
        restored.set(md.name, lib);
        for (const f of lib.functions.values()) {
          if (names.has(f.name.toLowerCase())) throw fail(`Function ${f.name} already exists`);
          names.add(f.name.toLowerCase());
        }
      }
      if (policy === "append") for (const name of restored.keys()) if (this.libraries.has(name) || this.unloaded.has(name)) throw fail(`Library ${name} already exists`);
      if (policy !== "flush")
        for (const f of this.index.values()) if (!restored.has(f.library) && names.has(f.name.toLowerCase())) throw fail(`Function ${f.name} already exists`);
      this.checkCost([...restored.values()], replaced);
    } catch (e) {
      for (const lib of restored.values()) this.release(lib);
      throw e;
    }
    const touched = [...restored.keys()];
    if (policy === "flush") {
      // The restored libraries' callbacks are in this VM: it stays.
      touched.push(...this.clear(true));
      ctx.db.record(functionEffect.of({ op: "flush" }));
    }
    for (const lib of restored.values()) {
      const old = this.libraries.get(lib.name);
      if (old) this.release(old);
      this.unloaded.delete(lib.name);
      this.link(lib);
      ctx.db.record(functionEffect.of({ op: "load", code: lib.code }));
    }
    this.persist(touched);
  }

  /** FCALL and FCALL_RO: the function `name` called with its keys and arguments. */
  fcall(ctx: Context, name: string, numkeys: string, rest: readonly string[], readOnly: boolean): Reply {
    this.current();
    let f = this.index.get(name.toLowerCase());
    // A callback of a VM that has gone since (it failed while libraries were run again): all of them run again first.
    if (f && f.generation !== this.generation) {
      this.retry = true;
      this.current();
      f = this.index.get(name.toLowerCase());
    }
    if (!f) throw fail("Function not found");
    if (!isInt64(numkeys)) throw fail("Bad number of keys provided");
    const { keys, args } = keysAndArgs(Number(numkeys), rest);
    const calls = this.runner.prepare(ctx, f.scriptFlags, readOnly);
    const vm = this.vm!;
    try {
      return this.runner.run(vm, ctx, calls, f.ref, [keys, args], f.name);
    } finally {
      if (vm.broken) this.dropVm();
    }
  }

  /** FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE], as Redis replies it over RESP2. */
  list(pattern: string | null, withCode: boolean): Reply {
    this.current();
    return listReply(this.libraries.values(), pattern, withCode);
  }

  /** FUNCTION STATS: no function runs while a command is served, so `running_script` is always nil. */
  stats(): Reply {
    const { functions, libraries } = this.memory();
    return statsReply(libraries, functions);
  }

  /** For INFO: the functions and libraries loaded, their code's bytes, and the Lua heap of their VM (0: none). */
  memory(): { functions: number; libraries: number; bytes: number; vmBytes: number } {
    this.current();
    let functions = 0;
    let bytes = 0;
    for (const lib of this.libraries.values()) {
      functions += lib.functions.size;
      bytes += lib.bytes;
    }
    return { functions, libraries: this.libraries.size, bytes, vmBytes: this.vm?.memoryUsed() ?? 0 };
  }

  /** FUNCTION DUMP: every library kept, one whose code failed to run again here included. */
  dump(): Bytes {
    return encodePayload(this.codes().map(toBytes));
  }

  /** Every library's code (a full sync's first chunk, the digest, DUMP). */
  codes(): string[] {
    this.current();
    return [...[...this.libraries.values()].map((l) => l.code), ...this.unloaded.values()];
  }

  /** A replica takes its master's libraries, all of them (a full sync's first chunk). */
  replaceAll(codes: readonly string[]): void {
    this.current();
    const touched = this.clear();
    for (const code of codes) {
      const name = this.reload(code);
      if (name !== null) touched.push(name);
    }
    this.persist(touched);
  }

  /**
   * A FUNCTION effect of the master's log (a replica's stream, or a node's own log replayed after
   * a restart): applied over whatever state, as the absolute change it is.
   */
  apply(change: FunctionChange): void {
    this.current();
    const touched: string[] = [];
    if (change.op === "flush") touched.push(...this.clear());
    else if (change.op === "delete") {
      const lib = this.libraries.get(change.name);
      if (lib) this.unlink(lib);
      this.unloaded.delete(change.name);
      touched.push(change.name);
    } else {
      const name = this.reload(change.code);
      if (name !== null) touched.push(name);
    }
    this.persist(touched);
  }

  /**
   * Memory made what storage holds (at first use, after a restart, after a transaction rolled
   * back, after the VM failed or a library could not be applied): every library's code run again
   * in a fresh VM. A VM that fails meanwhile is made anew once more; after that the libraries are
   * kept without their functions until the next change.
   */
  private current(): void {
    const stored = Number(this.meta.get("functions_version") ?? 0);
    if (stored === this.version && !this.retry && !this.vm?.broken) return;
    const names = JSON.parse(String(this.meta.get("functions") ?? "[]")) as string[];
    const codeOf = (name: string) => String(this.meta.get(`function:${name}`) ?? "");
    this.version = stored;
    for (let attempt = 0; attempt < 2; attempt++) {
      this.clear();
      if (names.length === 0) break;
      const vm = this.ensureVm();
      const generation = this.generation;
      for (const name of names) this.reload(codeOf(name));
      if (this.generation === generation && !vm.broken) break;
      if (attempt === 1) {
        this.clear();
        for (const name of names) this.unloaded.set(name, codeOf(name));
      }
    }
    // Libraries that failed here are tried again at the next change, not at every call.
    this.retry = false;
  }

  /**
   * Runs a library's code again (its functions' callbacks belong to a VM) and links it over any
   * other of its name, its functions over any of theirs: a replica applying its master's log may
   * pass through states the master never had, and ends in the master's. A library that fails is
   * kept without its functions, logged, and tried again in a fresh VM at the next use.
   * @returns its name, or null when its code names none
   */
  private reload(code: string): string | null {
    let md: { name: string; body: Bytes; bytes: number };
    try {
      md = metadata(code);
    } catch (e) {
      if (!(e instanceof RedisError)) throw e;
      this.runner.host.log(3, `Flaredis could not read a function library's name: ${e.message}`);
      return null;
    }
    const old = this.libraries.get(md.name);
    if (old) this.unlink(old);
    try {
      this.link(this.build(md, code, RELOAD_MS));
      this.unloaded.delete(md.name);
    } catch (e) {
      if (!(e instanceof RedisError)) throw e;
      this.runner.host.log(3, `Flaredis could not run function library ${md.name} again, kept without its functions: ${e.message}`);
      this.unloaded.set(md.name, code);
      this.retry = true;
    }
    return md.name;
  }

  /**
   * Compiles a library's code and runs it in the library API, its `redis.register_function`s
   * collected (Redis's luaEngineCreate), its work bounded by `budgetMs` and what `request` has
   * left of its scripts' work (and charged to it). Nothing is linked.
   * @throws RedisError with Redis's text
   */
  private build(md: { name: string; body: Bytes; bytes: number }, code: string, budgetMs: number, request?: RequestBudget): Library {
    const vm = this.ensureVm();
    const lib: Library = { name: md.name, code, bytes: md.bytes, costMs: 0, functions: new Map() };
    let ref: number;
    try {
      ref = vm.load(md.body, "@user_function");
    } catch (e) {
      if (!(e instanceof LuaFailure)) throw e;
      throw fail(`Error compiling function: ${e.message}`);
    }
    const limitMs = request ? Math.min(budgetMs, this.runner.host.maxRequestMs - request.scriptMs) : budgetMs;
    let work = 0;
    const clock = workClock(vm);
    const charge = (instructions: number): ToLua | null => {
      work += instructions;
      return clock(work) > limitMs ? errorTable("FUNCTION LOAD timeout") : null;
    };
    this.loading = { lib, charge };
    vm.loading(true);
    try {
      vm.call(ref, [], { every: CHECK_EVERY, check: (instructions) => charge(instructions ? CHECK_EVERY : 0) }, undefined, false);
    } catch (e) {
      this.release(lib);
      if (!(e instanceof LuaFailure)) throw vm.broken ? fail(`Error registering functions: the Lua VM failed (${String(e)}) and was restarted`) : e;
      throw fail(`Error registering functions: ${loadFailure(e.value)}`);
    } finally {
      this.loading = null;
      lib.costMs = clock(work);
      if (request) request.scriptMs += lib.costMs;
      if (!vm.broken) {
        vm.loading(false);
        vm.unload(ref);
      }
    }
    if (lib.functions.size === 0) throw fail("No functions registered");
    return lib;
  }

  /** What redis.log costs while a library's code runs: its meter (null when no library loads: a function's call is metered by its script). */
  readonly loadMeter = (instructions: number): ToLua | null => this.loading?.charge(instructions) ?? null;

  /** redis.register_function, adding to the library whose code runs now (library-code.ts). */
  private readonly register = registerFunction(
    () => this.loading?.lib ?? null,
    () => this.generation,
  );

  /** A library's metadata, held to Flaredis's sizes. @throws RedisError */
  private metadataOf(code: string): { name: string; body: Bytes; bytes: number } {
    const md = metadata(code);
    if (md.bytes > MAX_LIBRARY_BYTES) throw fail(`a function library's code is at most ${MAX_LIBRARY_BYTES} bytes in Flaredis`);
    if (toBytes(md.name).length > MAX_NAME_BYTES) throw fail(`a function library's name is at most ${MAX_NAME_BYTES} bytes in Flaredis`);
    return md;
  }

  private link(lib: Library): void {
    this.libraries.set(lib.name, lib);
    this.reindex();
  }

  private unlink(lib: Library): void {
    this.libraries.delete(lib.name);
    this.release(lib);
    this.reindex();
  }

  /** Every library dropped, the VM with them unless `keepVm`. @returns their names */
  private clear(keepVm = false): string[] {
    const names = [...this.libraries.keys(), ...this.unloaded.keys()];
    if (keepVm) for (const lib of this.libraries.values()) this.release(lib);
    else {
      this.vm?.close();
      this.vm = null;
    }
    this.libraries = new Map();
    this.unloaded = new Map();
    this.index = new Map();
    return names;
  }

  /** The function index made anew from the libraries (later libraries' functions over earlier ones': see `reload`). */
  private reindex(): void {
    this.index = new Map();
    for (const lib of this.libraries.values()) for (const f of lib.functions.values()) this.index.set(f.name.toLowerCase(), f);
  }

  /** Drops a library's callbacks from the VM they belong to, if it is still the current one. */
  private release(lib: Library): void {
    if (!this.vm || this.vm.broken) return;
    for (const f of lib.functions.values()) if (f.generation === this.generation) this.vm.unload(f.ref);
  }

  /** @throws RedisError when code of `added` bytes, with the libraries named `replaced` gone, would be past MAX_LIBRARIES_BYTES */
  private checkBytes(added: readonly number[], replaced: readonly string[]): void {
    const gone = new Set(replaced);
    let total = 0;
    for (const lib of this.libraries.values()) if (!gone.has(lib.name)) total += lib.bytes;
    for (const [name, code] of this.unloaded) if (!gone.has(name)) total += toBytes(code).length;
    for (const n of added) total += n;
    if (total > MAX_LIBRARIES_BYTES) throw fail(`the function libraries would take ${total} bytes, past the ${MAX_LIBRARIES_BYTES} Flaredis keeps`);
  }

  /** @throws RedisError when `added`'s load work, with the libraries named `replaced` gone, would be past MAX_LOAD_TOTAL_MS */
  private checkCost(added: readonly Library[], replaced: readonly string[]): void {
    const gone = new Set(replaced);
    let total = 0;
    for (const lib of this.libraries.values()) if (!gone.has(lib.name)) total += lib.costMs;
    for (const lib of added) total += lib.costMs;
    if (total > MAX_LOAD_TOTAL_MS)
      throw fail(`the function libraries' code would take ${Math.ceil(total)} ms of work to run, past the ${MAX_LOAD_TOTAL_MS} Flaredis allows (a node runs it all again after a restart)`);
  }

  /** Stores the libraries named (their code, or no row for those gone), the list of names and a new version. */
  private persist(names: readonly string[]): void {
    for (const name of new Set(names)) {
      const code = this.libraries.get(name)?.code ?? this.unloaded.get(name);
      if (code === undefined) this.meta.delete(`function:${name}`);
      else this.meta.set(`function:${name}`, code);
    }
    this.meta.set("functions", JSON.stringify([...this.libraries.keys(), ...this.unloaded.keys()]));
    this.version = Number(this.meta.get("functions_version") ?? 0) + 1;
    this.meta.set("functions_version", this.version);
  }

  private ensureVm(): LuaVm {
    if (this.vm && !this.vm.broken) return this.vm;
    this.dropVm();
    const vm = new LuaVm();
    registerRedisApi(vm, this.runner, REDIS_VERSION, this.loadMeter);
    vm.register(LIBRARY_API, "register_function", this.register);
    vm.lockForFunctions(LIBRARY_API);
    this.vm = vm;
    this.generation++;
    return vm;
  }

  /** A VM that failed goes; every library's callbacks with it (`current` runs their code again in a new one). */
  private dropVm(): void {
    this.vm?.close();
    this.vm = null;
    if (this.libraries.size > 0) this.retry = true;
  }
}
