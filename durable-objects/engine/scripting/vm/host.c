/*
 * What vm.ts needs of Lua beyond its exported C API: a fresh state with the libraries Redis gives
 * scripts, host functions (redis.call and its kin) as C closures that call back into JS, numbers
 * as doubles across the boundary, and an instruction budget (a count hook) so that no script can
 * hold the node past its bound.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "lstate.h" /* L->errfunc: a stopped script's error skips the script's own xpcall handlers */

#define EXPORT(name) __attribute__((export_name(#name)))
#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

/* A host function: reads its arguments (1..nargs) from L, pushes its results and answers their
 * count, or -1 after pushing an error value (then raised here as a Lua error). */
extern int js_host_call(lua_State *L, int nargs, int which) IMPORT(js_host_call);
/* Called every `every` instructions (`instructions` 1) or units of C work (0) (fl_budget):
 * nonzero when the script is out of budget, after pushing the error value to raise. */
extern int js_budget(lua_State *L, int instructions) IMPORT(js_budget);

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

/* Redis's libraries for scripts (deps/lua in Redis's source: build.sh). */
int luaopen_cjson(lua_State *L);
int luaopen_struct(lua_State *L);
int luaopen_cmsgpack(lua_State *L);
int luaopen_bit(lua_State *L);

static void open_lib(lua_State *L, const char *name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

/* math.random and math.randomseed as Redis has them: a 48-bit linear congruential generator
 * (rand48's constants) whose state is the VM's, not libc's, so that the sequence is the same on
 * every platform; it starts where rand48 starts and goes on across scripts. */
static unsigned long long rand48_state = 0x1234ABCD330EULL;

static int rand48_next(void) {
  rand48_state = (rand48_state * 0x5DEECE66DULL + 0xB) & 0xFFFFFFFFFFFFULL;
  return (int)(rand48_state >> 17); /* the 31 high bits */
}

static int math_random(lua_State *L) {
  lua_Number r = (lua_Number)(rand48_next() % 0x7FFFFFFF) / (lua_Number)0x7FFFFFFF;
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      break;
    case 1: {
      int u = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= u, 1, "interval is empty");
      lua_pushnumber(L, floor(r * u) + 1);
      break;
    }
    case 2: {
      int l = luaL_checkint(L, 1);
      int u = luaL_checkint(L, 2);
      luaL_argcheck(L, l <= u, 2, "interval is empty");
      lua_pushnumber(L, floor(r * (u - l + 1)) + l);
      break;
    }
    default:
      return luaL_error(L, "wrong number of arguments");
  }
  return 1;
}

static int math_randomseed(lua_State *L) {
  unsigned int seed = (unsigned int)luaL_checkint(L, 1);
  rand48_state = ((unsigned long long)seed << 16) | 0x330E;
  return 0;
}

/* Redis's pcall: a caught error that is a table with an `err` string (redis.call's errors) is
 * given to the script as that string, as older Redis gave it. */
static int redis_pcall(lua_State *L) {
  int argc = lua_gettop(L);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0) != 0) {
    lua_remove(L, 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) lua_replace(L, -2);
      else lua_pop(L, 1);
    }
    lua_pushboolean(L, 0);
    lua_insert(L, 1);
  }
  return lua_gettop(L);
}

/* Globals a script sees, as Redis has them since its security releases of 2025 (CVE-2025-46818):
 * what its libraries define, Redis's API and these builtins. Not print, dofile, loadfile, nor
 * getfenv, setfenv and newproxy (removed then: lua-enable-deprecated-api, off by default). */
static const char *const allowed[] = {
  "string", "cjson", "bit", "cmsgpack", "math", "table", "struct", "redis", "__redis__err__handler",
  "xpcall", "tostring", "setmetatable", "next", "assert", "tonumber", "rawequal", "collectgarbage",
  "getmetatable", "rawset", "pcall", "coroutine", "type", "_G", "select", "unpack", "gcinfo", "pairs",
  "rawget", "loadstring", "ipairs", "_VERSION", "load", "error", NULL,
};

static int is_allowed(const char *name) {
  for (const char *const *a = allowed; *a; a++)
    if (strcmp(*a, name) == 0) return 1;
  return 0;
}

