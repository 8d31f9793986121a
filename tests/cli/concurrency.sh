#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Refresh tokens are single use: eight `token` processes started together
# while a refresh is due must make exactly one refresh request between them
# (the lock beside the token file, and a re-read under it), and all print
# the same, valid, new access token. Five rounds.
set -e
. "$(dirname "$0")/lib.sh"

start_emulator --interval 0.05 --approve-after-polls 0
new_home
cli login
expect_rc 0 "login"

rounds=5
round=1
while [ $round -le $rounds ]; do
    old=$(json_field "$TOKEN" access_token)
    # Make the stored token due: 30 s left of a 7-day life is well inside the last tenth.
    make_due "$TOKEN" 30
    refreshes_before=$(stat_of refreshes)

    i=1
    pids=""
    while [ $i -le 8 ]; do
        env HOME="$HOME_DIR" TRAKT_CLIENT_ID=test-id TRAKT_CLIENT_SECRET=test-secret \
            TRAKT_OAUTH_URL="$EMU_URL" ${TDA_CLI_WRAP:-} "$TDA_CLI" token \
            >"$SCRATCH/out.$i" 2>"$SCRATCH/err.$i" &
        pids="$pids $!"
        i=$((i + 1))
    done
    failed=0
    for pid in $pids; do wait "$pid" || failed=$((failed + 1)); done

    new=$(json_field "$TOKEN" access_token)
    check "round $round: all eight exit 0" [ $failed = 0 ]
    check "round $round: exactly one refresh request" \
        [ $(( $(stat_of refreshes) - refreshes_before )) = 1 ]
    check "round $round: the saved token is new" [ "$new" != "$old" ]
    same=0
    i=1
    while [ $i -le 8 ]; do
        [ "$(cat "$SCRATCH/out.$i")" = "$new" ] && same=$((same + 1))
        i=$((i + 1))
    done
    check "round $round: all eight printed the saved token ($same of 8)" [ $same = 8 ]
    round=$((round + 1))
done

# The token they printed works: the emulator accepts it for a revoke.
cli revoke
expect_rc 0 "the shared token is valid at the server"
finish
