/*
 * What vm.ts needs of Lua beyond its exported C API: a fresh state with the libraries Redis gives
 * scripts, host functions (redis.call and its kin) as C closures that call back into JS, numbers
 * as doubles across the boundary, and an instruction budget (a count hook) so that no script can
 * hold the node past its bound.
 */
#include <stdlib.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#define EXPORT(name) __attribute__((export_name(#name)))
#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

/* A host function: reads its arguments (1..nargs) from L, pushes its results and answers their
 * count, or -1 after pushing an error value (then raised here as a Lua error). */
extern int js_host_call(lua_State *L, int nargs, int which) IMPORT(js_host_call);
/* Called every `every` instructions (fl_budget): nonzero when the script is out of budget, after
 * pushing the error value to raise. */
extern int js_budget(lua_State *L) IMPORT(js_budget);

static int host_call(lua_State *L) {
  int n = js_host_call(L, lua_gettop(L), (int)lua_tointeger(L, lua_upvalueindex(1)));
  if (n < 0) return lua_error(L);
  return n;
}

/* Sets the host function `which` as table[name] (a global table, made when missing) or, with no
 * table, as the global name. */
EXPORT(fl_register) void fl_register(lua_State *L, const char *table, const char *name, int which) {
  lua_pushinteger(L, which);
  lua_pushcclosure(L, host_call, 1);
  if (table) {
    lua_getfield(L, LUA_GLOBALSINDEX, table);
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, LUA_GLOBALSINDEX, table);
    }
    lua_insert(L, -2);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
  } else {
    lua_setfield(L, LUA_GLOBALSINDEX, name);
  }
}

static void open_lib(lua_State *L, const char *name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

/* Redis's set: base, table, string, math and debug (no io, os or package). */
static int open_libs(lua_State *L) {
  open_lib(L, "", luaopen_base);
  open_lib(L, LUA_TABLIBNAME, luaopen_table);
  open_lib(L, LUA_STRLIBNAME, luaopen_string);
  open_lib(L, LUA_MATHLIBNAME, luaopen_math);
  open_lib(L, LUA_DBLIBNAME, luaopen_debug);
  return 0;
}

/* Lua's heap in use, and the most a script may use (0: no bound). The bound holds only while a
 * script runs (fl_limit around the call), well under the wasm memory's own cap, so that the API
 * calls made outside a protected call (pushing arguments, reading results, the collector's work
 * then) still find memory after a script ran out: they would otherwise end the process. */
static size_t heap_used = 0;
static size_t heap_limit = 0;

static void *heap_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    heap_used -= osize;
    return NULL;
  }
  if (heap_limit != 0 && nsize > osize && heap_used + (nsize - osize) > heap_limit) return NULL;
  void *p = realloc(ptr, nsize);
  if (p) heap_used = heap_used - osize + nsize;
  return p;
}

EXPORT(fl_limit) void fl_limit(size_t bytes) { heap_limit = bytes; }

static int panic(lua_State *L) {
  (void)L;
  return 0; /* Lua then exits: proc_exit, a JS exception that marks the VM broken */
}

/* A new state with the libraries open, or NULL when memory ran out. */
EXPORT(fl_new) lua_State *fl_new(void) {
  lua_State *L = lua_newstate(heap_alloc, NULL);
  if (!L) return NULL;
  lua_atpanic(L, panic);
  if (lua_cpcall(L, open_libs, NULL) != 0) {
    lua_close(L);
    return NULL;
  }
  return L;
}

static void budget_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (!js_budget(L)) return;
  /* Out of budget: checked again at every line and backward jump from now on, as Redis's hook
   * does once a script is killed, so that a pcall around the loop cannot keep it running. */
  lua_sethook(L, budget_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
  lua_error(L);
}

/* Calls js_budget every `every` VM instructions (0: never). */
EXPORT(fl_budget) void fl_budget(lua_State *L, int every) {
  lua_sethook(L, every > 0 ? budget_hook : NULL, LUA_MASKCOUNT, every);
}

EXPORT(fl_malloc) void *fl_malloc(size_t n) { return malloc(n); }
EXPORT(fl_free) void fl_free(void *p) { free(p); }
EXPORT(fl_pushnumber) void fl_pushnumber(lua_State *L, double n) { lua_pushnumber(L, n); }
EXPORT(fl_tonumber) double fl_tonumber(lua_State *L, int i) { return lua_tonumber(L, i); }
EXPORT(fl_ref) int fl_ref(lua_State *L) { return luaL_ref(L, LUA_REGISTRYINDEX); }
EXPORT(fl_getref) void fl_getref(lua_State *L, int ref) { lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }
EXPORT(fl_memory) size_t fl_memory(void) { return heap_used; }
