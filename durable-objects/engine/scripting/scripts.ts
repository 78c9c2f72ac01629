/**
 * EVAL and its kin, as Redis 7 runs them (eval.c, script.c, script_lua.c): a script cache by SHA-1,
 * shebang flags, KEYS and ARGV, `redis.call` and `redis.pcall` running commands in the calling
 * command's change (so a script is atomic and replicates as the effects of what it ran, framed as
 * one transaction), Redis's conversions and error texts, and a bound on the work of one script.
 *
 * The cache is this node's, in memory, as Redis's is its server's: SCRIPT LOAD is not replicated,
 * and a node that restarts (a Durable Object evicted from memory, a failover) answers NOSCRIPT
 * until the script is sent again, which clients do (EVALSHA, then EVAL on NOSCRIPT).
 */
import { fromBytes, toBytes } from "../bytes";
import type { Context, Reply } from "../command";
import { RedisError } from "../errors";
import { REDIS_VERSION } from "../info";
import { registerRedisApi, sha1hex } from "./redis-api";
import { type ScriptFlags, type ScriptRunner } from "./runner";
import { LuaFailure } from "./lua-values";
import { LuaVm } from "./vm";

/** One EVAL-family call: the script (its body, or its SHA-1 for EVALSHA), its keys and arguments. */
export interface EvalRequest {
  readonly script: string;
  readonly bySha: boolean;
  readonly readOnly: boolean;
  readonly keys: readonly string[];
  readonly args: readonly string[];
}

interface Script {
  readonly body: Uint8Array;
  readonly flags: ScriptFlags;
  /** The shebang line's bytes, its line break excluded (shebang): what the compiler skips. */
  readonly skip: number;
  /** Made by EVAL (not SCRIPT LOAD): dropped first when the cache is full, as Redis 7.4 does. */
  readonly byEval: boolean;
}

/** Scripts EVAL cached beyond this many are dropped, least recently used first. */
const MAX_EVAL_SCRIPTS = 500;

const NOSCRIPT = () => new RedisError("NOSCRIPT No matching script. Please use EVAL.");
/** The most bytes of script bodies the cache holds: EVAL's are dropped first; past it, SCRIPT LOAD is refused. */
const MAX_CACHE_BYTES = 32 * 1024 * 1024;

export class Scripts {
  /** SHA-1 (lowercase hex) → script; a Map keeps use order for the LRU of EVAL's scripts. */
  private readonly cache = new Map<string, Script>();
  private vm: LuaVm | null = null;
  /** The functions compiled in `vm`, by SHA-1. */
  private refs = new Map<string, number>();
  /** Bytes of the cached scripts' bodies. */
  private bytes = 0;

  constructor(private readonly runner: ScriptRunner) {}

  /** SCRIPT LOAD (and EVAL, `byEval`): compiles and caches `body`. @returns its SHA-1 */
  load(body: string, byEval = false): string {
    try {
      return this.create(toBytes(body), byEval);
    } finally {
      if (this.vm?.broken) this.dropVm();
    }
  }

  /** SCRIPT EXISTS: 1 or 0 per SHA-1 (in either case, as Redis's dictionary compares them). */
  exists(shas: readonly string[]): number[] {
    return shas.map((sha) => (this.cache.has(sha.toLowerCase()) ? 1 : 0));
  }

  /** For INFO: the cached scripts, their bodies' bytes, and the Lua heap of their VM (0: none made yet). */
  memory(): { scripts: number; bytes: number; vmBytes: number } {
    return { scripts: this.cache.size, bytes: this.bytes, vmBytes: this.vm?.memoryUsed() ?? 0 };
  }

  /** SCRIPT FLUSH: the cache emptied and the Lua state made anew. */
  flush(): void {
    this.cache.clear();
    this.bytes = 0;
    this.dropVm();
  }

  /** EVAL, EVALSHA, EVAL_RO, EVALSHA_RO. */
  eval(ctx: Context, req: EvalRequest): Reply {
    let sha: string;
    if (req.bySha) {
      sha = req.script.toLowerCase();
      if (sha.length !== 40 || !this.cache.has(sha)) throw NOSCRIPT();
    } else sha = this.load(req.script, true);
    const script = this.cache.get(sha)!;
    this.cache.delete(sha);
    this.cache.set(sha, script); // most recently used last
    const calls = this.runner.prepare(ctx, script.flags, req.readOnly);
    const vm = this.ensureVm();
    try {
      const ref = this.compiled(vm, sha, script);
      vm.setLockedGlobal("KEYS", req.keys);
      vm.setLockedGlobal("ARGV", req.args);
      return this.runner.run(vm, ctx, calls, ref, [], sha);
    } finally {
      // A VM that an exception of the runtime's left unusable (inside the script or around it) is made anew.
      if (vm.broken) this.dropVm();
    }
  }

