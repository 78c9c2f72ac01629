/**
 * The WebAssembly module's side of vm.ts: what vm/lua51.wasm exports (host.c's functions and the
 * parts of Lua's C API that vm.ts calls, built by vm/build.sh) and the WASI functions its C
 * library imports.
 */
import { fromBytes } from "../bytes";

export interface Exports {
  readonly memory: WebAssembly.Memory;
  readonly __indirect_function_table: WebAssembly.Table;
  readonly __stack_pointer: WebAssembly.Global;
  _initialize(): void;
  fl_new(): number;
  fl_register(L: number, table: number, name: number, which: number): void;
  fl_budget(L: number, every: number): void;
  fl_malloc(n: number): number;
  fl_free(p: number): void;
  fl_pushnumber(L: number, n: number): void;
  fl_tonumber(L: number, i: number): number;
  fl_ref(L: number): number;
  fl_refvalue(L: number, i: number): number;
  fl_functions(L: number, lib: number): number;
  fl_loading(L: number, loading: number): void;
  fl_getref(L: number, ref: number): void;
  fl_memory(): number;
  fl_limit(bytes: number): void;
  fl_work(): number;
  fl_lock(L: number): number;
  fl_setglobal(L: number, name: number): void;
  fl_pcall(L: number, ref: number, nargs: number, handled: number): number;
  fl_g17(n: number, out: number): number;
  fl_gc_restart(L: number): void;
  fl_fields(L: number, i: number): number;
  lua_next(L: number, i: number): number;
  lua_gettop(L: number): number;
  lua_settop(L: number, i: number): void;
  lua_type(L: number, i: number): number;
  lua_toboolean(L: number, i: number): number;
  lua_tolstring(L: number, i: number, len: number): number;
  lua_objlen(L: number, i: number): number;
  lua_pushnil(L: number): void;
  lua_pushlstring(L: number, p: number, n: number): void;
  lua_pushboolean(L: number, b: number): void;
  lua_createtable(L: number, narr: number, nrec: number): void;
  lua_rawseti(L: number, i: number, n: number): void;
  lua_rawgeti(L: number, i: number, n: number): void;
  lua_rawget(L: number, i: number): void;
  lua_setfield(L: number, i: number, k: number): void;
  lua_checkstack(L: number, n: number): number;
  lua_close(L: number): void;
  luaL_loadbuffer(L: number, p: number, n: number, name: number): number;
  luaL_unref(L: number, t: number, ref: number): void;
}

/** WASI, as far as the C code reaches it: what it writes (stdout, stderr) goes to `output`; nothing else is there. */
export function wasi(vm: { output: string[]; memory(): WebAssembly.Memory; exited(): void }) {
  const ENOSYS = 52;
  const EBADF = 8;
  return {
    fd_write: (_fd: number, iovs: number, count: number, written: number) => {
      const view = new DataView(vm.memory().buffer);
      let n = 0;
      for (let i = 0; i < count; i++) {
        const p = view.getUint32(iovs + i * 8, true);
        const len = view.getUint32(iovs + i * 8 + 4, true);
        vm.output.push(fromBytes(new Uint8Array(vm.memory().buffer, p, len)));
        n += len;
      }
      view.setUint32(written, n, true);
      return 0;
    },
    fd_close: () => 0,
    fd_fdstat_get: () => EBADF,
    fd_fdstat_set_flags: () => ENOSYS,
    fd_prestat_get: () => EBADF,
    fd_prestat_dir_name: () => EBADF,
    fd_read: () => ENOSYS,
    fd_renumber: () => ENOSYS,
    fd_seek: () => ENOSYS,
    path_open: () => ENOSYS,
    // Lua exits only after an error outside any protected call (a panic): the instance is done.
    proc_exit: (code: number) => {
      vm.exited();
      throw new Error(`lua: exit ${code}`);
    },
  };
}
