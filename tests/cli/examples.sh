#!/bin/sh
# The non-blocking examples, built like a user's programs, run against the
# emulator: several logins at once in one thread, first in a plain poll(2)
# loop, then in libuv's loop and in GLib's main loop through the callback API.
# Each must end with every flow authorized and no poll sooner than the interval.
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

finish
