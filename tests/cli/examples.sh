#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The examples, built like a user's programs, run against the emulator. The
# non-blocking ones: several logins at once in one thread, first in a plain
# poll(2) loop, then in libuv's loop and in GLib's main loop through the
# callback API; each must end with every flow authorized and no poll sooner
# than the interval. refresh: the stored token as is while it is not due,
# refreshed once when it is, also by four copies at once.
set -e
. "$(dirname "$0")/lib.sh"
: "${TDA_EXAMPLE_DIR:?set TDA_EXAMPLE_DIR to the built examples}"

for example in multi_poll multi_libuv multi_glib; do
    EMU_SECRET_ARGS= start_emulator --interval 0.1 --approve-after-polls 2 # a public app
    set +e
    env -u TRAKT_CLIENT_SECRET TRAKT_CLIENT_ID=test-id TRAKT_OAUTH_URL="$EMU_URL" \
        ${TDA_CLI_WRAP:-} "$TDA_EXAMPLE_DIR/example_$example" 6 >"$SCRATCH/out" 2>"$SCRATCH/err"
    RC=$?
    set -e
    expect_rc 0 "$example with 6 flows"
    check "... all 6 authorized" contains "$SCRATCH/out" "6 of 6 authorized"
    check "... no early poll" [ "$(stat_of early_polls)" = 0 ]
    check "... 3 polls per flow" [ "$(stat_of polls)" = 18 ]
    check "... none with a client secret" [ "$(stat_of secrets_sent)" = 0 ]
    kill "$EMU_PID"
done

echo "# refresh: load, get, use"
start_emulator --interval 0.01 --approve-after-polls 0
new_home
cli login
run_refresh() {
    env TRAKT_CLIENT_ID=test-id TRAKT_CLIENT_SECRET=test-secret TRAKT_OAUTH_URL="$EMU_URL" \
        ${TDA_CLI_WRAP:-} "$TDA_EXAMPLE_DIR/example_refresh" "$TOKEN"
}
set +e
run_refresh >"$SCRATCH/out" 2>"$SCRATCH/err"
RC=$?
set -e
expect_rc 0 "refresh with a fresh token"
check "... uses the stored one" contains "$SCRATCH/out" "the stored token"
check "... without a request" [ "$(stat_of refreshes)" = 0 ]
check "... and prints no secret" sh -c "! grep -q '$(json_field "$TOKEN" access_token)' '$SCRATCH/out' '$SCRATCH/err'"
make_due "$TOKEN" 60
pids=""
for i in 1 2 3 4; do
    run_refresh >"$SCRATCH/out.$i" 2>&1 &
    pids="$pids $!"
done
failed=0
for pid in $pids; do wait "$pid" || failed=$((failed + 1)); done
check "four copies at once on a due token all succeed" [ $failed = 0 ]
check "... with one refresh between them" [ "$(stat_of refreshes)" = 1 ]
check "... made by one of them" [ "$(cat "$SCRATCH"/out.* | grep -c 'a refreshed token')" = 1 ]
rm -f "$TOKEN"
set +e
run_refresh >"$SCRATCH/out" 2>"$SCRATCH/err"
RC=$?
set -e
expect_rc 1 "refresh without a token file"
check "... says to log in" contains "$SCRATCH/err" "log in first"

finish
