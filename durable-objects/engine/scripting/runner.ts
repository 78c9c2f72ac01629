/**
 * What EVAL and FCALL share (Redis 7's script.c and script_lua.c): the checks a script's flags ask
 * for before it runs, running a compiled function with its work, log and reply bounded, and the
 * error texts that name the script (its SHA-1, or the function's name) and where it failed.
 */
import { fromBytes } from "../bytes";
import type { Context, Reply } from "../command";
import type { Outcome, ScriptCalls } from "../dispatch";
import { RedisError, errors } from "../errors";
import { REQUEST_LIMITS } from "../limits";
import { fromLua } from "./replies";
import { LuaFailure, type LuaValue, LuaValueTooLarge, type ToLua } from "./lua-values";
import type { LuaVm } from "./vm";

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

/** Instructions, or units of C work, between two checks of the budget (Redis's hook runs every 100,000 instructions). */
export const CHECK_EVERY = 100_000;
/**
 * A script's work per millisecond of busy-reply-threshold: Lua instructions (a command it runs
 * counts as CALL_COST of them, redis-api.ts), and units of the C library's work (bytes of strings
 * built and allocated, steps of pattern matching and sorting: vm.ts `cWork`). A Worker's clock
 * stands still while a script runs, so the bound is counted, at rates the slowest kinds of work
 * reach on a 2-core machine (docs/scripting.md): a script stops at or before the threshold's time.
 */
const INSTRUCTIONS_PER_MS = 20_000;
const WORK_PER_MS = 40_000;
/** The most one request's scripts may run together whatever busy-reply-threshold says: well inside the platform's 30 s of CPU. */
export const MAX_REQUEST_SCRIPT_MS = 20_000;

/**
 * The counted work on `vm` from now on, in ms: the instructions a caller counts (its own, and the
 * commands and bytes it charges for), plus the C library's work the VM has done since.
 */
export function workClock(vm: LuaVm): (instructions: number) => number {
  const cWorkAtStart = vm.cWork();
  return (instructions) => instructions / INSTRUCTIONS_PER_MS + (vm.cWork() - cWorkAtStart) / WORK_PER_MS;
}

/** EVAL's and FCALL's arguments after numkeys `n`: its keys, then the script's arguments. @throws RedisError for a bad `n` */
export function keysAndArgs(n: number, rest: readonly string[]): { keys: readonly string[]; args: readonly string[] } {
  if (n > rest.length) throw new RedisError("ERR Number of keys can't be greater than number of args");
  if (n < 0) throw new RedisError("ERR Number of keys can't be negative");
  return { keys: rest.slice(0, n), args: rest.slice(n) };
}

/** The most of a script's reply (or error value) Flaredis converts and returns. */
const REPLY_BOUNDS = { values: REQUEST_LIMITS.maxScriptReplyValues, bytes: REQUEST_LIMITS.maxScriptReplyBytes };
const replyTooLarge = () =>
  new RedisError(`ERR the script's reply is past what Flaredis returns (${REPLY_BOUNDS.values} values or ${REPLY_BOUNDS.bytes} bytes of strings in a request's scripts); nothing it wrote was kept`);

/** Runs scripts and functions, one at a time: the one running is what the `redis.*` host functions act for. */
export class ScriptRunner {
  private running: Running | null = null;

  constructor(readonly host: ScriptHost) {}

  /** The script that runs now, if any (its host functions read it). */
  get current(): Running | null {
    return this.running;
  }

  /**
   * Redis's checks before a script of `flags` runs (scriptPrepareForRun), for a *_RO command when
   * `readOnly`. @returns what its `redis.call`s may do
   * @throws RedisError when it may not run here now
   */
  prepare(ctx: Context, flags: ScriptFlags, readOnly: boolean): ScriptCalls {
    // Flags that make it a write make it one for Redis's processCommand, which refuses it as a write
    // (NOREPLICAS) before scriptPrepareForRun refuses a *_ro command (redis-server 7.0.15, checked).
    // A replica, where *_ro commands run, answers as its master would: the *_ro refusal, not READONLY.
    if (!flags.compat && !flags.noWrites) {
      const refusal = this.host.writeRefusal();
      if (refusal && !(readOnly && refusal.message === errors.readOnly().message)) throw refusal;
      if (readOnly) throw new RedisError("ERR Can not execute a script with write flag using *_ro command.");
    }
    // Its flags make it a denyoom command (scriptFlagsToCmdFlags): refused as one.
    if (!flags.compat && ctx.overMemory && !flags.allowOom && !flags.noWrites) throw errors.oom();
    return {
      readOnly: readOnly || (!flags.compat && flags.noWrites),
      oom: (ctx.overMemory ?? false) && (flags.compat || !flags.allowOom),
      wrote: false,
    };
  }

  /**
   * Calls the function `ref` of `vm` with `args`, in `ctx`, its work bounded by
   * busy-reply-threshold and the request's bounds. `name` is what its errors call it.
   * @returns its reply
   * @throws RedisError for its error (`keepsWrites` unless it was stopped at a bound)
   */
  run(vm: LuaVm, ctx: Context, calls: ScriptCalls, ref: number, args: readonly ToLua[], name: string): Reply {
    const threshold = this.host.busyThresholdMs();
    const { maxRequestMs } = this.host;
    const thresholdMs = Math.min(threshold > 0 ? threshold : maxRequestMs, maxRequestMs);
    // The work of one request's scripts together stays within maxRequestMs (a pipeline of EVALs).
    const request = ctx.request ?? { log: 0, reads: 0, scriptMs: 0, replyValues: 0, replyBytes: 0 };
    const limitMs = Math.min(thresholdMs, maxRequestMs - request.scriptMs);
    // What the request logged before: its committed commands' (request.log) and this change's so far (in a MULTI).
    const loggedBefore = request.log + this.host.logged(ctx);
    const clock = workClock(vm);
    const usedMs = () => clock(run.work);
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
      value = vm.call(ref, args, { every: CHECK_EVERY, check: run.check }, bounds);
      request.replyValues += bounds.values - vm.conversionLeft.values;
      request.replyBytes += bounds.bytes - vm.conversionLeft.bytes;
    } catch (e) {
      if (e instanceof LuaValueTooLarge) throw replyTooLarge();
      // The runtime's own failure (its stack, a trap): the VM is made anew, and nothing the script wrote is kept.
      if (!(e instanceof LuaFailure)) throw vm.broken ? new RedisError(`ERR Error running script ${name}, the Lua VM failed (${String(e)}) and was restarted`) : e;
      const error = new RedisError(failureText(e.value, name));
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
}

/**
 * The error reply of a script that raised one (luaCallFunction): the error table's `err`, and
 * where it was raised (" script: <name>, on @user_script:<line>.").
 */
function failureText(value: LuaValue, name: string): string {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) {
    const message = value instanceof Uint8Array ? fromBytes(value) : "execution failure";
    return `ERR Error running script ${name}, ${message.slice(0, 100)}`;
  }
  const text = (v: LuaValue | undefined): string | null =>
    v instanceof Uint8Array ? fromBytes(v) : typeof v === "number" ? String(v) : null;
  const message = text(value.err) ?? "ERR unknown error";
  const source = text(value.source);
  const line = text(value.line);
  return source !== null && line !== null ? `${message} script: ${name}, on ${source}:${line}.` : message;
}
