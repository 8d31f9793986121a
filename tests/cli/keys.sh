#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One token per account: --key (or TRAKT_TOKEN_KEY) keeps each account's
# token in its own file of the --token-dir (TRAKT_TOKEN_DIR), escaped into a
# safe name, and every command works on that account alone. Bad keys and
# contradictory options are usage errors that say why.
set -e
. "$(dirname "$0")/lib.sh"

start_emulator --interval 0.01 --approve-after-polls 0
new_home
DIR="$HOME_DIR/.config/trakt-device-auth/tokens"

cli login --key alice
expect_rc 0 "login --key alice"
check "... saved in the default token directory" [ -f "$DIR/alice.json" ]
check "... which is 0700" [ "$(mode_of "$DIR")" = 700 ]
check "... and says so" contains "$SCRATCH/out" "Saved in $DIR/alice.json"
cli login --key Bob@example.com
expect_rc 0 "login --key Bob@example.com"
check "... in its own, escaped file" [ -f "$DIR/%42ob%40example.com.json" ]
check "... mode 0600" [ "$(mode_of "$DIR/%42ob%40example.com.json")" = 600 ]
check "no single token file was made" [ ! -e "$HOME_DIR/.config/trakt-device-auth/token.json" ]

alice=$(json_field "$DIR/alice.json" access_token)
bob=$(json_field "$DIR/%42ob%40example.com.json" access_token)
check "the accounts have different tokens" [ "$alice" != "$bob" ]
cli token --key alice
check "token --key alice prints alice's" [ "$(cat "$SCRATCH/out")" = "$alice" ]
set +e
env HOME="$HOME_DIR" TRAKT_CLIENT_ID=test-id TRAKT_TOKEN_KEY=Bob@example.com \
    TRAKT_OAUTH_URL="$EMU_URL" ${TDA_CLI_WRAP:-} "$TDA_CLI" token >"$SCRATCH/out" 2>"$SCRATCH/err"
RC=$?
set -e
expect_rc 0 "TRAKT_TOKEN_KEY picks the account too"
check "... bob's token" [ "$(cat "$SCRATCH/out")" = "$bob" ]
cli status --key alice
check "status --key names the account's file" contains "$SCRATCH/out" "Token file: $DIR/alice.json"

make_due "$DIR/alice.json" 60
cli token --key alice
expect_rc 0 "token --key alice when alice's is due"
check "... refreshes alice's only" [ "$(stat_of refreshes)" = 1 ]
check "... bob's is untouched" [ "$(json_field "$DIR/%42ob%40example.com.json" access_token)" = "$bob" ]
cli refresh --key Bob@example.com
expect_rc 0 "refresh --key"
check "... refreshes bob's" [ "$(json_field "$DIR/%42ob%40example.com.json" access_token)" != "$bob" ]
cli revoke --key alice
expect_rc 0 "revoke --key alice"
check "... deletes alice's file only" [ ! -e "$DIR/alice.json" ] && [ -f "$DIR/%42ob%40example.com.json" ]
cli token --key alice
expect_rc 6 "token for an account that has none"
check "... names its file and says to log in" contains "$SCRATCH/err" "no token at $DIR/alice.json"

cli login --key elsewhere --token-dir "$HOME_DIR/other"
expect_rc 0 "--token-dir moves the accounts"
check "... there" [ -f "$HOME_DIR/other/elsewhere.json" ]

echo "# bad keys and options"
for key in ".." "a/b" "../../etc" "a-key-of-sixty-five-bytes-is-one-more-than-a-key-may-have-0123456"; do
    cli login --key "$key"
    expect_rc 2 "login --key '$key' is refused"
    check "... saying why" contains "$SCRATCH/err" "unusable key"
done
check "... before any code was asked for" [ "$(stat_of codes_issued)" = 3 ]
cli token --key ""
expect_rc 2 "an empty key is refused"
cli token --key alice --token-file "$HOME_DIR/t.json"
expect_rc 2 "--key with --token-file contradict each other"
check "... and the message says so" contains "$SCRATCH/err" "give one or the other"
cli token --token-dir "$HOME_DIR/other"
expect_rc 2 "--token-dir without --key"
check "... says --key is needed" contains "$SCRATCH/err" "give --key too"
finish
