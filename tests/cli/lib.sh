# SPDX-License-Identifier: Apache-2.0
# Shared by the CLI tests (tests/cli/*.sh): start emulators, run the CLI,
# check results. Sourced with TDA_CLI and TDA_EMULATOR set (ctest does that).
# TDA_CLI_WRAP, when set, prefixes every CLI run (valgrind in that CI pass).
set -u
: "${TDA_CLI:?set TDA_CLI to the trakt-device-auth binary}"
: "${TDA_EMULATOR:?set TDA_EMULATOR to the trakt-oauth-emulator binary}"

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/tda-cli-test.XXXXXX")
EMULATOR_PIDS=""
FAILURES=0
CHECKS=0

cleanup() {
    set +e # runs from an EXIT trap, maybe after a failure: every step must run
    for pid in $EMULATOR_PIDS; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    # A test that mounted something defines on_cleanup to unmount it first.
    if command -v on_cleanup >/dev/null 2>&1; then on_cleanup; fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 99' INT TERM

# Time limits are written for an idle machine and scaled like every bound in
# the tests (tests/slow.h): by $TDA_TEST_SLOW, a whole number, 1 when unset.
SLOW=${TDA_TEST_SLOW:-1}
case $SLOW in
    '' | *[!0-9]* | 0) SLOW=bad ;;
    *) [ "$SLOW" -le 1000 ] || SLOW=bad ;;
esac
if [ "$SLOW" = bad ]; then
    echo "FAILED: TDA_TEST_SLOW=$TDA_TEST_SLOW: want a whole number from 1 to 1000"
    exit 1
fi
# bound_tries N: N tries (of a fixed pause each) on an idle machine, for this run.
bound_tries() { echo $(($1 * SLOW)); }

ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; }
bad() { CHECKS=$((CHECKS + 1)); FAILURES=$((FAILURES + 1)); echo "FAILED: $*"; }
check() { # check "what" command...
    what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# start_emulator [options...]: sets EMU_URL (and EMU_PID); secret is test-secret, or
# none (a public app) when EMU_SECRET_ARGS is set and empty.
start_emulator() {
    fifo="$SCRATCH/emu.$$.$(date +%s%N)"
    mkfifo "$fifo"
    # shellcheck disable=SC2086 # the default is two words
    "$TDA_EMULATOR" --port 0 --client-id test-id ${EMU_SECRET_ARGS---client-secret test-secret} \
        --quiet "$@" >"$fifo" &
    EMU_PID=$!
    EMULATOR_PIDS="$EMULATOR_PIDS $EMU_PID"
    read -r line <"$fifo"
    rm -f "$fifo"
    EMU_URL=${line#listening on }
    case $EMU_URL in http://*|https://*) ;; *) echo "emulator did not start: $line"; exit 1 ;; esac
}

# stat_of NAME: one counter from the emulator's /stats. When there is none (the
# emulator is gone), a text unlike any other, so that comparing two such reads
# can never pass.
stat_of() {
    value=$(curl -s "$EMU_URL/stats" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p")
    echo "${value:-no-stats-$(date +%s%N)}"
}

# A fresh home for each scenario: the CLI's default token path lives in it.
new_home() {
    HOME_DIR=$(mktemp -d "$SCRATCH/home.XXXXXX")
    TOKEN="$HOME_DIR/.config/trakt-device-auth/token.json"
}

# cli ARGS...: runs the CLI against EMU_URL with the test client; stdout to
# $SCRATCH/out, stderr to $SCRATCH/err, exit status in RC. CLI_AS, when set,
# prefixes the run (setpriv, to run it as another user). CLI_PRELOAD, when set,
# is the CLI's LD_PRELOAD, set by the env that starts it (or TDA_CLI_WRAP), so
# that no program in between is preloaded too (see tests/cli/clock.sh).
cli() {
    set +e
    ${CLI_AS:-} env HOME="$HOME_DIR" XDG_CONFIG_HOME= TRAKT_TOKEN_FILE= TRAKT_TOKEN_KEY= \
        TRAKT_TOKEN_DIR= TRAKT_TOKEN_STORE= TRAKT_CLIENT_ID=test-id \
        TRAKT_CLIENT_SECRET="${SECRET-test-secret}" TRAKT_OAUTH_URL="$EMU_URL" \
        ${CLI_PRELOAD:+LD_PRELOAD=$CLI_PRELOAD} ${TDA_CLI_WRAP:-} "$TDA_CLI" "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" </dev/null
    RC=$?
    set -e
}

expect_rc() { # expect_rc WANT "what"
    if [ "$RC" -eq "$1" ]; then
        ok "$2 (exit $RC)"
    else
        bad "$2: exit $RC, want $1; stderr: $(head -c 600 "$SCRATCH/err")"
    fi
}

contains() { grep -q -- "$2" "$1"; }
contains_text() { case $1 in *"$2"*) return 0 ;; *) return 1 ;; esac; } # contains_text TEXT PART

# json_field FILE NAME: a string or number field of a small JSON file.
json_field() {
    sed -n "s/.*\"$2\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" "$1" | head -n 1
}

mode_of() { stat -c %a "$1"; }

# make_due FILE LEFT: the stored token is judged by the time elapsed since it
# arrived (its received_* stamp), so ageing it means moving that stamp back:
# afterwards only LEFT seconds of its life remain. The file keeps its mode.
make_due() {
    life=$(json_field "$1" expires_in)
    age=$((life - $2))
    uptime=$(json_field "$1" received_uptime_ms)
    wall=$(json_field "$1" received_at)
    sed -e "s/\"received_uptime_ms\": *-\{0,1\}[0-9]*/\"received_uptime_ms\": $((uptime - age * 1000))/" \
        -e "s/\"received_at\": *[0-9]*/\"received_at\": $((wall - age))/" "$1" >"$SCRATCH/aged"
    cat "$SCRATCH/aged" >"$1"
}

finish() {
    echo "$CHECKS checks, $FAILURES failed"
    [ "$FAILURES" -eq 0 ]
}
