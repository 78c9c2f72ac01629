/**
 * The `redis` table scripts see (Redis 7's script_lua.c): call and pcall, sha1hex, error_reply and
 * status_reply, log, setresp, set_repl, acl_check_cmd, and the version and level constants.
 */
import { createHash } from "node:crypto";
import { fromBytes } from "../bytes";
import { errorTable, toLua } from "./replies";
import type { ScriptRunner } from "./runner";
import { LuaError, type ToLua } from "./lua-values";
import type { LuaVm } from "./vm";

/** A command a script runs, in instructions of work (the script's budget, scripts.ts). */
export const CALL_COST = 1_000;
/**
 * An entry of the change its undo point copies, in instructions (measured 2026-12-05: about 180
 * ns an entry, an instruction's worth being 50 ns at the budget's rate).
 */
const UNDO_ENTRY_COST = 4;
/** Bytes an argument may be copied and decoded at per instruction's worth of work. */
const BYTES_PER_INSTRUCTION = 20;
/** The most of a redis.log message a node's log takes. */
const LOG_BYTES = 64 * 1024;

export function sha1hex(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

/** A Lua error raised as Redis raises its own (a table with the ERR code unless the text has one). */
const raise = (text: string): never => {
  throw new LuaError(errorTable(text));
};


/**
 * The arguments of redis.call and its kin as argv, and their bytes; a Lua error table for a value
 * that is no argument.
 */
function argvOf(vm: LuaVm, n: number): { argv: string[]; bytes: number } | { err: string } {
  if (n === 0) return errorTable("Please specify at least one argument for this redis lib call");
  const argv: string[] = [];
  let bytes = 0;
  for (let i = 1; i <= n; i++) {
    const a = vm.argForCommand(i);
    if (a === null) return errorTable("Lua redis lib command arguments must be strings or integers");
    bytes += a.length;
    // A command argument as the engine takes it: a binary string.
    argv.push(typeof a === "string" ? a : fromBytes(a));
  }
  return { argv, bytes };
}

const REPL_REPLICA = 2;

/** What a call of the API costs outside a running script (a library's code at FUNCTION LOAD): an error value to stop with, or null. */
export type Meter = (instructions: number) => ToLua | null;

/** Work a redis.log call costs besides its bytes. */
const LOG_CALL_COST = 100;

export function registerRedisApi(vm: LuaVm, runner: ScriptRunner, version: string, meter?: Meter): void {
  const { host } = runner;
  // Work charged to the running script, or to `meter` when none runs, and checked at once.
  const charge = (instructions: number): void => {
    const run = runner.current;
    let stop: ToLua | null;
    if (run) {
      run.work += instructions;
      stop = run.check(false);
    } else stop = meter?.(instructions) ?? null;
    if (stop) throw new LuaError(stop);
  };
  const running = (what: string) => {
    const run = runner.current;
    if (!run) raise(`${what} can only be called inside a script invocation`);
    return run!;
  };
  const command = (raising: boolean) => (v: LuaVm, n: number): ToLua[] => {
    const run = running("redis.call/pcall");
    const args = argvOf(v, n);
    if ("err" in args) {
      if (raising) throw new LuaError(args);
      return [args];
    }
    const { argv } = args;
    // A command costs its arguments' bytes and its undo point too (the change's savepoint, copied before it runs).
    run.work += CALL_COST + args.bytes / BYTES_PER_INSTRUCTION + UNDO_ENTRY_COST * run.ctx.db.savepointSize();
    const stop = run.check(false);
    if (stop) throw new LuaError(stop);
    const { outcome, logBytes } = host.call(argv, run.ctx, run.calls);
    run.logBytes += logBytes;
    if ("error" in outcome) {
      // Redis marks a command's error so that its error counters do not count it twice.
      const table = { ...errorTable(`-${outcome.error}`), ignore_error_stats_update: true };
      if (raising) throw new LuaError(table);
      return [table];
    }
    return [toLua(outcome.result)];
  };
  vm.register("redis", "call", command(true));
  vm.register("redis", "pcall", command(false));
  vm.register("redis", "sha1hex", (v, n) => {
    if (n !== 1) raise("wrong number of arguments");
    const bytes = v.argBytes(1) ?? new Uint8Array();
    charge(bytes.length / BYTES_PER_INSTRUCTION);
    return [sha1hex(bytes)];
  });
  // error_reply and status_reply answer (not raise) an error table when misused, as Redis's do.
  const oneString = (v: LuaVm, n: number): Uint8Array | null => {
    const a = n === 1 ? v.arg(1) : null;
    return a instanceof Uint8Array ? a : null;
  };
  vm.register("redis", "error_reply", (v, n) => {
    const s = oneString(v, n);
    if (s === null) return [errorTable("wrong number or type of arguments")];
    const text = fromBytes(s);
    return [errorTable(text.startsWith("-") ? text : `-${text}`)];
  });
  vm.register("redis", "status_reply", (v, n) => {
    const s = oneString(v, n);
    return s === null ? [errorTable("wrong number or type of arguments")] : [{ ok: s }];
  });
  vm.register("redis", "log", (v, n) => {
    if (n < 2) raise("redis.log() requires two arguments or more.");
    const level = numberArg(v, 1);
    if (level === null) raise("First argument must be a number (log level).");
    if (Math.trunc(level!) < 0 || Math.trunc(level!) > 3) raise("Invalid debug level.");
    if (!host.logs(Math.trunc(level!))) return [];
    // The other arguments that are strings or numbers, glued with spaces, as Redis logs them, up
    // to LOG_BYTES (a node's log is no place for more, and no more is read), each counted in the work.
    charge(LOG_CALL_COST);
    const parts: string[] = [];
    let bytes = 0;
    for (let i = 2; i <= n && bytes < LOG_BYTES; i++) {
      const b = v.argBytes(i, LOG_BYTES - bytes);
      if (b === null) continue;
      bytes += b.length;
      charge(b.length / BYTES_PER_INSTRUCTION);
      parts.push(fromBytes(b));
    }
    host.log(Math.trunc(level!), parts.join(" ").slice(0, LOG_BYTES));
    return [];
  });
  vm.register("redis", "setresp", (v, n) => {
    running("redis.setresp");
    if (n !== 1) raise("redis.setresp() requires one argument.");
    const resp = Math.trunc(numberArg(v, 1) ?? 0);
    if (resp !== 2 && resp !== 3) raise("RESP version must be 2 or 3.");
    if (resp === 3) raise("RESP3 replies inside scripts are not supported by Flaredis; scripts see RESP2");
    return [];
  });
  vm.register("redis", "set_repl", (v, n) => {
    running("redis.set_repl");
    if (n !== 1) raise("redis.set_repl() requires two arguments.");
    const flags = Math.trunc(numberArg(v, 1) ?? 0);
    if ((flags & ~3) !== 0) raise("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    if ((flags & REPL_REPLICA) === 0) raise("Flaredis replicates every write a script makes: redis.set_repl without REPL_REPLICA is not supported");
    return [];
  });
  vm.register("redis", "replicate_commands", () => [true]);
  vm.register("redis", "breakpoint", () => [false]);
  vm.register("redis", "debug", () => []);
  vm.register("redis", "acl_check_cmd", (v, n) => {
    const run = running("redis.acl_check_cmd");
    const args = argvOf(v, n);
    if ("err" in args) throw new LuaError(args);
    const permitted = host.permits(args.argv, run.ctx);
    if (permitted === null) raise("Invalid command passed to redis.acl_check_cmd()");
    return [permitted];
  });
  const [major = 0, minor = 0, patch = 0] = version.split(".").map(Number);
  const constants: Record<string, number | string> = {
    REDIS_VERSION: version,
    REDIS_VERSION_NUM: (major << 16) | (minor << 8) | patch,
    LOG_DEBUG: 0,
    LOG_VERBOSE: 1,
    LOG_NOTICE: 2,
    LOG_WARNING: 3,
    REPL_NONE: 0,
    REPL_AOF: 1,
    REPL_SLAVE: 2,
    REPL_REPLICA: 2,
    REPL_ALL: 3,
  };
  vm.eval(Object.entries(constants).map(([k, x]) => `redis.${k} = ${JSON.stringify(x)}`).join("\n"), "=redis_api");
}

/** Argument `i` as lua_tonumber reads it (a number, or a string that is one), or null. */
function numberArg(vm: LuaVm, i: number): number | null {
  const a = vm.arg(i);
  if (typeof a === "number") return a;
  if (a instanceof Uint8Array) {
    const s = fromBytes(a).trim();
    const n = s === "" ? NaN : Number(s);
    return Number.isNaN(n) ? null : n;
  }
  return null;
}