  /** Caches `body` (when new): flags read, compiled. @returns its SHA-1 */
  private create(body: Uint8Array, byEval: boolean): string {
    const sha = sha1hex(body);
    const cached = this.cache.get(sha);
    if (cached) {
      // SCRIPT LOAD of a script EVAL cached keeps it for good, as Redis 7.4 does.
      if (!byEval && cached.byEval) this.cache.set(sha, { ...cached, byEval: false });
      return sha;
    }
    const script: Script = { body, ...shebang(body), byEval };
    this.trim(body.length);
    if (this.bytes + body.length > MAX_CACHE_BYTES) throw new RedisError(`ERR the script cache is full (${MAX_CACHE_BYTES} bytes of scripts); SCRIPT FLUSH empties it`);
    this.compiled(this.ensureVm(), sha, script);
    this.cache.set(sha, script);
    this.bytes += body.length;
    return sha;
  }

  /** Drops the least recently used of EVAL's scripts past MAX_EVAL_SCRIPTS, or while `room` more bytes would not fit. */
  private trim(room: number): void {
    let byEval = 0;
    for (const s of this.cache.values()) if (s.byEval) byEval++;
    for (const [sha, s] of this.cache) {
      if (byEval < MAX_EVAL_SCRIPTS && this.bytes + room <= MAX_CACHE_BYTES) break;
      if (!s.byEval) continue;
      this.cache.delete(sha);
      this.bytes -= s.body.length;
      const ref = this.refs.get(sha);
      if (ref !== undefined) this.vm?.unload(ref);
      this.refs.delete(sha);
      byEval--;
    }
  }

  /** The script's function in `vm`, compiled on first use. @throws RedisError for a compile error */
  private compiled(vm: LuaVm, sha: string, script: Script): number {
    let ref = this.refs.get(sha);
    if (ref !== undefined) return ref;
    // After a shebang, its line break stays, so that the script's line numbers are the user's.
    try {
      ref = vm.load(script.body.subarray(script.skip), "@user_script");
    } catch (e) {
      if (!(e instanceof LuaFailure)) throw e;
      throw new RedisError(`ERR Error compiling script (new function): ${e.message}`);
    }
    this.refs.set(sha, ref);
    return ref;
  }

  private ensureVm(): LuaVm {
    if (this.vm) return this.vm;
    const vm = new LuaVm();
    registerRedisApi(vm, this.runner, REDIS_VERSION);
    vm.lock();
    this.vm = vm;
    this.refs = new Map();
    return vm;
  }

  private dropVm(): void {
    this.vm?.close();
    this.vm = null;
    this.refs = new Map();
  }
}

/**
 * Redis's script flags, and Upstash's `allow-key-locking` (its scripts, @upstash/ratelimit's among
 * them, declare it; it asks nothing here: a script runs alone on its node).
 */
const FLAG_NAMES = ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys", "allow-key-locking"];

/**
 * A script's shebang (evalExtractShebangFlags): `#!lua` and its `flags=` list, or none.
 * @returns the flags and how many bytes the shebang line takes (its line break excluded)
 * @throws RedisError for a shebang Redis would refuse
 */
export function shebang(body: Uint8Array): { flags: ScriptFlags; skip: number } {
  if (body[0] !== 0x23 || body[1] !== 0x21) return { flags: { compat: true, noWrites: false, allowOom: false, allowStale: false }, skip: 0 };
  const end = body.indexOf(10);
  if (end === -1) throw new RedisError("ERR Invalid script shebang");
  const parts = fromBytes(body.subarray(0, end)).split(/[ \t\r\v\f]+/).filter((p) => p !== "");
  if (parts.length === 0) throw new RedisError("ERR Invalid engine in script shebang");
  if (parts[0] !== "#!lua") throw new RedisError(`ERR Unexpected engine in script shebang: ${parts[0]}`);
  const set = new Set<string>();
  for (const part of parts.slice(1)) {
    if (!part.startsWith("flags=")) throw new RedisError(`ERR Unknown lua shebang option: ${part}`);
    for (const flag of part === "flags=" ? [] : part.slice(6).split(",")) {
      if (!FLAG_NAMES.includes(flag)) throw new RedisError(`ERR Unexpected flag in script shebang: ${flag}`);
      set.add(flag);
    }
  }
  return { flags: { compat: false, noWrites: set.has("no-writes"), allowOom: set.has("allow-oom"), allowStale: set.has("allow-stale") }, skip: end };
}

