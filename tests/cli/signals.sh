#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Interruptions and secrets: Ctrl-C and SIGTERM end login cleanly with their
# own exit codes and no token file; a wait for the token lock can be
# interrupted or timed out; a secret given with --client-secret is gone from
# the process's command line; --verbose shows requests with every secret
# redacted.
set -e
. "$(dirname "$0")/lib.sh"

# spawn ARGS...: the CLI in the background (never approved), PID in CLI_PID,
# returns once it has shown the code; a CLI that never shows one within 10 s
# (scaled) is a failure, and the test stops: what follows would test nothing.
spawn() {
    # Emptied first: the last run's "enter the code" must not pass for this one's, or the
    # signal below would reach this CLI before it even runs (and be lost, as happened).
    : >"$SCRATCH/out"
    : >"$SCRATCH/err"
    env HOME="$HOME_DIR" TRAKT_CLIENT_ID=test-id TRAKT_CLIENT_SECRET="${SPAWN_SECRET-test-secret}" \
        TRAKT_OAUTH_URL="$EMU_URL" "$TDA_CLI" "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" </dev/null &
    CLI_PID=$!
    tries=0
    until grep -q "enter the code" "$SCRATCH/out" 2>/dev/null; do
        if [ $tries -ge "$(bound_tries 200)" ] || ! running "$CLI_PID"; then
            bad "'$*' showed no code (stderr: $(head -c 300 "$SCRATCH/err"))"
            kill -s KILL "$CLI_PID" 2>/dev/null
            finish
            exit 1
        fi
        sleep 0.05
        tries=$((tries + 1))
    done
}

# running PID: the process is alive, not a zombie (a zombie's cmdline is empty).
running() {
    [ -r "/proc/$1/stat" ] && [ "$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat")" != Z ]
}

reap() { # reap: waits for CLI_PID, exit status in RC
    set +e
    wait "$CLI_PID"
    RC=$?
    set -e
}

start_emulator --interval 0.2
for sig in INT TERM HUP; do
    new_home
    spawn login
    kill -s $sig "$CLI_PID"
    reap
    case $sig in INT) want=130 ;; TERM) want=143 ;; HUP) want=129 ;; esac
    expect_rc $want "SIG$sig during login"
    check "... leaves no token file" [ ! -e "$TOKEN" ]
    check "... says it was interrupted" contains "$SCRATCH/err" "interrupted"
done

echo "# the token lock"
start_emulator --interval 0.05 --approve-after-polls 0 --token-life 30
new_home
cli login
expect_rc 0 "a login to lock"
# Another process holds the lock (flock(1) takes the same kind of lock): a subshell
# that locks it and becomes a sleep, so killing that one process frees the lock.
(exec 9>"$TOKEN.lock" && flock 9 && exec sleep 30) >/dev/null 2>&1 &
holder=$!
sleep 0.2
cli refresh --timeout 0.5
expect_rc 8 "refresh gives up on a lock held too long (--timeout)"
check "... and says who holds it" contains "$SCRATCH/err" "another process has held the lock"
cli token --timeout 0.5
expect_rc 0 "token, due for a refresh but locked out, still prints the token that works"
check "... the one in the file" [ "$(cat "$SCRATCH/out")" = "$(json_field "$TOKEN" access_token)" ]
check "... with a warning" contains "$SCRATCH/err" "warning: could not refresh"
env HOME="$HOME_DIR" TRAKT_CLIENT_ID=test-id TRAKT_CLIENT_SECRET=test-secret \
    TRAKT_OAUTH_URL="$EMU_URL" "$TDA_CLI" refresh >"$SCRATCH/out" 2>"$SCRATCH/err" </dev/null &
CLI_PID=$!
# Until it has the lock file open (its signal handlers are in place by then): a
# SIGINT that came sooner would hit a background job's ignored SIGINT.
tries=0
until ls -l "/proc/$CLI_PID/fd" 2>/dev/null | grep -q 'token\.json\.lock' || [ $tries -ge 400 ]; do
    sleep 0.05
    tries=$((tries + 1))
done
refreshes_before=$(stat_of refreshes)
check "refresh is still waiting for the lock" running "$CLI_PID"
kill -s INT "$CLI_PID"
reap
expect_rc 130 "Ctrl-C while waiting for the lock"
check "... before any refresh request" [ "$(stat_of refreshes)" = "$refreshes_before" ]
kill "$holder"
wait "$holder" 2>/dev/null || true
cli refresh
expect_rc 0 "refresh once the lock is free"

echo "# --client-secret leaves the command line"
start_emulator --interval 0.2
new_home
SPAWN_SECRET= spawn login --client-secret test-secret
# Read while the CLI is alive and waiting: a dead one's cmdline is empty and proves nothing.
check "login with --client-secret is running, waiting for approval" running "$CLI_PID"
cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$CLI_PID/cmdline" || true)
check "its /proc/PID/cmdline is its own ($cmdline)" \
    contains_text "$cmdline" " login --client-secret"
check "the secret is not in /proc/PID/cmdline" \
    sh -c '! printf "%s" "$1" | grep -q test-secret' - "$cmdline"
kill -s INT "$CLI_PID" 2>/dev/null || true
reap
expect_rc 130 "... and Ctrl-C then ends it"

echo "# --verbose redacts every secret"
start_emulator --interval 0.05 --approve-after-polls 1 --token-life 30
new_home
: >"$SCRATCH/verbose"
cli login -v
expect_rc 0 "login -v"
cat "$SCRATCH/out" "$SCRATCH/err" >>"$SCRATCH/verbose"
first_access=$(json_field "$TOKEN" access_token)
first_refresh=$(json_field "$TOKEN" refresh_token)
cli refresh -v
expect_rc 0 "refresh -v"
cat "$SCRATCH/out" "$SCRATCH/err" >>"$SCRATCH/verbose"
cli token -v
expect_rc 0 "token -v"
cat "$SCRATCH/err" >>"$SCRATCH/verbose"
second_access=$(json_field "$TOKEN" access_token)
second_refresh=$(json_field "$TOKEN" refresh_token)
cli revoke -v
expect_rc 0 "revoke -v"
cat "$SCRATCH/out" "$SCRATCH/err" >>"$SCRATCH/verbose"
check "verbose output shows requests" contains "$SCRATCH/verbose" "> POST $EMU_URL/oauth/device/token"
check "... and answers" contains "$SCRATCH/verbose" "< HTTP 200"
check "... with secrets marked redacted" contains "$SCRATCH/verbose" '"client_secret":"\[redacted\]"'
for secret in test-secret "$first_access" "$first_refresh" "$second_access" "$second_refresh"; do
    check "no secret in verbose output (${secret%"${secret#????}"}...)" \
        sh -c "! grep -qF -- '$secret' '$SCRATCH/verbose'"
done
# The device code is never printed anywhere, so look for anything shaped like one.
check "nothing shaped like a device code or token in verbose output" \
    sh -c "! grep -Eq '[0-9a-fA-F]{32,}' '$SCRATCH/verbose'"
finish
