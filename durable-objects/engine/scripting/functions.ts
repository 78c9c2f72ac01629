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
 */
import { type Bytes, fromBytes, toBytes } from "../bytes";
import type { Context, Reply } from "../command";
import { RedisError } from "../errors";
import { compileGlob } from "../glob";
import { REDIS_VERSION } from "../info";
import type { Change } from "../keyspace";
import type { MetaStore } from "../storage";
import { PayloadError, decodePayload, encodePayload } from "./function-payload";
import { registerRedisApi } from "./redis-api";
import { errorTable } from "./replies";
import { CHECK_EVERY, INSTRUCTIONS_PER_MS, type ScriptFlags, type ScriptRunner, WORK_PER_MS } from "./runner";
import { FLAG_NAMES, NAME_ERROR, VALID_NAME, fail, loadFailure, metadata, namedArgs, positionalArgs, raise } from "./library-code";
import { LuaFailure, type ToLua } from "./lua-values";
import { LuaVm } from "./vm";

/** A library's code at most, in bytes: one row of the node's storage holds it (SQLite's rows are at most 2 MB). */
export const MAX_LIBRARY_BYTES = 1024 * 1024;
/** All libraries' code together at most: a full sync's first chunk carries them all. */
export const MAX_LIBRARIES_BYTES = 8 * 1024 * 1024;
/** FUNCTION LOAD's bound on running a library's code (Redis's LOAD_TIMEOUT_MS), in ms of counted work. */
const LOAD_MS = 500;
/** The bound when a node runs a library's code again (a restart, a replica applying its master's log): Redis sets none there. */
const RELOAD_MS = 20_000;
/** The global table the host functions for loading are registered in (moved to the library API: host.c). */
const LIBRARY_API = "__flaredis_library_api";

export type RestorePolicy = "flush" | "append" | "replace";

interface RegisteredFunction {
  readonly name: string;
  readonly description: Bytes | null;
  /** Its flags' names, in Redis's order. */
  readonly flags: readonly string[];
  readonly scriptFlags: ScriptFlags;
  /** The callback, in the current VM. */
  readonly ref: number;
  readonly library: string;
}

interface Library {
  readonly name: string;
  /** The code as loaded, shebang included. */
  readonly code: string;
  /** By name as registered (case-sensitive within a library, as Redis's library dictionary). */
  readonly functions: Map<string, RegisteredFunction>;
}

export class Functions {
  private libraries = new Map<string, Library>();
  /** Every library's functions by lowercase name: Redis's function dictionary compares names case-insensitively. */
  private index = new Map<string, RegisteredFunction>();
  /** The stored version that memory reflects (-1: none read yet). */
  private version = -1;
  private vm: LuaVm | null = null;
  /** The library whose code runs now (FUNCTION LOAD): what redis.register_function adds to. */
  private loading: Library | null = null;

  constructor(
    private readonly runner: ScriptRunner,
    private readonly meta: MetaStore,
  ) {}

  /** FUNCTION LOAD [REPLACE] code. @returns the library's name */
  load(change: Change, code: string, replace: boolean): Bytes {
    this.current();
    if (toBytes(code).length > MAX_LIBRARY_BYTES) throw fail(`a function library's code is at most ${MAX_LIBRARY_BYTES} bytes in Flaredis`);
    const md = metadata(code);
    const old = this.libraries.get(md.name);
    if (old && !replace) throw fail(`Library '${md.name}' already exists`);
    this.checkTotal([code], old ? [old] : []);
    const lib = this.build(md, code, LOAD_MS);
    for (const f of lib.functions.values()) {
      const other = this.index.get(f.name.toLowerCase());
      if (other && other.library !== lib.name) {
        this.release(lib);
        throw fail(`Function ${f.name} already exists`);
      }
    }
    if (old) this.release(old);
    this.link(lib);
    this.persist([lib.name]);
    change.record(["FUNCTION", "LOAD", "REPLACE", code]);
    return toBytes(lib.name);
  }

  /** FUNCTION DELETE library-name. */
  delete(change: Change, name: string): void {
    this.current();
    const lib = this.libraries.get(name);
    if (!lib) throw fail("Library not found");
    this.unlink(lib);
    this.persist([name]);
    change.record(["FUNCTION", "DELETE", name]);
  }