/* Redis's error handler for a script's protected call: the error as a table with an `err` text
 * (an error that is not one gets the ERR prefix), and where it was raised: the script's line,
 * or its caller's when a C function (redis.call) raised it. */
static const char err_handler[] =
  "local getinfo = debug.getinfo\n"
  "debug = nil\n"
  "function __redis__err__handler(e)\n"
  "  local at = getinfo(2, 'nSl')\n"
  "  if at and at.what == 'C' then at = getinfo(3, 'nSl') end\n"
  "  if type(e) ~= 'table' then e = {err = 'ERR ' .. tostring(e)} end\n"
  "  if at then e.source = at.source; e.line = at.currentline end\n"
  "  return e\n"
  "end\n";

/* Redis's set: base, table, string, math and debug (no io, os or package), cjson, struct, cmsgpack
 * and bit; Redis's pcall and
 * math.random; the globals it does not give scripts removed; its error handler (which takes
 * debug away). */
static int open_libs(lua_State *L) {
  open_lib(L, "", luaopen_base);
  open_lib(L, LUA_TABLIBNAME, luaopen_table);
  open_lib(L, LUA_STRLIBNAME, luaopen_string);
  open_lib(L, LUA_MATHLIBNAME, luaopen_math);
  open_lib(L, LUA_DBLIBNAME, luaopen_debug);
  open_lib(L, "cjson", luaopen_cjson);
  open_lib(L, "struct", luaopen_struct);
  open_lib(L, "cmsgpack", luaopen_cmsgpack);
  open_lib(L, "bit", luaopen_bit);
  lua_pushcfunction(L, redis_pcall);
  lua_setfield(L, LUA_GLOBALSINDEX, "pcall");
  lua_getfield(L, LUA_GLOBALSINDEX, "math");
  lua_pushcfunction(L, math_random);
  lua_setfield(L, -2, "random");
  lua_pushcfunction(L, math_randomseed);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);
  /* Removing while traversing is allowed for existing fields (lua_next's contract). */
  lua_pushnil(L);
  while (lua_next(L, LUA_GLOBALSINDEX)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING && !is_allowed(lua_tostring(L, -1)) && strcmp(lua_tostring(L, -1), "debug") != 0) {
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, LUA_GLOBALSINDEX);
    }
  }
  if (luaL_loadbuffer(L, err_handler, sizeof err_handler - 1, "@err_handler_def") != 0) return lua_error(L);
  lua_call(L, 0, 0);
  /* Kept in the registry too: fl_pcall finds it there whatever the globals are (functions' load). */
  lua_getfield(L, LUA_GLOBALSINDEX, "__redis__err__handler");
  lua_setfield(L, LUA_REGISTRYINDEX, "__redis__err__handler");
  return 0;
}

static int nonexistent_global(lua_State *L) {
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", lua_tostring(L, 2));
}

/* Makes the table at the top and every table reachable from it (metatables included) read-only. */
static void protect(lua_State *L) {
  if (lua_isreadonlytable(L, -1)) return;
  lua_enablereadonlytable(L, -1, 1);
  lua_checkstack(L, 3);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_istable(L, -1)) protect(L);
    lua_pop(L, 1);
  }
  if (lua_getmetatable(L, -1)) {
    protect(L);
    lua_pop(L, 1);
  }
}

/* Gives the table at the top Redis's error metatable: reading a field it lacks is an error. */
static void error_metatable(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, nonexistent_global);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
}

