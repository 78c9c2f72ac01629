#!/bin/sh
# Builds lua51.wasm: the Lua 5.1.5 that Redis runs scripts in, with the libraries it gives them
# (cjson, cmsgpack, bit, struct), compiled to a wasm32 reactor that a Worker imports as a module.
# Needs Debian's clang-16, lld-16, wasi-libc and libclang-rt-16-dev-wasm32 (apt install them).
#
# The source is Redis's own copy of Lua (deps/lua: Lua 5.1.5 with Redis's changes, read-only
# tables for the globals' protection, precompiled chunks refused, its security fixes) from
# Debian's redis source package: Redis 7.0.15's tarball (checked by SHA-256) with Debian's patches
# applied in their order (checked by SHA-256 too), which carry the Lua fixes of Redis's later
# security releases (CVE-2024-31449, CVE-2025-46817, -46819, -49844). Two patches of ours change
# it: luaconf.patch (errors are JS exceptions, js_throw/js_try in vm.ts, instead of
# setjmp/longjmp, which wasm32 lacks; lua_Integer is 64 bits) and work.patch (counts the work of
# the C library functions that a script's instruction budget does not see). The built module is
# committed: run this after changing host.c or a patch, and commit lua51.wasm with it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
VERSION=5:7.0.15-1~deb12u7
ORIG_SHA=4b1dc4ee6d622a09fff9c6777191209750fb5e5a725ef78ea012d6eef4c22982
DEBIAN_SHA=1414177085364a374a89de565845dbb9798ef46c8a91a2726e4485a376b6b9ec

# Debian's source package, fetched with an apt configuration of our own (the system's is left alone).
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" > "$work/apt/sources.list"
APT="-o Dir::Etc::SourceList=$work/apt/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$work/apt/lists -o Dir::Cache=$work/apt/cache"
apt-get $APT -qq update
(cd "$work" && apt-get $APT -qq source --download-only "redis=$VERSION" 2>/dev/null)
echo "$ORIG_SHA  $work/redis_7.0.15.orig.tar.gz" | sha256sum -c -
echo "$DEBIAN_SHA  $work/redis_${VERSION#5:}.debian.tar.xz" | sha256sum -c -
tar xzf "$work/redis_7.0.15.orig.tar.gz" -C "$work"
tar xJf "$work/redis_${VERSION#5:}.debian.tar.xz" -C "$work"
while read -r p; do patch -s -d "$work/redis-7.0.15" -p1 < "$work/debian/patches/$p"; done < "$work/debian/patches/series"
src="$work/redis-7.0.15/deps/lua/src"
patch -s -d "$src" -p0 < "$here/luaconf.patch"
patch -s -d "$src" -p0 < "$here/work.patch"

mkdir -p "$work/include"
# wasi-libc has no setjmp.h; the patched luaconf.h needs none.
echo '/* Lua errors are JS exceptions here (luaconf.patch) */' > "$work/include/setjmp.h"
CC="clang-16 --target=wasm32-wasi -Oz -DLUA_WASM_JSEH -DLUA_USELONGLONG -I$work/include -I$src -Wno-everything"
CORE="lapi lcode ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes lparser lstate lstring ltable ltm lundump lvm lzio lauxlib lbaselib ldblib lmathlib lstrlib ltablib"
# Redis compiles its libraries with ENABLE_CJSON_GLOBAL (cjson sets its global) and REDIS_STATIC empty.
LIBS="lua_cjson lua_cmsgpack lua_bit lua_struct strbuf fpconv"
for f in $CORE; do $CC -c "$src/$f.c" -o "$work/$f.o"; done
for f in $LIBS; do $CC -DENABLE_CJSON_GLOBAL -DREDIS_STATIC= -c "$src/$f.c" -o "$work/$f.o"; done
$CC -c "$here/host.c" -o "$work/host.o"
EXPORTS=""
for s in lua_gettop lua_settop lua_type lua_toboolean lua_tolstring lua_objlen lua_pushnil lua_pushlstring lua_pushboolean \
  lua_createtable lua_rawseti lua_rawgeti lua_rawget lua_setfield lua_close lua_checkstack lua_next luaL_loadbuffer luaL_unref; do
  EXPORTS="$EXPORTS -Wl,--export=$s"
done
# 1 MiB of C stack (Lua's parser and pattern matching recurse in C); memory capped at 64 MiB, so
# that a script that allocates without end fails as a Lua error ("not enough memory").
(cd "$work" && $CC -mexec-model=reactor $(for f in $CORE $LIBS host; do echo "$f.o"; done) -o "$here/lua51.wasm" $EXPORTS \
  -Wl,--export-table -Wl,--export=__stack_pointer -Wl,--strip-all -Wl,--gc-sections -Wl,-z,stack-size=1048576 \
  -Wl,--stack-first -Wl,--max-memory=67108864)
ls -l "$here/lua51.wasm"
