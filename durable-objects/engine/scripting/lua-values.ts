/**
 * What crosses between JS and the Lua VM (vm.ts): values as each side sees them, host functions,
 * and the errors a call raises or meets.
 */
import { fromBytes } from "../bytes";
import type { LuaVm } from "./vm";

/** A Lua value as JS sees it. Tables come as what Redis reads of them (see `LuaTable`). */
export type LuaValue = null | boolean | number | Uint8Array | LuaTable;

/**
 * A table, as Redis reads one: its array part up to the first nil, and the fields that make it a
 * reply of another kind when set (`ok`, `err`, `double`, `big_number`, `map`, `set`,
 * `verbatim_string`), and an error's `source` and `line`. `map` comes as its pairs, `set` as its keys.
 */
export interface LuaTable {
  readonly array: LuaValue[];
  readonly ok?: LuaValue;
  readonly err?: LuaValue;
  readonly double?: LuaValue;
  readonly big_number?: LuaValue;
  readonly verbatim_string?: LuaValue;
  readonly format?: LuaValue;
  readonly string?: LuaValue;
  readonly source?: LuaValue;
  readonly line?: LuaValue;
  readonly map?: [LuaValue, LuaValue][];
  readonly set?: LuaValue[];
}

/** The fields of a table read besides its array part (LuaTable), in host.c's `reply_fields` order (then map and set). */
export const FIELDS = ["ok", "err", "double", "big_number", "verbatim_string", "format", "string", "source", "line"] as const;

/** A value pushed to Lua: strings are given as bytes or as text (UTF-8 encoded), arrays as tables 1..n. */
export type ToLua = null | boolean | number | string | Uint8Array | readonly ToLua[] | { readonly [field: string]: ToLua };

/**
 * A host function: reads its arguments with `vm.arg`, answers the values it returns, or throws a
 * `LuaError` to raise that value as a Lua error.
 */
export type HostFunction = (vm: LuaVm, nargs: number) => ToLua[];

/** A value `call` would convert past its bounds (`ConversionBounds`): the VM is fine, the value too large to return. */
export class LuaValueTooLarge extends Error {
  override readonly name = "LuaValueTooLarge";
}

/** The most of a value `call` converts to JS: its values (a table reached twice counts twice) and its strings' bytes. */
export interface ConversionBounds {
  readonly values: number;
  readonly bytes: number;
}

/** Raised in Lua as its value (a string, or a table such as Redis's `{err=...}`). */
export class LuaError extends Error {
  constructor(readonly value: ToLua) {
    super(typeof value === "string" ? value : "a Lua error");
  }
}

/**
 * A script's failure: its error value, as the error handler left it (Redis's table: `err`, the
 * message with its code, and `source` and `line` where it was raised) or as the compiler gave it.
 */
export class LuaFailure extends Error {
  constructor(readonly value: LuaValue) {
    super(value instanceof Uint8Array ? fromBytes(value) : value !== null && typeof value === "object" && value.err instanceof Uint8Array ? fromBytes(value.err) : "a Lua error that is not a string");
  }
}
