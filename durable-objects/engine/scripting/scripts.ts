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
import type { Outcome, ScriptCalls } from "../dispatch";
import { RedisError, errors } from "../errors";
import { REQUEST_LIMITS } from "../limits";
import { REDIS_VERSION } from "../info";
import { registerRedisApi, sha1hex } from "./redis-api";
import { fromLua } from "./replies";
import { LuaFailure, type LuaValue, LuaValueTooLarge, LuaVm } from "./vm";

/** A script's shebang flags (`#!lua flags=no-writes,allow-oom`); `compat`: no shebang (EVAL's older rules). */
export interface ScriptFlags {
  readonly compat: boolean;
  readonly noWrites: boolean;
  readonly allowOom: boolean;
  readonly allowStale: boolean;
}

/** What scripts need of the engine. */
export interface ScriptHost {
  /**
   * Runs a script's `redis.call` in the script's change, with Redis's checks for scripts
   * (dispatch.ts). @returns its outcome and the bytes its effects add to the replication log
   */
  call(argv: string[], ctx: Context, calls: ScriptCalls): { outcome: Outcome; logBytes: number };
  /** The most one request may add to the replication log (limits.ts). */
  readonly maxLogBytes: number;
  /** The most counted work one request's scripts may do together, in ms (MAX_REQUEST_SCRIPT_MS). */
  readonly maxRequestMs: number;
  /** redis.log: whether a message at Redis's level (0 debug … 3 warning) goes to the node's log (CONFIG's loglevel). */
  logs(level: number): boolean;
  /** redis.log: a message for the node's log. */
  log(level: number, message: string): void;
  /** Bytes the change's effects so far add to the replication log (a MULTI's commands before a script). */
  logged(ctx: Context): number;
  /** Whether the caller's token may run argv's command: null for an unknown command (redis.acl_check_cmd). */
  permits(argv: readonly string[], ctx: Context): boolean | null;
  /** busy-reply-threshold in ms (0: none). */
  busyThresholdMs(): number;
  /** Writes a write script would make are refused on this node now (READONLY, NOREPLICAS...), or null. */
  writeRefusal(): RedisError | null;
}

/** One EVAL-family call: the script (its body, or its SHA-1 for EVALSHA), its keys and arguments. */
export interface EvalRequest {
  readonly script: string;
  readonly bySha: boolean;
  readonly readOnly: boolean;
  readonly keys: readonly string[];
  readonly args: readonly string[];
}

/** The script running now, for the host functions. */
export interface Running {
  readonly ctx: Context;
  readonly calls: ScriptCalls;
  /** Work done, in instructions (a command counts as CALL_COST and its undo point, redis-api.ts). */
  work: number;
  /** Bytes the script's commands added to the replication log. */
  logBytes: number;
  /** The script's budget: null while it has some left, else the error to stop it with (nothing it wrote is kept). */
  check(instructions: boolean): { err: string } | null;
}

interface Script {
  readonly body: Uint8Array;
  readonly flags: ScriptFlags;
  /** The shebang line's bytes, its line break excluded (shebang): what the compiler skips. */
  readonly skip: number;
  /** Made by EVAL (not SCRIPT LOAD): dropped first when the cache is full, as Redis 7.4 does. */
  readonly byEval: boolean;
}

/** Instructions, or units of C work, between two checks of the budget (Redis's hook runs every 100,000 instructions). */
const CHECK_EVERY = 100_000;
/**
 * A script's work per millisecond of busy-reply-threshold: Lua instructions (a command it runs
 * counts as CALL_COST of them, redis-api.ts), and units of the C library's work (bytes of strings
 * built and allocated, steps of pattern matching and sorting: vm.ts `cWork`). A Worker's clock
 * stands still while a script runs, so the bound is counted, at rates the slowest kinds of work
 * reach on a 2-core machine (docs/scripting.md): a script stops at or before the threshold's time.
 */
export const INSTRUCTIONS_PER_MS = 20_000;
export const WORK_PER_MS = 40_000;
/** The most one request's scripts may run together whatever busy-reply-threshold says: well inside the platform's 30 s of CPU. */
export const MAX_REQUEST_SCRIPT_MS = 20_000;
/** Scripts EVAL cached beyond this many are dropped, least recently used first. */
const MAX_EVAL_SCRIPTS = 500;

const NOSCRIPT = () => new RedisError("NOSCRIPT No matching script. Please use EVAL.");
/** The most of a script's reply (or error value) Flaredis converts and returns. */
const REPLY_BOUNDS = { values: REQUEST_LIMITS.maxScriptReplyValues, bytes: REQUEST_LIMITS.maxScriptReplyBytes };
const replyTooLarge = () =>
  new RedisError(`ERR the script's reply is past what Flaredis returns (${REPLY_BOUNDS.values} values or ${REPLY_BOUNDS.bytes} bytes of strings in a request's scripts); nothing it wrote was kept`);
/** The most bytes of script bodies the cache holds: EVAL's are dropped first; past it, SCRIPT LOAD is refused. */
const MAX_CACHE_BYTES = 32 * 1024 * 1024;

export class Scripts {
  /** SHA-1 (lowercase hex) → script; a Map keeps use order for the LRU of EVAL's scripts. */
  private readonly cache = new Map<string, Script>();
  private vm: LuaVm | null = null;
  /** The functions compiled in `vm`, by SHA-1. */
  private refs = new Map<string, number>();
  private running: Running | null = null;
  /** Bytes of the cached scripts' bodies. */
  private bytes = 0;