  /** FUNCTION FLUSH. */
  flush(change: Change): void {
    this.current();
    const names = [...this.libraries.keys()];
    this.dropVm();
    this.libraries = new Map();
    this.index = new Map();
    this.persist(names);
    change.record(["FUNCTION", "FLUSH"]);
  }

  /**
   * FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]: the payload's libraries are made in a context
   * of their own (each loaded as FUNCTION LOAD would), then joined with the current ones, as Redis does.
   */
  restore(change: Change, payload: Bytes, policy: RestorePolicy): void {
    this.current();
    let codes: string[];
    try {
      codes = decodePayload(payload).map(fromBytes);
    } catch (e) {
      if (e instanceof PayloadError) throw fail(e.message);
      throw e;
    }
    const kept = policy === "flush" ? [] : [...this.libraries.values()];
    const restored: Library[] = [];
    const names = new Map<string, string>();
    let replaced: Library[] = [];
    try {
      for (const code of codes) {
        if (toBytes(code).length > MAX_LIBRARY_BYTES) throw fail(`a function library's code is at most ${MAX_LIBRARY_BYTES} bytes in Flaredis`);
        const md = metadata(code);
        if (restored.some((l) => l.name === md.name)) throw fail(`Library '${md.name}' already exists`);
        const lib = this.build(md, code, RELOAD_MS);
        restored.push(lib);
        for (const f of lib.functions.values()) {
          if (names.has(f.name.toLowerCase())) throw fail(`Function ${f.name} already exists`);
          names.set(f.name.toLowerCase(), lib.name);
        }
      }
      replaced = kept.filter((old) => restored.some((l) => l.name === old.name));
      if (policy === "append" && replaced.length > 0) throw fail(`Library ${replaced[0]!.name} already exists`);
      for (const old of kept)
        if (!replaced.includes(old)) for (const f of old.functions.values()) if (names.has(f.name.toLowerCase())) throw fail(`Function ${f.name} already exists`);
      this.checkTotal(codes, policy === "flush" ? kept.concat([...this.libraries.values()]) : replaced);
    } catch (e) {
      for (const lib of restored) this.release(lib);
      throw e;
    }
    const touched = restored.map((l) => l.name);
    if (policy === "flush") {
      touched.push(...this.libraries.keys());
      for (const lib of this.libraries.values()) this.release(lib);
      this.libraries = new Map();
      change.record(["FUNCTION", "FLUSH"]);
    } else for (const old of replaced) this.release(old);
    for (const lib of restored) {
      this.link(lib);
      change.record(["FUNCTION", "LOAD", "REPLACE", lib.code]);
    }
    this.persist(touched);
  }

  /** FCALL and FCALL_RO: the function `name` called with its keys and arguments. */
  fcall(ctx: Context, name: string, numkeys: string, rest: readonly string[], readOnly: boolean): Reply {
    this.current();
    const f = this.index.get(name.toLowerCase());
    if (!f) throw fail("Function not found");
    if (!/^(0|-?[1-9][0-9]*)$/.test(numkeys) || BigInt(numkeys) > 2n ** 63n - 1n || BigInt(numkeys) < -(2n ** 63n)) throw fail("Bad number of keys provided");
    const n = Number(numkeys);
    if (n > rest.length) throw fail("Number of keys can't be greater than number of args");
    if (n < 0) throw fail("Number of keys can't be negative");
    const calls = this.runner.prepare(ctx, f.scriptFlags, readOnly);
    const vm = this.vm!;
    try {
      return this.runner.run(vm, ctx, calls, f.ref, [rest.slice(0, n), rest.slice(n)], f.name);
    } finally {
      if (vm.broken) this.dropVm();
    }
  }

  /** The flags of function `name`'s calls (FCALL's, for Redis's fcallGetCommandFlags), or null when there is none. */
  flagsOf(name: string): ScriptFlags | null {
    this.current();
    return this.index.get(name.toLowerCase())?.scriptFlags ?? null;
  }

  /** FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE], as Redis replies it over RESP2. */
  list(pattern: string | null, withCode: boolean): Reply {
    this.current();
    const glob = pattern === null ? null : compileGlob(pattern.toLowerCase());
    const out: Reply[] = [];
    for (const lib of this.libraries.values()) {
      if (glob && !glob.test(lib.name.toLowerCase())) continue;
      const functions = [...lib.functions.values()].map((f) => [
        toBytes("name"),
        toBytes(f.name),
        toBytes("description"),
        f.description,
        toBytes("flags"),
        [...f.flags],
      ]);
      const entry: Reply[] = [toBytes("library_name"), toBytes(lib.name), toBytes("engine"), toBytes("LUA"), toBytes("functions"), functions];
      if (withCode) entry.push(toBytes("library_code"), toBytes(lib.code));
      out.push(entry);
    }
    return out;
  }

