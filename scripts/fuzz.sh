#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets (fuzz/) with clang and runs each on its seed
# corpus for TDA_FUZZ_SECONDS (default 10) seconds. Any crash, leak, sanitizer
# report or broken invariant fails the run; libFuzzer then saves the input as
# crash-* in build/fuzz/findings. New corpus entries stay in build/fuzz, not
# in the repository. Longer run: TDA_FUZZ_SECONDS=600 ./scripts/fuzz.sh
set -eu
cd "$(dirname "$0")/.."
seconds=${TDA_FUZZ_SECONDS:-10}
command -v clang >/dev/null || { echo "fuzz: clang is needed (apt-get install clang)" >&2; exit 1; }
CC=clang cmake -S . -B build/fuzz -DTDA_FUZZ=ON -DTDA_BUILD_TESTS=OFF -DTDA_WERROR=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
mkdir -p build/fuzz/findings
for target in code_answer token_answer retry_after token_file code_file cli_args store_key; do
    corpus=build/fuzz/corpus/$target
    mkdir -p "$corpus"
    log=build/fuzz/findings/$target.log
    quiet=0
    [ $target = cli_args ] && quiet=3 # the CLI's own messages, not libFuzzer's
    if ! build/fuzz/fuzz/fuzz_$target -max_total_time="$seconds" -max_len=65536 -close_fd_mask=$quiet \
        -artifact_prefix=build/fuzz/findings/ "$corpus" "fuzz/corpus/$target" >"$log" 2>&1; then
        echo "fuzz_$target: FAILED"
        tail -n 40 "$log"
        exit 1
    fi
    echo "fuzz_$target: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)," \
        "$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1)"
done
