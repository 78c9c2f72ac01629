#!/bin/sh
# Builds lua51.wasm: Lua 5.1.5 (the language Redis's EVAL runs), compiled to a wasm32 reactor that
# a Worker imports as a module. Needs Debian's clang-16, lld-16, wasi-libc and
# libclang-rt-16-dev-wasm32 (apt install them); the Lua source comes from Debian's lua5.1 source
# package (its orig tarball, checked by SHA-256). Three patches change Lua: luaconf.patch (errors are
# JS exceptions, js_throw/js_try in vm.ts, instead of setjmp/longjmp, which wasm32 lacks, and
# lua_Integer is 64 bits) and redis.patch (what Redis changed in its Lua: read-only tables for the
# globals' protection, precompiled chunks refused, CVE-2014-5461's stack check); work.patch counts
# the work of the C library functions that a script's instruction budget does not see. The built module is committed: run this after changing host.c or the
# patch, and commit lua51.wasm with it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SHA=2640fc56a795f29d28ef15e13c34a47e223960b0240e8cb0a82d9b0738695333

# Debian's source package, fetched with an apt configuration of our own (the system's is left alone).
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" > "$work/apt/sources.list"
APT="-o Dir::Etc::SourceList=$work/apt/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$work/apt/lists -o Dir::Cache=$work/apt/cache"
apt-get $APT -qq update
(cd "$work" && apt-get $APT -qq source --download-only lua5.1=5.1.5-9 2>/dev/null)
echo "$SHA  $work/lua5.1_5.1.5.orig.tar.gz" | sha256sum -c -
tar xzf "$work/lua5.1_5.1.5.orig.tar.gz" -C "$work"
src="$work/lua-5.1.5/src"
patch -s -d "$src" -p0 < "$here/luaconf.patch"
patch -s -d "$src" -p0 < "$here/redis.patch"
patch -s -d "$src" -p0 < "$here/work.patch"

mkdir -p "$work/include"
# wasi-libc has no setjmp.h; the patched luaconf.h needs none.
echo '/* Lua errors are JS exceptions here (luaconf.patch) */' > "$work/include/setjmp.h"
CC="clang-16 --target=wasm32-wasi -Oz -DLUA_WASM_JSEH -DLUA_USELONGLONG -I$work/include -I$src -Wno-everything"
CORE="lapi lcode ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes lparser lstate lstring ltable ltm lundump lvm lzio lauxlib lbaselib ldblib lmathlib lstrlib ltablib"
for f in $CORE; do $CC -c "$src/$f.c" -o "$work/$f.o"; done
$CC -c "$here/host.c" -o "$work/host.o"
EXPORTS=""
for s in lua_gettop lua_settop lua_type lua_toboolean lua_tolstring lua_objlen lua_pushnil lua_pushlstring lua_pushboolean \
  lua_createtable lua_rawseti lua_rawgeti lua_rawget lua_setfield lua_pcall lua_close lua_checkstack lua_next luaL_loadbuffer luaL_unref; do
  EXPORTS="$EXPORTS -Wl,--export=$s"
done
# 1 MiB of C stack (Lua's parser and pattern matching recurse in C); memory capped at 64 MiB, so
# that a script that allocates without end fails as a Lua error ("not enough memory").
$CC -mexec-model=reactor "$work"/*.o -o "$here/lua51.wasm" $EXPORTS -Wl,--export-table -Wl,--export=__stack_pointer \
  -Wl,--strip-all -Wl,--gc-sections -Wl,-z,stack-size=1048576 -Wl,--stack-first -Wl,--max-memory=67108864
ls -l "$here/lua51.wasm"