  /** FUNCTION STATS: no function runs while a command is served, so `running_script` is always nil. */
  stats(): Reply {
    this.current();
    return [toBytes("running_script"), null, toBytes("engines"), [toBytes("LUA"), [toBytes("libraries_count"), this.libraries.size, toBytes("functions_count"), this.index.size]]];
  }

  /** FUNCTION DUMP. */
  dump(): Bytes {
    this.current();
    return encodePayload([...this.libraries.values()].map((l) => toBytes(l.code)));
  }

  /** The libraries' code, for a full sync's first chunk. */
  codes(): string[] {
    this.current();
    return [...this.libraries.values()].map((l) => l.code);
  }

  /** A replica takes its master's libraries, all of them (a full sync's first chunk). */
  replaceAll(codes: readonly string[]): void {
    this.current();
    const names = [...this.libraries.keys()];
    this.dropVm();
    this.libraries = new Map();
    this.index = new Map();
    for (const code of codes) this.reload(code);
    this.persist([...names, ...this.libraries.keys()]);
  }

  /**
   * A FUNCTION effect of the master's log (a replica's stream, or a node's own log replayed after
   * a restart): applied over whatever state, as the absolute change it is.
   */
  apply(argv: readonly Bytes[]): void {
    this.current();
    const sub = fromBytes(argv[1] ?? new Uint8Array()).toUpperCase();
    const touched: string[] = [];
    if (sub === "FLUSH") {
      touched.push(...this.libraries.keys());
      this.dropVm();
      this.libraries = new Map();
      this.index = new Map();
    } else if (sub === "DELETE") {
      const name = fromBytes(argv[2]!);
      const lib = this.libraries.get(name);
      if (lib) this.unlink(lib);
      touched.push(name);
    } else if (sub === "LOAD") {
      const name = this.reload(fromBytes(argv[argv.length - 1]!));
      if (name !== null) touched.push(name);
    } else throw new Error(`replication: unknown effect FUNCTION ${sub}`);
    this.persist(touched);
  }

  /** Memory made what storage holds (at first use, after a restart, after a transaction rolled back, after the VM failed). */
  private current(): void {
    const stored = Number(this.meta.get("functions_version") ?? 0);
    if (stored === this.version && !this.vm?.broken) return;
    this.dropVm();
    this.libraries = new Map();
    this.index = new Map();
    this.version = stored;
    const names = JSON.parse(String(this.meta.get("functions") ?? "[]")) as string[];
    for (const name of names) this.reload(String(this.meta.get(`function:${name}`) ?? ""));
  }

  /**
   * Runs a library's code again (its functions' callbacks belong to a VM) and links it over any
   * other of its name, its functions over any of theirs: a replica applying its master's log may
   * pass through states the master never had, and ends in the master's. A library that fails is
   * logged and left out. @returns its name, or null
   */
  private reload(code: string): string | null {
    try {
      const md = metadata(code);
      const old = this.libraries.get(md.name);
      if (old) this.unlink(old);
      this.link(this.build(md, code, RELOAD_MS));
      return md.name;
    } catch (e) {
      if (!(e instanceof RedisError)) throw e;
      this.runner.host.log(3, `Flaredis could not load a function library again: ${e.message}`);
      return null;
    }
  }