static int lock_globals(lua_State *L) {
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  error_metatable(L);
  protect(L);
  lua_pop(L, 1);
  /* The metatables of the basic types (the string library's, for s:upper()) too (CVE-2025-46818). */
  lua_pushstring(L, "");
  lua_pushnumber(L, 0);
  lua_pushboolean(L, 0);
  lua_pushnil(L);
  for (int i = -4; i <= -1; i++) {
    if (lua_getmetatable(L, i)) {
      protect(L);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 4);
  return 0;
}

/* After the host functions are registered: reading a global that does not exist is an error,
 * and the globals and every table reachable from them are read-only, as in Redis 7. */
EXPORT(fl_lock) int fl_lock(lua_State *L) { return lua_cpcall(L, lock_globals, NULL); }

/* Pops the value at the top into the global `name`, past the globals' protection (KEYS, ARGV). */
EXPORT(fl_setglobal) void fl_setglobal(lua_State *L, const char *name) {
  lua_enablereadonlytable(L, LUA_GLOBALSINDEX, 0);
  lua_setfield(L, LUA_GLOBALSINDEX, name);
  lua_enablereadonlytable(L, LUA_GLOBALSINDEX, 1);
}

/* Redis's functions (function_lua.c): the globals a function sees are an empty read-only table
 * whose metatable's __index is the real globals (locked as lock_globals does) or, while a library's
 * code runs at FUNCTION LOAD, the library API: a `redis` table with only what `lib` holds (the
 * global table the host functions for loading were registered in, then removed) and redis.log and
 * the version and log-level constants. Both tables raise Redis's error for a field they lack. */
static const char *const library_api[] = {"log", "REDIS_VERSION", "REDIS_VERSION_NUM", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", NULL};

static int functions_globals(lua_State *L) {
  const char *lib = lua_touserdata(L, 1);
  lua_getfield(L, LUA_GLOBALSINDEX, lib);
  lua_getfield(L, LUA_GLOBALSINDEX, "redis");
  for (const char *const *f = library_api; *f; f++) {
    lua_getfield(L, -1, *f);
    lua_setfield(L, -3, *f);
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_setfield(L, LUA_GLOBALSINDEX, lib);
  error_metatable(L);
  lua_newtable(L);
  lua_insert(L, -2);
  lua_setfield(L, -2, "redis");
  error_metatable(L);
  protect(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "fl_library_api");
  /* A function's error handler is the registry's only, as in Redis's function state. */
  lua_pushnil(L);
  lua_setfield(L, LUA_GLOBALSINDEX, "__redis__err__handler");
  lock_globals(L);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_setfield(L, LUA_REGISTRYINDEX, "fl_globals_api");
  lua_newtable(L);
  lua_newtable(L);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_setfield(L, -2, "__index");
  lua_enablereadonlytable(L, -1, 1);
  lua_setmetatable(L, -2);
  lua_enablereadonlytable(L, -1, 1);
  lua_replace(L, LUA_GLOBALSINDEX);
  return 0;
}

/* Makes the state one for Redis's functions (instead of fl_lock), with the host functions for
 * loading registered in the global table `lib`. */
EXPORT(fl_functions) int fl_functions(lua_State *L, const char *lib) { return lua_cpcall(L, functions_globals, (void *)lib); }

/* Switches a functions state's globals to the library API (`loading` 1: a library's code runs) or
 * back to the real globals (0). */
EXPORT(fl_loading) void fl_loading(lua_State *L, int loading) {
  lua_getmetatable(L, LUA_GLOBALSINDEX);
  lua_enablereadonlytable(L, -1, 0);
  lua_getfield(L, LUA_REGISTRYINDEX, loading ? "fl_library_api" : "fl_globals_api");
  lua_setfield(L, -2, "__index");
  lua_enablereadonlytable(L, -1, 1);
  lua_pop(L, 1);
}

/* Calls the function `ref` with the `nargs` values at the top as its arguments, in Redis's error
 * handler (`handled` 1; a library's code at FUNCTION LOAD runs without one, 0): leaves its first
 * result, or the error value, at the top. @returns lua_pcall's status */
EXPORT(fl_pcall) int fl_pcall(lua_State *L, int ref, int nargs, int handled) {
  int base = lua_gettop(L) - nargs;
  if (handled) lua_getfield(L, LUA_REGISTRYINDEX, "__redis__err__handler");
  else lua_pushnil(L);
  lua_insert(L, base + 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_insert(L, base + 2);
  int status = lua_pcall(L, nargs, 1, handled ? base + 1 : 0);
  lua_remove(L, base + 1);
  return status;
}

/* Lua's heap in use, and the most a script may use (0: no bound). The bound holds only while a
 * script runs (fl_limit around the call), well under the wasm memory's own cap, so that the API
 * calls made outside a protected call (pushing arguments, reading results, the collector's work
 * then) still find memory after a script ran out: they would otherwise end the process. */
static size_t heap_used = 0;
static size_t heap_limit = 0;
/* The work of C code the instruction hook does not see (luaconf.h's luai_work: strings built and
 * concatenated, patterns matched, searches, sorts), and every byte asked of the allocator. */
double flaredis_work = 0;

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
  flaredis_work += (double)nsize;
  return p;
}

EXPORT(fl_limit) void fl_limit(size_t bytes) { heap_limit = bytes; }
EXPORT(fl_work) double fl_work(void) { return flaredis_work; }

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

/* Raises the budget's error past the message handler of the protected call it is in: an xpcall's
 * handler runs with hooks off, so one that loops would never be stopped. (The handler of each
 * enclosing call is restored as the error leaves it, and the check raises again there.) */
static void stop(lua_State *L) {
  L->errfunc = 0;
  lua_error(L);
}

static void budget_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (!js_budget(L, 1)) return;
  /* Out of budget: checked again at every line and backward jump from now on, as Redis's hook
   * does once a script is killed, so that a pcall around the loop cannot keep it running. */
  lua_sethook(L, budget_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
  stop(L);
}

/* The next value of flaredis_work at which C code checks the budget (luaconf.h's luai_work), and
 * the work between two checks; none while no budget is set. */
double flaredis_work_check = 1e300;
static double work_every = 0;

void flaredis_work_over(lua_State *L) {
  flaredis_work_check = flaredis_work + work_every;
  if (!js_budget(L, 0)) return;
  lua_sethook(L, budget_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
  stop(L);
}

/* Calls js_budget every `every` VM instructions and every `every` units of C work (0: never). */
EXPORT(fl_budget) void fl_budget(lua_State *L, int every) {
  lua_sethook(L, every > 0 ? budget_hook : NULL, LUA_MASKCOUNT, every);
  work_every = every;
  flaredis_work_check = every > 0 ? flaredis_work + every : 1e300;
}

EXPORT(fl_malloc) void *fl_malloc(size_t n) { return malloc(n); }
EXPORT(fl_free) void fl_free(void *p) { free(p); }
EXPORT(fl_pushnumber) void fl_pushnumber(lua_State *L, double n) { lua_pushnumber(L, n); }
EXPORT(fl_tonumber) double fl_tonumber(lua_State *L, int i) { return lua_tonumber(L, i); }
EXPORT(fl_ref) int fl_ref(lua_State *L) { return luaL_ref(L, LUA_REGISTRYINDEX); }
/* A reference to the value at stack index `i` (a host function's argument), kept until luaL_unref. */
EXPORT(fl_refvalue) int fl_refvalue(lua_State *L, int i) {
  lua_pushvalue(L, i);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}
EXPORT(fl_getref) void fl_getref(lua_State *L, int ref) { lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }
EXPORT(fl_memory) size_t fl_memory(void) { return heap_used; }

/* `n` as C's "%.17g" writes it, Redis's text for a number passed to a command or replied as a
 * double; written to `out` (at least 32 bytes). @returns its length */
EXPORT(fl_g17) int fl_g17(double n, char *out) { return snprintf(out, 32, "%.17g", n); }

/* Restarts the collector after a script with its default pace (collectgarbage("stop") or a huge
 * "setpause" does not outlive the script that said it), and every 50th time takes a step of it, as
 * Redis does between scripts. */
EXPORT(fl_gc_restart) void fl_gc_restart(lua_State *L) {
  static int calls = 0;
  lua_gc(L, LUA_GCRESTART, 0);
  lua_gc(L, LUA_GCSETPAUSE, LUAI_GCPAUSE);
  lua_gc(L, LUA_GCSETSTEPMUL, LUAI_GCMUL);
  if (++calls == 50) {
    calls = 0;
    lua_gc(L, LUA_GCSTEP, 50);
  }
}

/* Which of the fields that make a table another kind of reply (vm.ts FIELDS, in its order) the
 * table at `idx` has, as a bit mask: read raw, in one call, so converting a table costs little. */
static const char *const reply_fields[] = {"ok", "err", "double", "big_number", "verbatim_string", "format", "string", "source", "line", "map", "set", NULL};

EXPORT(fl_fields) int fl_fields(lua_State *L, int idx) {
  int mask = 0;
  if (idx < 0) idx = lua_gettop(L) + idx + 1;
  for (int i = 0; reply_fields[i]; i++) {
    lua_pushstring(L, reply_fields[i]);
    lua_rawget(L, idx);
    if (!lua_isnil(L, -1)) mask |= 1 << i;
    lua_pop(L, 1);
  }
  return mask;
}
