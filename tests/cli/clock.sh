#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A wrong clock wastes no refresh token: the CLI and a library program run
# under libfaketime with the wall clock a year ahead, a year behind and in
# 1970. 100 calls make no refresh request while the token is not due by the
# time elapsed since it arrived; once it is, exactly one; a jump of the clock
# in the middle of a run makes at most one.
#
# libfaketime fakes CLOCK_MONOTONIC and CLOCK_BOOTTIME too unless told not to
# (FAKETIME_DONT_FAKE_MONOTONIC=1). A machine whose wall clock is wrong still
# has true kernel clocks, so that is the setting for the wrong-clock runs; one
# jump is run with every clock jumping as well, which no real kernel does, and
# still costs at most one refresh.
set -e
. "$(dirname "$0")/lib.sh"
: "${TDA_CLOCK_GETTER:?set TDA_CLOCK_GETTER to the clock_getter helper}"

# ld.so replaces $LIB with its own library directory (Debian: lib/x86_64-linux-gnu,
# lib/i386-linux-gnu), so each program gets the libfaketime of its architecture: the i386
# CLI of scripts/cross.sh ignores an amd64 one (wrong ELF class) and keeps the true clock.
# shellcheck disable=SC2016 # $LIB is for ld.so, not the shell
LIBFAKETIME='/usr/$LIB/faketime/libfaketime.so.1'
# An ASan build must come first among the libraries; libfaketime is preloaded before it.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
# ld.so says so on stderr when it cannot preload it into the CLI, and goes on without it.
preload_err=$(env LD_PRELOAD="$LIBFAKETIME" "$TDA_CLI" --version 2>&1 >/dev/null || true)
if contains_text "$preload_err" "LD_PRELOAD"; then
    echo "FAILED: libfaketime for the CLI's architecture is missing (scripts/deps.sh test" \
        "installs faketime, scripts/deps.sh cross libfaketime:i386): $preload_err"
    exit 1
fi

FAKE="$SCRATCH/faketime"
# The fake clock is read from $FAKE on every call, so a test can move it mid-run.
# libfaketime is preloaded into the program under test alone, by the env that starts
# it (CLI_PRELOAD, tests/cli/lib.sh), never into an env or shell in between: 0.9.10
# hands the POSIX semaphore of the first preloaded process on to the programs it
# execs, which then never remove it from /dev/shm, and an amd64 process's semaphore
# does not work in an i386 one, which waits on it for ever.
fake_clock() { # [more libfaketime settings]: the following runs on the fake clock
    CLI_AS="env FAKETIME_TIMESTAMP_FILE=$FAKE FAKETIME_NO_CACHE=1 $*"
    CLI_PRELOAD=$LIBFAKETIME
}
true_clock() { CLI_AS='' CLI_PRELOAD=''; }
faked_year() { $CLI_AS env LD_PRELOAD="$CLI_PRELOAD" date -u +%Y; }
KERNEL_CLOCKS_TRUE="FAKETIME_DONT_FAKE_MONOTONIC=1"
LOG="$SCRATCH/emulator.log"
refreshes() { grep -c ' POST /oauth/token ' "$LOG" || true; }

# calls N: N `token` runs under CLI_AS; sets FAILED_CALLS. Under valgrind (TDA_CLI_WRAP)
# only every 25th run is wrapped: the code path is the same each time.
calls() {
    FAILED_CALLS=0
    wrap=${TDA_CLI_WRAP:-}
    n=1
    while [ $n -le "$1" ]; do
        if [ $((n % 25)) = 1 ]; then TDA_CLI_WRAP=$wrap; else TDA_CLI_WRAP=; fi
        cli token
        [ "$RC" = 0 ] || FAILED_CALLS=$((FAILED_CALLS + 1))
        n=$((n + 1))
    done
    TDA_CLI_WRAP=$wrap
}

start_emulator --interval 0.01 --approve-after-polls 0 --log "$LOG"

for spec in "+365d" "-365d" "@1970-01-01 00:00:00"; do
    echo "# the CLI with the wall clock at '$spec'"
    echo "$spec" >"$FAKE"
    fake_clock "$KERNEL_CLOCKS_TRUE"
    year=$(faked_year)
    check "the fake clock is in effect (the year is $year)" [ "$year" != "$(date -u +%Y)" ]
    new_home
    cli login
    expect_rc 0 "login"
    # The CLI's own clock, not only date's: its token file says when the token arrived.
    got=$(date -u -d "@$(json_field "$TOKEN" received_at)" +%Y 2>/dev/null || echo none)
    check "... in the CLI too: by its clock the token arrived in $got" [ "$got" = "$year" ]
    before=$(refreshes)
    calls 100
    check "100 token calls all print a token" [ $FAILED_CALLS = 0 ]
    check "... and make no refresh request" [ "$(refreshes)" = "$before" ]
    check "... the token is still the first" [ "$(cat "$SCRATCH/out")" = "$(json_field "$TOKEN" access_token)" ]
    make_due "$TOKEN" 3600 # as if the time had passed: an hour of its week left
    calls 10
    check "once due by elapsed time, 10 calls make exactly one refresh" \
        [ "$(refreshes)" = $((before + 1)) ]
    check "... all 10 print a token" [ $FAILED_CALLS = 0 ]
    true_clock
    cli status
    check "status judges it by the same clock: valid" contains "$SCRATCH/out" "State:      valid"
