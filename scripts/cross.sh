#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Other architectures, where 32-bit long and time_t mistakes and ARM-only
# behaviour show up:
#  - i386 (Debian multiarch, runs natively): the library, tools and every unit
#    and integration test, -Werror;
#  - arm64 (set-top boxes): a cross build, -Werror, and the unit tests under
#    qemu-user-static.
# Installs what it needs first (scripts/deps.sh cross, and for the i386 suite
# the native tools its tests run, scripts/deps.sh test). Part of scripts/test.sh.
#   ./scripts/cross.sh                  both
#   ./scripts/cross.sh i386 [ctest args]  one (scripts/test.sh times them apart);
#   ./scripts/cross.sh i386 -R cli_clock  e.g. one test as i386
set -eu
cd "$(dirname "$0")/.."
arch=${1:-all}
[ $# -gt 0 ] && shift
case $arch in
all | i386 | arm64) ;;
*)
    echo "usage: $0 [i386|arm64 [ctest arguments...]]" >&2
    exit 2
    ;;
esac
./scripts/deps.sh cross
[ "$arch" = arm64 ] || ./scripts/deps.sh test
jobs=$(nproc 2>/dev/null || echo 2)

cross_build() { # build-dir, toolchain
    cmake -S . -B "$1" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/$2.cmake" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTDA_WERROR=ON >/dev/null
    cmake --build "$1" -j "$jobs"
}

if [ "$arch" != arm64 ]; then
    echo "== i386: build, unit and integration tests"
    cross_build build/i386 i386
    file -L build/i386/libtraktdeviceauth.so.1 | grep -q 'ELF 32-bit.*80386'
    (cd build/i386 && ctest --output-on-failure -j "$jobs" "$@")
fi

if [ "$arch" != i386 ]; then
    echo "== arm64: cross build, unit tests under qemu-user-static"
    cross_build build/arm64 arm64
    file -L build/arm64/libtraktdeviceauth.so.1 | grep -q 'ELF 64-bit.*aarch64'
    (cd build/arm64 && ctest --output-on-failure -j "$jobs" -L unit "$@")
fi
