/**
 * What a function library's code declares (functions.c, function_lua.c): its shebang
 * (`#!lua name=<library>`), and the functions its `redis.register_function` calls register, their
 * arguments read and checked as Redis reads and checks them.
 */
import { type Bytes, fromBytes, toBytes } from "../bytes";
import { RedisError } from "../errors";
import { splitArgs } from "../split-args";
import type { Library } from "./functions";
import { type HostFunction, LuaError, type LuaValue } from "./lua-values";
import { errorTable } from "./replies";
import type { LuaVm } from "./vm";

/** Redis's function flags, in its order (scripts_flags_def): FUNCTION LIST shows them so. */
export const FLAG_NAMES = ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"];
export const VALID_NAME = /^[A-Za-z0-9_]+$/;
/** Redis 7.0's text for a bad library name, and for a bad function name too. */
export const NAME_ERROR = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

export const fail = (message: string) => new RedisError(`ERR ${message}`);
/** Raises a Lua error as Redis's host functions raise theirs (a table with the ERR code). */
export const raise = (message: string): never => {
  throw new LuaError(errorTable(message));
};

/**
 * A library's shebang (functionExtractLibMetaData): `#!lua name=<library>`, words split as
 * sdssplitargs splits them. @returns its name, its code from the shebang's line break on (so that
 * line numbers are the user's), and the whole code's bytes
 */
export function metadata(code: string): { name: string; body: Bytes; bytes: number } {
  const bytes = toBytes(code);
  if (bytes[0] !== 0x23 || bytes[1] !== 0x21) throw fail("Missing library metadata");
  const end = bytes.indexOf(10);
  if (end === -1) throw fail("Invalid library metadata");
  const parts = splitArgs(bytes.subarray(0, end));
  if (parts === null || parts.length === 0) throw fail("Invalid library metadata");
  const engine = fromBytes(parts[0]!.subarray(2));
  let name: string | null = null;
  for (const part of parts.slice(1).map(fromBytes)) {
    if (part.slice(0, 5).toLowerCase() !== "name=") throw fail(`Invalid metadata value given: ${part}`);
    if (name !== null) throw fail("Invalid metadata value, name argument was given multiple times");
    name = part.slice(5);
  }
  if (name === null) throw fail("Library name was not given");
  if (!VALID_NAME.test(name)) throw fail(NAME_ERROR);
  if (engine.toLowerCase() !== "lua") throw fail(`Engine '${engine}' not found`);
  return { name, body: bytes.subarray(end), bytes: bytes.length };
}

/** A library's load error as Redis reads it (luaExtractErrorInformation): a string gets ERR, a table gives its `err`. */
export function loadFailure(value: LuaValue): string {
  if (value instanceof Uint8Array) return `ERR ${fromBytes(value)}`;
  if (typeof value === "number") return `ERR ${Number(value.toPrecision(14))}`;
  if (value !== null && typeof value === "object" && value.err instanceof Uint8Array) return fromBytes(value.err);
  return "(null)";
}

export interface Registration {
  readonly name: string;
  readonly ref: number;
  readonly description: Bytes | null;
  readonly flags: Set<string>;
}

/** register_function(name, callback) (luaRegisterFunctionReadPositionalArgs). */
export function positionalArgs(vm: LuaVm): Registration {
  const name = vm.argBytes(1);
  if (name === null) raise("first argument to redis.register_function must be a string");
  if (vm.argType(2) !== "function") raise("second argument to redis.register_function must be a function");
  return { name: fromBytes(name!), ref: vm.refArg(2), description: null, flags: new Set() };
}

/** register_function{...} (luaRegisterFunctionReadNamedArgs): the table's fields in its order, each checked as Redis checks it. */
export function namedArgs(vm: LuaVm): Registration {
  if (vm.argType(1) !== "table") raise("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
  let name: Bytes | null = null;
  let description: Bytes | null = null;
  let ref: number | null = null;
  const flags = new Set<string>();
  try {
    vm.eachPair(1, (key, at) => {
      // A number key is a string to Lua's C API: it names no argument.
      if (typeof key === "string" && key !== "number") raise("named argument key given to redis.register_function is not a string");
      switch (typeof key === "string" ? null : fromBytes(key).toLowerCase()) {
        case "function_name":
          name = vm.argBytes(at) ?? raise("function_name argument given to redis.register_function must be a string");
          break;
        case "description":
          description = vm.argBytes(at) ?? raise("description argument given to redis.register_function must be a string");
          break;
        case "callback":
          if (vm.argType(at) !== "function") raise("callback argument given to redis.register_function must be a function");
          ref = vm.refArg(at);
          break;
        case "flags":
          if (vm.argType(at) !== "table") raise("flags argument to redis.register_function must be a table representing function flags");
          for (const flag of vm.sequence(at)) {
            const known = flag === null ? undefined : FLAG_NAMES.find((f) => f === fromBytes(flag).toLowerCase());
            if (known === undefined) raise("unknown flag given");
            flags.add(known!);
          }
          break;
        default:
          raise("unknown argument given to redis.register_function");
      }
    });
    if (name === null) raise("redis.register_function must get a function name argument");
    if (ref === null) raise("redis.register_function must get a callback argument");
  } catch (e) {
    if (ref !== null) vm.unload(ref);
    throw e;
  }
  return { name: fromBytes(name!), ref: ref!, description, flags };
}

/**
 * redis.register_function(name, callback) or redis.register_function{function_name=, callback=,
 * flags=, description=} (luaRegisterFunction): adds the function to `loading()`'s library, its
 * callback a ref of the VM of `generation()`.
 */
export function registerFunction(loading: () => Library | null, generation: () => number): HostFunction {
  return (vm, n) => {
    const lib = loading();
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
      generation: generation(),
      library: lib!.name,
    });
    return [];
  };
}