done

echo "# the CLI with a clock that jumps a year ahead between runs"
echo "+0" >"$FAKE"
fake_clock "$KERNEL_CLOCKS_TRUE"
new_home
cli login
before=$(refreshes)
calls 50
echo "+365d" >"$FAKE"
calls 50
check "100 calls across the jump make at most one refresh ($(( $(refreshes) - before )))" \
    [ $(( $(refreshes) - before )) -le 1 ]
check "... all print a token" [ $FAILED_CALLS = 0 ]
true_clock

# The library program: 62 s tokens are due 2 s after they arrive, so real elapsed time
# decides here, not an edited stamp.
LOG="$SCRATCH/emulator62.log"
start_emulator --interval 0.01 --approve-after-polls 0 --token-life 62 --log "$LOG"
# getter STEP...: clock_getter on $TOKEN under CLI_AS; its output in $SCRATCH/steps. The
# runs that race a 2 s due time go unwrapped (valgrind is slower than that); the last
# scenario runs under TDA_CLI_WRAP (GETTER_WRAP).
GETTER_WRAP=
getter() {
    set +e
    ${CLI_AS:-} env TRAKT_CLIENT_ID=test-id TRAKT_CLIENT_SECRET=test-secret \
        TRAKT_OAUTH_URL="$EMU_URL" ${CLI_PRELOAD:+LD_PRELOAD=$CLI_PRELOAD} ${GETTER_WRAP:-} \
        "$TDA_CLOCK_GETTER" "$TOKEN" "$@" \
        >"$SCRATCH/steps" 2>"$SCRATCH/err" </dev/null
    RC=$?
    set -e
}
step() { sed -n "${1}p" "$SCRATCH/steps"; }

for spec in "+365d" "-365d" "@1970-01-01 00:00:00"; do
    echo "# a program calling tda_token_get with the wall clock at '$spec'"
    echo "$spec" >"$FAKE"
    fake_clock "$KERNEL_CLOCKS_TRUE"
    new_home
    cli login
    before=$(refreshes)
    getter calls:100 until-due calls:1 calls:100
    expect_rc 0 "200 calls"
    got=$(date -u -d "@$(json_field "$TOKEN" received_at)" +%Y 2>/dev/null || echo none)
    check "the program's clock is the fake one: by it the new pair arrived in $got" \
        [ "$got" = "$(faked_year)" ]
    check "the first 100 make no refresh ($(step 1))" [ "$(step 1)" = "calls=100 refreshed=0 rotated=0 stale=0" ]
    check "once due by elapsed time, one call refreshes ($(step 2))" [ "$(step 2)" = "calls=1 refreshed=1 rotated=0 stale=0" ]
    check "the next 100 make none ($(step 3))" [ "$(step 3)" = "calls=100 refreshed=0 rotated=0 stale=0" ]
    check "the emulator saw exactly one refresh request" [ "$(refreshes)" = $((before + 1)) ]
    true_clock
done

echo "# a program whose wall clock jumps a year ahead mid-run"
echo "+0" >"$FAKE"
fake_clock "$KERNEL_CLOCKS_TRUE"
new_home
cli login
before=$(refreshes)
getter calls:50 jump:+365d calls:50
expect_rc 0 "100 calls around the jump"
check "no refresh before ($(step 1)) or after it ($(step 2))" \
    [ "$(step 1) $(step 2)" = "calls=50 refreshed=0 rotated=0 stale=0 calls=50 refreshed=0 rotated=0 stale=0" ]
check "... and none at the emulator" [ "$(refreshes)" = "$before" ]

echo "# ... and with every clock jumping, the kernel's too (no real machine does that)"
echo "+0" >"$FAKE"
fake_clock
new_home
cli login
before=$(refreshes)
getter calls:50 jump:+365d calls:50
expect_rc 0 "100 calls around the jump"
check "no refresh before it ($(step 1))" [ "$(step 1)" = "calls=50 refreshed=0 rotated=0 stale=0" ]
after=$(step 2)
jumped=${after#*refreshed=}
jumped=${jumped%% *}
check "at most one after it ($after)" [ "$jumped" -le 1 ]
check "... as the emulator saw" [ $(( $(refreshes) - before )) -le 1 ]
true_clock

echo "# the program on a week-long token, under the suite's wrapper (valgrind) when it has one"
LOG="$SCRATCH/emulator-week.log"
start_emulator --interval 0.01 --approve-after-polls 0 --log "$LOG"
echo "-365d" >"$FAKE"
fake_clock "$KERNEL_CLOCKS_TRUE"
new_home
cli login
GETTER_WRAP=${TDA_CLI_WRAP:-}
getter calls:10 jump:+365d calls:10
GETTER_WRAP=
expect_rc 0 "20 calls across a jump of two years"
check "... no refresh ($(step 1); $(step 2))" \
    [ "$(step 1) $(step 2)" = "calls=10 refreshed=0 rotated=0 stale=0 calls=10 refreshed=0 rotated=0 stale=0" ]
check "... and none at the emulator" [ "$(refreshes)" = 0 ]
true_clock

finish
