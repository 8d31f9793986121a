#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the build into a scratch prefix, then builds an example the two
# ways a user would: with pkg-config, and with find_package() in CMake.
# Usage: check_install.sh BUILD_DIR SOURCE_DIR
#        check_install.sh --installed PREFIX SOURCE_DIR   (already installed
#        there, e.g. /usr by the Debian packages: scripts/deb.sh)
# In a cross build CC names the cross compiler, TDA_RUN the emulator that runs
# its programs (qemu-aarch64-static) and TDA_TOOLCHAIN the CMake toolchain file.
set -eu
[ -n "${PKG_CONFIG_LIBDIR:-}" ] || unset PKG_CONFIG_LIBDIR # empty: the build is not a cross one
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ "$1" = --installed ]; then
    prefix=$2 src=$(cd "$3" && pwd)
else
    build=$1 src=$(cd "$2" && pwd) prefix=$scratch
    cmake --install "$build" --prefix "$prefix" >/dev/null
fi
test -f "$prefix/include/traktdeviceauth.h"
test -f "$prefix/include/traktdeviceauth_version.h"
# The version is written once, in project(): the man pages carry it when installed.
version=$(sed -n 's/^project(traktdeviceauth VERSION \([0-9.]*\) .*/\1/p' "$src/CMakeLists.txt")
for page in trakt-device-auth.1 trakt-oauth-emulator.1; do
    file=$(ls "$prefix/share/man/man1/$page" "$prefix/share/man/man1/$page.gz" 2>/dev/null | head -n 1)
    zgrep -q "^\.TH .*\"traktdeviceauth $version\"" "$file" # Debian compresses them
done
# man(3): a page for every public function, its own or a ".so" link to its
# family's page, found and rendered by man(1) as a user's "man NAME" would.
man3="$prefix/share/man/man3"
pages=0
# Only our own pages: under /usr, man3 holds every other package's pages too.
for source in "$src"/doc/man3/*.3; do
    name=$(basename "$source")
    file=$(ls "$man3/$name" "$man3/$name.gz" 2>/dev/null | head -n 1)
    [ -n "$file" ] || { echo "man3: $name is not installed in $man3"; exit 1; }
    # a link page: ".so" here, a symbolic link in a Debian package
    { [ -L "$file" ] || zgrep -q '^\.so ' "$file"; } && continue
    zgrep -q "^\.TH .*\"traktdeviceauth $version\"" "$file" ||
        { echo "man3: $file does not carry version $version"; exit 1; }
    pages=$((pages + 1))
done
[ "$pages" -gt 1 ] || { echo "man3: no man(3) pages in $man3"; exit 1; }
functions=0
for fn in $(sh "$src/tests/api_functions.sh" "$src/include/traktdeviceauth.h"); do
    if ! man -M "$prefix/share/man" -w 3 "$fn" >/dev/null 2>&1; then
        echo "man3: no installed page for $fn (man -M $prefix/share/man -w 3 $fn)"
        exit 1
    fi
    if ! MANWIDTH=80 man -M "$prefix/share/man" -P cat 3 "$fn" 2>/dev/null | grep -q "$fn"; then
        echo "man3: the installed page for $fn does not render or does not mention it"
        exit 1
    fi
    functions=$((functions + 1))
done
libdir=$(find "$prefix/lib" -name 'libtraktdeviceauth.so.[0-9]*' -printf '%h\n' | head -n 1)
test -n "$libdir"
test -f "$libdir/libtraktdeviceauth.a"

PKG_CONFIG_LIBDIR="$libdir/pkgconfig:${PKG_CONFIG_LIBDIR:-$(pkg-config --variable pc_path pkg-config)}" pkg-config --exists traktdeviceauth
# shellcheck disable=SC2046
${CC:-cc} "$src/examples/login.c" -o "$scratch/consumer_pc" \
    $(PKG_CONFIG_LIBDIR="$libdir/pkgconfig:${PKG_CONFIG_LIBDIR:-$(pkg-config --variable pc_path pkg-config)}" pkg-config --define-prefix --cflags --libs traktdeviceauth)
# Without credentials the example must stop with its usage status, 2.
rc=0
env -u TRAKT_CLIENT_ID LD_LIBRARY_PATH="$libdir" ${TDA_RUN:-} "$scratch/consumer_pc" 2>/dev/null || rc=$?
test "$rc" -eq 2
echo "man pages: installed with version $version"
echo "man(3): $pages pages, and man finds and renders one for each of $functions functions"
echo "pkg-config: built and ran a program against the installed library"

cmake -S "$src/tests/install_consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
    ${TDA_TOOLCHAIN:+-DCMAKE_TOOLCHAIN_FILE="$TDA_TOOLCHAIN"} \
    -DEXAMPLE_SOURCE="$src/examples/login.c" >/dev/null
cmake --build "$scratch/consumer" >/dev/null
echo "cmake: find_package(traktdeviceauth) built a program"
echo "4 passed, 0 failed"
