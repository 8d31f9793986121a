#!/bin/sh
# Other architectures, where 32-bit long and time_t mistakes and ARM-only
# behaviour show up:
#  - i386 (Debian multiarch, runs natively): the library, tools and every unit
#    and integration test, -Werror;
#  - arm64 (set-top boxes): a cross build, -Werror, and the unit tests under
#    qemu-user-static.
# Installs what it needs first (scripts/deps.sh cross). Part of scripts/test.sh.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh cross
jobs=$(nproc 2>/dev/null || echo 2)

cross_build() { # build-dir, toolchain
    cmake -S . -B "$1" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/$2.cmake" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTDA_WERROR=ON >/dev/null
    cmake --build "$1" -j "$jobs"
}

echo "== i386: build, unit and integration tests"
cross_build build/i386 i386
file -L build/i386/libtraktdeviceauth.so.1 | grep -q 'ELF 32-bit.*80386'
(cd build/i386 && ctest --output-on-failure -j "$jobs")

echo "== arm64: cross build, unit tests under qemu-user-static"
cross_build build/arm64 arm64
file -L build/arm64/libtraktdeviceauth.so.1 | grep -q 'ELF 64-bit.*aarch64'
(cd build/arm64 && ctest --output-on-failure -j "$jobs" -L unit)
