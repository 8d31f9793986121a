#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Static analysis of the library and the tools, as CI runs it: clang-tidy
# (.clang-tidy), cppcheck and gcc -fanalyzer. Any finding fails; a finding
# that is wrong is suppressed beside the code with the reason (NOLINT for
# clang-tidy, cppcheck-suppress for cppcheck). Part of scripts/test.sh.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh analyze
jobs=$(nproc 2>/dev/null || echo 2)
dir=build/analyze
cmake -S . -B "$dir" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DTDA_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" -j "$jobs" >/dev/null # makes the generated headers
files=$(git ls-files 'src/*.c' 'tools/*.c')

echo "== clang-tidy"
# Bookworm's run-clang-tidy (LLVM 14) always passes --use-color and has no
# option against it (-use-color came in LLVM 15): the colours are taken out
# of the log afterwards. Its file arguments are regular expressions on the
# paths of compile_commands.json, which the plain paths match.
rc=0
# shellcheck disable=SC2086
run-clang-tidy -quiet -p "$dir" -j "$jobs" $files >"$dir/clang-tidy.raw" 2>&1 || rc=$?
sed 's/\x1b\[[0-9;]*m//g' "$dir/clang-tidy.raw" >"$dir/clang-tidy.log"
if [ "$rc" -ne 0 ]; then
    grep -E 'warning:|error:' -A3 "$dir/clang-tidy.log" | head -n 100
    echo "clang-tidy: findings above (full log: $dir/clang-tidy.log)"
    exit 1
fi
echo "clang-tidy: no findings"

echo "== cppcheck"
# shellcheck disable=SC2086
cppcheck --project="$dir/compile_commands.json" --enable=warning,portability,performance \
    --inline-suppr --quiet -j "$jobs" --error-exitcode=1 --suppress=missingIncludeSystem \
    --library=posix --library=gnu --library=libcurl --library=scripts/cppcheck/jansson.cfg -i"$dir" -ibench -ifuzz -iexamples -itests \
    --template='{file}:{line}: {severity}: {message} [{id}]' 2>&1
echo "cppcheck: no findings"

echo "== gcc -fanalyzer"
cmake -S . -B "$dir-gcc" -DCMAKE_C_COMPILER=gcc -DCMAKE_C_FLAGS="-fanalyzer -Werror" \
    -DTDA_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir-gcc" -j "$jobs" --clean-first >/dev/null
echo "gcc -fanalyzer: no findings"
