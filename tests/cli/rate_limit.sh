#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# login waits out a 429 on the code request instead of failing at once, as
# Trakt's rate-limiting guide says: at least Retry-After, or exponential
# backoff with jitter without one, a few times at most; and says that it is
# waiting, in --json, on standard error, and on a terminal (tmux) with a
# countdown. The emulator's request log shows the requests were spaced.
set -e
. "$(dirname "$0")/lib.sh"

# code_arrivals LOG: arrival times in ms of the code requests, one a line.
code_arrivals() {
    sed -n 's|^\([0-9]*\)\.\([0-9]*\) POST /oauth/device/code .*|\1\2|p' "$1" | sed 's/^0*\(.\)/\1/'
}

# spaced_at_least MS LOG: every code request came MS or more after the one before.
spaced_at_least() {
    code_arrivals "$2" | awk -v min="$1" 'NR > 1 && $1 - prev < min { bad = 1 } { prev = $1 }
        END { exit bad }'
}

echo "# Retry-After: 2, twice, with --json"
start_emulator --interval 0.2 --approve-after-polls 0 --log "$SCRATCH/json.log" \
    --fault code:1-2:429:cloudflare:retry-after=2
new_home
cli login --json
expect_rc 0 "login after two 429s with Retry-After: 2"
check "three code requests" [ "$(code_arrivals "$SCRATCH/json.log" | wc -l)" = 3 ]
check "... each at least 2 s after the one before" spaced_at_least 2000 "$SCRATCH/json.log"
check "two waiting events" [ "$(grep -c '"event":"waiting"' "$SCRATCH/out")" = 2 ]
check "... naming the status and the wait" \
    contains "$SCRATCH/out" '"event":"waiting","reason":"rate_limited","http_status":429,"retry_after":2'
check "... then the code" contains "$SCRATCH/out" '"event":"code"'
check "... and the token" contains "$SCRATCH/out" '"event":"authorized"'

echo "# the same without a terminal or --json"
start_emulator --interval 0.2 --approve-after-polls 0 --log "$SCRATCH/plain.log" \
    --fault code:1:429:retry-after=1
new_home
cli login
expect_rc 0 "login after one 429"
check "stderr says it waits" contains "$SCRATCH/err" "Trakt is limiting requests (HTTP 429, it asks to wait): waiting; asking for a code again in 1 s"
check "... at least 1 s" spaced_at_least 1000 "$SCRATCH/plain.log"

echo "# no Retry-After: backoff with jitter"
start_emulator --interval 0.2 --approve-after-polls 0 --log "$SCRATCH/backoff.log" \
    --fault code:1:429
new_home
cli login
expect_rc 0 "login after a 429 without Retry-After"
check "stderr says it backs off" contains "$SCRATCH/err" "no Retry-After, so backing off"
check "... by at least 1 s" spaced_at_least 1000 "$SCRATCH/backoff.log"

echo "# bounded: three retries at most, and never a wait past 15 minutes"
start_emulator --interval 0.2 --log "$SCRATCH/bounded.log" --fault code:1-9:429:retry-after=1
new_home
cli login
expect_rc 5 "still limited after three retries"
check "four code requests in all" [ "$(code_arrivals "$SCRATCH/bounded.log" | wc -l)" = 4 ]
check "the message says when to try again" grep -Eq "try again in 1 s \(after [0-9:]{8} UTC\)" "$SCRATCH/err"
check "... and not that a stored token is untouched (login has none)" \
    sh -c "! grep -q untouched '$SCRATCH/err'"
start_emulator --interval 0.2 --log "$SCRATCH/long.log" --fault code:1:429:retry-after=3600
new_home
cli login --json
expect_rc 5 "Retry-After: 3600 is not waited out"
check "one code request" [ "$(code_arrivals "$SCRATCH/long.log" | wc -l)" = 1 ]
check "... no waiting event" sh -c "! grep -q '\"event\":\"waiting\"' '$SCRATCH/out'"
check "the message says when" contains "$SCRATCH/err" "try again in 1 h 0 min"
start_emulator --interval 0.2 --log "$SCRATCH/timeout.log" --fault code:1-9:429:retry-after=2
cli login --timeout 1
expect_rc 5 "a Retry-After: 2 is not waited out with --timeout 1"
check "... one code request" [ "$(code_arrivals "$SCRATCH/timeout.log" | wc -l)" = 1 ]

echo "# a terminal: a countdown while it waits; Ctrl-C ends the wait"
command -v tmux >/dev/null || { bad "tmux is needed (scripts/deps.sh test installs it)"; finish; }
# Each session gets its own tmux server: reusing one races with its shutdown.
SESSIONS=0
SOCKET="tda-rate-$$-0"
T() { tmux -L "$SOCKET" "$@"; }
trap 'T kill-server >/dev/null 2>&1 || true; cleanup' EXIT
session() { # session ARGS...: login in a fresh 80x24 tmux session
    T kill-server >/dev/null 2>&1 || true
    SESSIONS=$((SESSIONS + 1))
    SOCKET="tda-rate-$$-$SESSIONS"
    T new-session -d -x 80 -y 24 -s view \
        "env HOME='$HOME_DIR' LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color TRAKT_CLIENT_ID=test-id \
         TRAKT_OAUTH_URL='$EMU_URL' '$TDA_CLI' login $*; echo EXIT=\$?; sleep 600" >/dev/null 2>&1 </dev/null
}
wait_for() { # wait_for TEXT: up to 10 s for TEXT on the screen
    tries=0
    while :; do
        T capture-pane -p -t view >"$SCRATCH/screen"
        grep -qF -- "$1" "$SCRATCH/screen" && return 0
        tries=$((tries + 1))
        [ $tries -ge 100 ] && { echo "screen without '$1':"; cat "$SCRATCH/screen"; return 1; }
        sleep 0.1
    done
}
start_emulator --interval 0.2 --approve-after-polls 0 --fault code:1-2:429:retry-after=2
new_home
session
check "the terminal says it waits, with a countdown" \
    wait_for "Trakt asks to wait (HTTP 429): asking for a code again in 0:0"
check "then shows the code" wait_for "2. Enter this code:"
check "and logs in" wait_for "EXIT=0"
check "the waiting line is gone" sh -c "! grep -q 'Trakt asks to wait' '$SCRATCH/screen'"
start_emulator --interval 0.2 --fault code:1:429:retry-after=60
new_home
session
check "a 60 s wait begins" wait_for "asking for a code again in"
T send-keys -t view C-c
check "Ctrl-C ends it" wait_for "EXIT=130"
check "... saying so" contains "$SCRATCH/screen" "interrupted"
finish
