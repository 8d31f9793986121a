#!/bin/sh
# Every test, as CI runs it: the code style (scripts/format.sh --check), a
# -Werror build and the whole suite, the suite
# again under AddressSanitizer + UBSan, once more under valgrind memcheck
# (the emulator too), then each libFuzzer target briefly (scripts/fuzz.sh),
# then the i386 build with every test and the arm64 build with the unit tests
# under qemu (scripts/cross.sh), then the Debian packages: built, lintian,
# installed and used (scripts/deb.sh).
# Installs what it needs first.
#   ./scripts/test.sh            everything
#   TDA_QUICK=1 ./scripts/test.sh  only the style, the plain build and suite
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh test
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() { # build-dir, extra cmake args...
    dir=$1
    shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTDA_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
    (cd "$dir" && ctest --output-on-failure -j "$jobs")
}

echo "== code style (.clang-format)"
./scripts/format.sh --check
echo "== build and test (gcc, -Werror)"
run_suite build/test -DTDA_ABI_CHECK=ON
if [ "${TDA_QUICK:-0}" = 1 ]; then
    exit 0
fi
# TDA_TEST_SLOW multiplies every time bound of the tests (tests/slow.h): the
# instrumented passes run slower, and their tests share the two cores with
# Chromium, the CLI's concurrency and kill tests and each other.
echo "== the same suite under AddressSanitizer and UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 TDA_TEST_SLOW=5 \
    run_suite build/asan -DTDA_SANITIZE=ON
echo "== the same suite under valgrind memcheck"
TDA_TEST_SLOW=20 run_suite build/valgrind -DTDA_VALGRIND=ON
echo "== each libFuzzer target for ${TDA_FUZZ_SECONDS:=10} s on its seed corpus"
TDA_FUZZ_SECONDS=$TDA_FUZZ_SECONDS ./scripts/fuzz.sh
echo "== i386 (whole suite) and arm64 (unit tests under qemu-user-static)"
./scripts/cross.sh
echo "== the Debian packages: build, lintian, install, use"
./scripts/deb.sh
