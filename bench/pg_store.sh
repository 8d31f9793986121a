#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/pg_store.sh: the PostgreSQL store (bench_pg_store) on one machine,
# against a server of its own (tests/pg/pg_server.sh, fsync on) and a fresh
# emulator per run. See bench/README.md, "The PostgreSQL store".
#  1. refreshes/s: 32 workers over 1,000 due keys, PostgreSQL store against the
#     directory file store in the same script, both against the emulator;
#     every key must be refreshed exactly once (the emulator's log says).
#  2. get on a valid token: CPU per call against a bare libpq SELECT of the
#     same row, interleaved in one process. Target: at most 2x.
#
#   bench/pg_store.sh                 1,000 keys, 32 workers; get: 15 rounds of 5,000
#   BENCH_QUICK=1 bench/pg_store.sh   200 keys, 32 workers; get: 5 rounds of 1,000
#
# BENCH_BUILD (build dir, build/bench), BENCH_OUT (the Markdown tables,
# BENCH_BUILD/pg_store.md), BENCH_KEYS, BENCH_WORKERS.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD:-$ROOT/build/bench}
OUT=${BENCH_OUT:-$BUILD/pg_store.md}
if [ "${BENCH_QUICK:-0}" = 1 ]; then keys=200 calls=1000 rounds=5; else keys=1000 calls=5000 rounds=15; fi
keys=${BENCH_KEYS:-$keys}
workers=${BENCH_WORKERS:-32}
echo "bench: building (Release) in $BUILD" >&2
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTDA_BENCH=ON -DTDA_WERROR=OFF \
    -DTDA_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j2 --target bench_pg_store trakt-oauth-emulator >/dev/null
EMU="$BUILD/trakt-oauth-emulator"
[ -x "$BUILD/bench/bench_pg_store" ] || {
    echo "bench_pg_store was not built: libpq is missing (apt-get install libpq-dev)" >&2
    exit 1
}

TMP=$(mktemp -d /tmp/tda-bench-pg.XXXXXX)
chmod 711 "$TMP" # the server runs as nobody when we are root
EMU_PID=
cleanup() {
    [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null
    sh "$ROOT/tests/pg/pg_server.sh" stop "$TMP/pg" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
echo "bench: starting PostgreSQL (fsync on) in $TMP/pg" >&2
TDA_PG_FSYNC=1 sh "$ROOT/tests/pg/pg_server.sh" start "$TMP/pg" $$
CONNINFO="host=$TMP/pg port=5432 dbname=tda user=tda"

# start_emulator LOG: a fresh one, its URL in EMU_URL.
start_emulator() {
    fifo="$TMP/emu.fifo"
    rm -f "$fifo"
    mkfifo "$fifo"
    "$EMU" --port 0 --interval 0.001 --approve-after-polls 0 --quiet --log "$1" >"$fifo" &
    EMU_PID=$!
    read -r line <"$fifo"
    EMU_URL=${line#listening on }
}

# refresh_run pg|dir WHERE: prints the key=value line, checks the emulator's count.
refresh_run() {
    log="$TMP/emu.$1.log"
    start_emulator "$log"
    echo "bench: $1 store, $keys due keys, $workers workers" >&2
    line=$("$BUILD/bench/bench_pg_store" refresh --base-url "$EMU_URL" --store "$1" --where "$2" \
        --keys "$keys" --workers "$workers")
    echo "$line" >&2
    n=$(grep -c ' POST /oauth/token 200' "$log" || true)
    refused=$(grep ' POST /oauth/token ' "$log" | grep -vc ' POST /oauth/token 200' || true)
    kill "$EMU_PID"
    wait "$EMU_PID" 2>/dev/null || true
    EMU_PID=
    if [ "$n" != "$keys" ] || [ "$refused" != 0 ]; then
        echo "bench: $1 store made $n refreshes (want $keys), $refused refused" >&2
        exit 1
    fi
    echo "$line refreshes=$n"
}

pg_line=$(refresh_run pg "$CONNINFO")
dir_line=$(refresh_run dir "$TMP/tokens")
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
pg_rate=$(field "$pg_line" refreshes_per_s)
dir_rate=$(field "$dir_line" refreshes_per_s)

echo "bench: get on a valid token, $rounds rounds of $calls calls of each, interleaved" >&2
set +e
"$BUILD/bench/bench_pg_store" get --conninfo "$CONNINFO" --calls "$calls" --rounds "$rounds" \
    >"$TMP/get.md"
rc=$?
set -e
mkdir -p "$(dirname "$OUT")"
{
    echo "| store | due keys | workers | seconds | refreshes/s | × directory store |"
    echo "|---|---|---|---|---|---|"
    awk -v p="$pg_rate" -v d="$dir_rate" -v k="$keys" -v w="$workers" \
        -v ps="$(field "$pg_line" seconds)" -v ds="$(field "$dir_line" seconds)" 'BEGIN {
        printf "| PostgreSQL | %d | %d | %.2f | %.0f | %.2f× |\n", k, w, ps, p, p / d
        printf "| directory (files) | %d | %d | %.2f | %.0f | 1.00× |\n", k, w, ds, d
    }'
    echo
    cat "$TMP/get.md"
} >"$OUT"
cat "$OUT"
[ $rc = 0 ] && echo "target met: get at most 2x a bare SELECT" || echo "TARGET MISSED: get over 2x"
exit $rc