  constructor(private readonly host: ScriptHost) {}

  /** The script that runs now, if any (its host functions read it). */
  get current(): Running | null {
    return this.running;
  }

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
    const { flags } = script;
    // Flags that make it a write make it one for Redis's processCommand, which refuses it as a write
    // (READONLY, NOREPLICAS) before scriptPrepareForRun refuses a *_ro command (redis-server 7.0.15, checked).
    if (!flags.compat && !flags.noWrites) {
      const refusal = this.host.writeRefusal();
      if (refusal) throw refusal;
      if (req.readOnly) throw new RedisError("ERR Can not execute a script with write flag using *_ro command.");
    }
    // Its flags make it a denyoom command (scriptFlagsToCmdFlags): refused as one.
    if (!flags.compat && ctx.overMemory && !flags.allowOom && !flags.noWrites) throw errors.oom();
    const calls: ScriptCalls = {
      readOnly: req.readOnly || (!flags.compat && flags.noWrites),
      oom: (ctx.overMemory ?? false) && (flags.compat || !flags.allowOom),
      wrote: false,
    };
    const vm = this.ensureVm();
    try {
      return this.run(vm, ctx, req, sha, script, calls);
    } finally {
      // A VM that an exception of the runtime's left unusable (inside the script or around it) is made anew.
      if (vm.broken) this.dropVm();
    }
  }

  private run(vm: LuaVm, ctx: Context, req: EvalRequest, sha: string, script: Script, calls: ScriptCalls): Reply {
    const ref = this.compiled(vm, sha, script);
    vm.setLockedGlobal("KEYS", req.keys);
    vm.setLockedGlobal("ARGV", req.args);
    const threshold = this.host.busyThresholdMs();
    const { maxRequestMs } = this.host;
    const thresholdMs = Math.min(threshold > 0 ? threshold : maxRequestMs, maxRequestMs);
    // The work of one request's scripts together stays within maxRequestMs (a pipeline of EVALs).
    const request = ctx.request ?? { log: 0, reads: 0, scriptMs: 0, replyValues: 0, replyBytes: 0 };
    const limitMs = Math.min(thresholdMs, maxRequestMs - request.scriptMs);
    // What the request logged before: its committed commands' (request.log) and this change's so far (in a MULTI).
    const loggedBefore = request.log + this.host.logged(ctx);
    const cWorkAtStart = vm.cWork();
    const usedMs = () => run.work / INSTRUCTIONS_PER_MS + (vm.cWork() - cWorkAtStart) / WORK_PER_MS;
    let stop: { err: string } | null = null;
    const run: Running = {
      ctx,
      calls,
      work: 0,
      logBytes: 0,
      check: (instructions) => {
        if (instructions) run.work += CHECK_EVERY;
        if (stop === null && loggedBefore + run.logBytes > this.host.maxLogBytes) stop = { err: errors.logTooLarge(this.host.maxLogBytes).message };
        if (stop === null && usedMs() > limitMs)
          stop = {
            err:
              limitMs < thresholdMs
                ? `BUSY Script stopped: the request's scripts together ran past ${maxRequestMs} ms of work; nothing it wrote was kept`
                : `BUSY Script stopped after running past busy-reply-threshold (${thresholdMs} ms of work); nothing it wrote was kept`,
          };
        return stop;
      },
    };
    this.running = run;
    let value: LuaValue;
    try {
      // The request's replies together stay within the bounds (a pipeline of EVALs).
      const bounds = { values: REPLY_BOUNDS.values - request.replyValues, bytes: REPLY_BOUNDS.bytes - request.replyBytes };
      value = vm.call(ref, [], { every: CHECK_EVERY, check: run.check }, bounds);
      request.replyValues += bounds.values - vm.conversionLeft.values;
      request.replyBytes += bounds.bytes - vm.conversionLeft.bytes;
    } catch (e) {
      if (e instanceof LuaValueTooLarge) throw replyTooLarge();
      // The runtime's own failure (its stack, a trap): the VM is made anew, and nothing the script wrote is kept.
      if (!(e instanceof LuaFailure)) throw vm.broken ? new RedisError(`ERR Error running script ${sha}, the Lua VM failed (${String(e)}) and was restarted`) : e;
      const error = new RedisError(failureText(e.value, sha));
      // A script that failed keeps what it wrote, as in Redis; one stopped for its work keeps nothing.
      error.keepsWrites = stop === null;
      throw error;
    } finally {
      this.running = null;
      request.scriptMs += usedMs();
    }
    try {
      return fromLua(value, (n) => vm.formatNumber(n));
    } catch (e) {
      if (e instanceof RedisError) e.keepsWrites = true; // an error the script returned: what it wrote stays
      throw e;
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
    registerRedisApi(vm, this, this.host, REDIS_VERSION);
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
 * The error reply of a script that raised one (luaCallFunction): the error table's `err`, and
 * where it was raised (" script: <sha>, on @user_script:<line>.").
 */
function failureText(value: LuaValue, sha: string): string {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) {
    const message = value instanceof Uint8Array ? fromBytes(value) : "execution failure";
    return `ERR Error running script ${sha}, ${message.slice(0, 100)}`;
  }
  const text = (v: LuaValue | undefined): string | null =>
    v instanceof Uint8Array ? fromBytes(v) : typeof v === "number" ? String(v) : null;
  const message = text(value.err) ?? "ERR unknown error";
  const source = text(value.source);
  const line = text(value.line);
  return source !== null && line !== null ? `${message} script: ${sha}, on ${source}:${line}.` : message;
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

