#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every test, as CI runs it: the code style (scripts/format.sh --check), a
# -Werror build and the whole suite, the static analyzers
# (scripts/analyze.sh), the suite again under AddressSanitizer + UBSan, once
# more under valgrind memcheck (the emulator too), then each libFuzzer target
# briefly (scripts/fuzz.sh), then the i386 build with every test and the arm64
# build with the unit tests under qemu (scripts/cross.sh), then the Debian
# packages: built, lintian, installed and used (scripts/deb.sh). Ends with how
# long each part took.
# Installs what it needs first.
#   ./scripts/test.sh            everything
#   TDA_QUICK=1 ./scripts/test.sh  only the style, the plain build and suite
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

# Each part's wall-clock time, for the summary at the end (also after a failure).
timings=""
part_name=""
part_start=0
all_start=$(date +%s)
part() { # name: ends the part before, starts this one ("" ends the last)
    now=$(date +%s)
    if [ -n "$part_name" ]; then
        s=$((now - part_start))
        timings="$timings$(printf '  %-44s %3d:%02d' "$part_name" $((s / 60)) $((s % 60)))
"
    fi
    part_name=$1
    part_start=$now
    if [ -n "$1" ]; then
        echo "== $1"
    fi
}
summary() {
    rc=$?
    [ -n "$part_name" ] && [ "$rc" -ne 0 ] && part_name="$part_name (FAILED)"
    part ""
    s=$(($(date +%s) - all_start))
    printf '== time per part (min:s)\n%s  %-44s %3d:%02d\n' "$timings" "all" $((s / 60)) $((s % 60))
}
trap summary EXIT

run_suite() { # build-dir, extra cmake args...
    dir=$1
    shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTDA_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
    (cd "$dir" && ctest --output-on-failure -j "$jobs")
}

part "packages (scripts/deps.sh test)"
./scripts/deps.sh test
part "code style (scripts/format.sh --check)"
./scripts/format.sh --check
part "build and test (gcc, -Werror)"
run_suite build/test -DTDA_ABI_CHECK=ON
if [ "${TDA_QUICK:-0}" = 1 ]; then
    exit 0
fi
part "static analysis: clang-tidy, cppcheck, gcc -fanalyzer"
./scripts/analyze.sh
# TDA_TEST_SLOW multiplies every time bound of the tests (tests/slow.h): the
# instrumented passes run slower, and their tests share the two cores with
# Chromium, the CLI's concurrency and kill tests and each other.
part "the same suite under AddressSanitizer and UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 TDA_TEST_SLOW=5 \
    run_suite build/asan -DTDA_SANITIZE=ON
part "the same suite under valgrind memcheck"
TDA_TEST_SLOW=20 run_suite build/valgrind -DTDA_VALGRIND=ON
part "each libFuzzer target for ${TDA_FUZZ_SECONDS:=10} s on its seed corpus"
TDA_FUZZ_SECONDS=$TDA_FUZZ_SECONDS ./scripts/fuzz.sh
part "i386: build, whole suite"
./scripts/cross.sh i386
part "arm64: cross build, unit tests under qemu-user-static"
./scripts/cross.sh arm64
part "the Debian packages: build, lintian, install, use"
./scripts/deb.sh