  /**
   * Compiles a library's code and runs it in the library API, its `redis.register_function`s
   * collected (Redis's luaEngineCreate). Nothing is linked.
   * @throws RedisError with Redis's text
   */
  private build(md: { name: string; body: Bytes }, code: string, budgetMs: number): Library {
    const vm = this.ensureVm();
    const lib: Library = { name: md.name, code, functions: new Map() };
    let ref: number;
    try {
      ref = vm.load(md.body, "@user_function");
    } catch (e) {
      if (!(e instanceof LuaFailure)) throw e;
      throw fail(`Error compiling function: ${e.message}`);
    }
    let work = 0;
    const cWorkAtStart = vm.cWork();
    const check = (instructions: boolean): ToLua | null => {
      if (instructions) work += CHECK_EVERY;
      return work / INSTRUCTIONS_PER_MS + (vm.cWork() - cWorkAtStart) / WORK_PER_MS > budgetMs ? errorTable("FUNCTION LOAD timeout") : null;
    };
    this.loading = lib;
    vm.loading(true);
    try {
      vm.call(ref, [], { every: CHECK_EVERY, check }, undefined, false);
    } catch (e) {
      this.release(lib);
      if (!(e instanceof LuaFailure)) throw vm.broken ? fail(`Error registering functions: the Lua VM failed (${String(e)}) and was restarted`) : e;
      throw fail(`Error registering functions: ${loadFailure(e.value)}`);
    } finally {
      this.loading = null;
      if (!vm.broken) {
        vm.loading(false);
        vm.unload(ref);
      }
    }
    if (lib.functions.size === 0) throw fail("No functions registered");
    return lib;
  }

  /** redis.register_function(name, callback) or redis.register_function{function_name=, callback=, flags=, description=}. */
  private readonly register = (vm: LuaVm, n: number): ToLua[] => {
    const lib = this.loading;
    if (!lib) raise("redis.register_function can only be called on FUNCTION LOAD command");
    if (n < 1 || n > 2) raise("wrong number of arguments to redis.register_function");
    const f = n === 2 ? positionalArgs(vm) : namedArgs(vm);
    const flags = FLAG_NAMES.filter((name) => f.flags.has(name));
    const failure = !VALID_NAME.test(f.name) ? NAME_ERROR : lib!.functions.has(f.name) ? "Function already exists in the library" : null;
    if (failure !== null) {
      vm.unload(f.ref);
      raise(failure);
    }
    lib!.functions.set(f.name, {
      name: f.name,
      description: f.description,
      flags,
      scriptFlags: { compat: false, noWrites: f.flags.has("no-writes"), allowOom: f.flags.has("allow-oom"), allowStale: f.flags.has("allow-stale") },
      ref: f.ref,
      library: lib!.name,
    });
    return [];
  };

  private link(lib: Library): void {
    this.libraries.set(lib.name, lib);
    this.reindex();
  }

  private unlink(lib: Library): void {
    this.libraries.delete(lib.name);
    this.release(lib);
    this.reindex();
  }

  /** The function index made anew from the libraries (later libraries' functions over earlier ones': see `reload`). */
  private reindex(): void {
    this.index = new Map();
    for (const lib of this.libraries.values()) for (const f of lib.functions.values()) this.index.set(f.name.toLowerCase(), f);
  }

  /** Drops a library's callbacks from the VM. */
  private release(lib: Library): void {
    if (this.vm && !this.vm.broken) for (const f of lib.functions.values()) this.vm.unload(f.ref);
  }

  /** @throws RedisError when `codes` added and `replaced` dropped would take the libraries past MAX_LIBRARIES_BYTES */
  private checkTotal(codes: readonly string[], replaced: readonly Library[]): void {
    let total = 0;
    for (const lib of this.libraries.values()) if (!replaced.includes(lib)) total += toBytes(lib.code).length;
    for (const code of codes) total += toBytes(code).length;
    if (total > MAX_LIBRARIES_BYTES) throw fail(`the function libraries would take ${total} bytes, past the ${MAX_LIBRARIES_BYTES} Flaredis keeps`);
  }

  /** Stores the libraries named (their code, or none for those gone), the list of names and a new version. */
  private persist(names: readonly string[]): void {
    for (const name of new Set(names)) this.meta.set(`function:${name}`, this.libraries.get(name)?.code ?? "");
    this.meta.set("functions", JSON.stringify([...this.libraries.keys()]));
    this.version = Number(this.meta.get("functions_version") ?? 0) + 1;
    this.meta.set("functions_version", this.version);
  }

  private ensureVm(): LuaVm {
    if (this.vm && !this.vm.broken) return this.vm;
    this.dropVm();
    const vm = new LuaVm();
    registerRedisApi(vm, this.runner, REDIS_VERSION);
    vm.register(LIBRARY_API, "register_function", this.register);
    vm.lockForFunctions(LIBRARY_API);
    this.vm = vm;
    return vm;
  }

  /** The VM goes; every library's callbacks with it (`current` runs their code again in a new one). */
  private dropVm(): void {
    this.vm?.close();
    this.vm = null;
    if (this.libraries.size > 0) this.version = -1;
  }
}
