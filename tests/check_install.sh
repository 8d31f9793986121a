#!/bin/sh
# Installs the build into a scratch prefix, then builds an example the two
# ways a user would: with pkg-config, and with find_package() in CMake.
# Usage: check_install.sh BUILD_DIR SOURCE_DIR
# In a cross build CC names the cross compiler, TDA_RUN the emulator that runs
# its programs (qemu-aarch64-static) and TDA_TOOLCHAIN the CMake toolchain file.
set -eu
build=$1 src=$(cd "$2" && pwd)
[ -n "${PKG_CONFIG_LIBDIR:-}" ] || unset PKG_CONFIG_LIBDIR # empty: the build is not a cross one
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/traktdeviceauth.h"
test -f "$prefix/include/traktdeviceauth_version.h"
# The version is written once, in project(): the man pages carry it when installed.
version=$(sed -n 's/^project(traktdeviceauth VERSION \([0-9.]*\) .*/\1/p' "$src/CMakeLists.txt")
for page in trakt-device-auth.1 trakt-oauth-emulator.1; do
    grep -q "^\.TH .*\"traktdeviceauth $version\"" "$prefix/share/man/man1/$page"
done
libdir=$(find "$prefix" -name 'libtraktdeviceauth.so.0' -printf '%h\n' | head -n 1)
test -n "$libdir"
test -f "$libdir/libtraktdeviceauth.a"

PKG_CONFIG_LIBDIR="$libdir/pkgconfig:${PKG_CONFIG_LIBDIR:-$(pkg-config --variable pc_path pkg-config)}" pkg-config --exists traktdeviceauth
# shellcheck disable=SC2046
${CC:-cc} "$src/examples/login.c" -o "$prefix/consumer_pc" \
    $(PKG_CONFIG_LIBDIR="$libdir/pkgconfig:${PKG_CONFIG_LIBDIR:-$(pkg-config --variable pc_path pkg-config)}" pkg-config --define-prefix --cflags --libs traktdeviceauth)
# Without credentials the example must stop with its usage status, 2.
rc=0
env -u TRAKT_CLIENT_ID LD_LIBRARY_PATH="$libdir" ${TDA_RUN:-} "$prefix/consumer_pc" 2>/dev/null || rc=$?
test "$rc" -eq 2
echo "man pages: installed with version $version"
echo "pkg-config: built and ran a program against the installed library"

cmake -S "$src/tests/install_consumer" -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
    ${TDA_TOOLCHAIN:+-DCMAKE_TOOLCHAIN_FILE="$TDA_TOOLCHAIN"} \
    -DEXAMPLE_SOURCE="$src/examples/login.c" >/dev/null
cmake --build "$prefix/consumer" >/dev/null
echo "cmake: find_package(traktdeviceauth) built a program"
echo "3 passed, 0 failed"
