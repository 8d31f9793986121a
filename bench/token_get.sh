#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/token_get.sh: tda_token_get on a valid token (no lock, no request)
# against reading and parsing the same file with jansson alone, in one
# process (bench_token_get). Target: at most 2x. See bench/README.md.
#
#   bench/token_get.sh                 20 rounds of 20,000 calls (about 30 s)
#   BENCH_QUICK=1 bench/token_get.sh   5 rounds of 2,000
#
# BENCH_BUILD (build dir, build/bench), BENCH_OUT (the Markdown table,
# BENCH_BUILD/token_get.md). TMPDIR picks the filesystem the token file is on.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD:-$ROOT/build/bench}
OUT=${BENCH_OUT:-$BUILD/token_get.md}
if [ "${BENCH_QUICK:-0}" = 1 ]; then calls=2000 rounds=5; else calls=20000 rounds=20; fi
echo "bench: building (Release) in $BUILD" >&2
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTDA_BENCH=ON -DTDA_WERROR=OFF \
    -DTDA_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j2 --target bench_token_get >/dev/null
echo "bench: $rounds rounds of $calls calls of each variant, interleaved" >&2
mkdir -p "$(dirname "$OUT")"
set +e
"$BUILD/bench/bench_token_get" --calls "$calls" --rounds "$rounds" >"$OUT"
rc=$?
set -e
cat "$OUT"
[ $rc = 0 ] && echo "target met: at most 2x jansson alone" || echo "TARGET MISSED: more than 2x"
exit $rc
