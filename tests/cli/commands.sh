#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every command of trakt-device-auth against the real emulator, without a
# terminal (as scripts and cron run it): outputs, files, exit codes.
set -e
. "$(dirname "$0")/lib.sh"

echo "# usage"
new_home
EMU_URL=http://127.0.0.1:9
cli --help
expect_rc 0 "--help"
check "--help lists the exit codes" contains "$SCRATCH/out" "130  interrupted"
cli --version
expect_rc 0 "--version"
version=$(sed -n 's/^project(traktdeviceauth VERSION \([0-9.]*\) .*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
check "project() in CMakeLists.txt names a version ($version)" [ -n "$version" ]
check "--version names the program and project()'s version" \
    contains "$SCRATCH/out" "trakt-device-auth $version"
cli
expect_rc 2 "no command is a usage error"
cli frobnicate
expect_rc 2 "an unknown command is a usage error"
cli --frobnicate status
expect_rc 2 "an unknown option is a usage error"
cli --client_secret=hunter2 status
expect_rc 2 "a misspelt option is a usage error"
check "... whose value is not echoed" sh -c "! grep -q hunter2 '$SCRATCH/err'"
cli -xv status
expect_rc 2 "an unknown short option"
check "... is named" contains "$SCRATCH/err" "unknown option '-x'"
cli login --timeout abc
expect_rc 2 "--timeout must be a number"
cli login --base-url http://example.com
expect_rc 2 "plain http to a non-loopback host is refused"
check "... and the error says why" contains "$SCRATCH/err" "loopback"
SECRET= cli login --ask-secret
expect_rc 2 "login --ask-secret without a terminal"
check "... says how else to give one" contains "$SCRATCH/err" "TRAKT_CLIENT_SECRET"
cli login --ask-secret --client-secret-file /dev/null
expect_rc 2 "--ask-secret with another way to give the secret"

echo "# login, status, token, refresh, revoke"
start_emulator --interval 0.2 --approve-after-polls 2
new_home
cli login
expect_rc 0 "login"
check "login tells where to go and the code" grep -Eq "open $EMU_URL/activate and enter the code [0-9A-Z]{8}" "$SCRATCH/out"
check "login says where the token went" contains "$SCRATCH/out" "Saved in $TOKEN"
check "the token file is 0600" [ "$(mode_of "$TOKEN")" = 600 ]
check "its directory is 0700" [ "$(mode_of "$(dirname "$TOKEN")")" = 700 ]
check "the file records the client id" [ "$(json_field "$TOKEN" client_id)" = test-id ]
check "no temporary file is left" [ "$(ls "$(dirname "$TOKEN")" | grep -c tmp)" = 0 ]
access=$(json_field "$TOKEN" access_token)
refresh=$(json_field "$TOKEN" refresh_token)

cli status
expect_rc 0 "status"
check "status says valid" contains "$SCRATCH/out" "State:      valid"
check "status shows no token" sh -c "! grep -q '$access\|$refresh' '$SCRATCH/out'"
cli status --json
expect_rc 0 "status --json"
check "status --json gives the state" contains "$SCRATCH/out" '"state":"valid"'

cli token
expect_rc 0 "token"
check "token prints the access token and nothing else" [ "$(cat "$SCRATCH/out")" = "$access" ]
check "a fresh token is not refreshed" [ "$(stat_of refreshes)" = 0 ]

cli refresh
expect_rc 0 "refresh"
check "refresh made one refresh request" [ "$(stat_of refreshes)" = 1 ]
check "refresh saved a new access token" [ "$(json_field "$TOKEN" access_token)" != "$access" ]
check "... and a new refresh token" [ "$(json_field "$TOKEN" refresh_token)" != "$refresh" ]
check "the file is still 0600" [ "$(mode_of "$TOKEN")" = 600 ]
cli refresh --json
expect_rc 0 "refresh --json"
check "refresh --json reports the event" contains "$SCRATCH/out" '"event":"refreshed"'

cli revoke
expect_rc 0 "revoke"
check "revoke reached the server" [ "$(stat_of revokes)" = 1 ]
check "revoke deleted the token file" [ ! -e "$TOKEN" ]
cli token
expect_rc 6 "token without a token file: log in again"
check "... and says so" contains "$SCRATCH/err" "run 'trakt-device-auth login'"
cli status
expect_rc 6 "status without a token file"

echo "# login outcomes"
start_emulator --interval 0.2 --deny-after-polls 1
new_home
cli login
expect_rc 3 "denied"
check "a denied login leaves no token file" [ ! -e "$TOKEN" ]
start_emulator --interval 0.2 --code-life 0.5
new_home
cli login
expect_rc 4 "the code expired"
start_emulator --interval 0.2
new_home
cli login --timeout 0.5
expect_rc 4 "--timeout passed"
check "... and the message names --timeout" contains "$SCRATCH/err" "--timeout"
SECRET=wrong-secret cli login
expect_rc 7 "a wrong client secret is refused"
start_emulator --interval 0.2 --fault code:1-9:503
cli login
expect_rc 5 "Trakt unavailable when asking for a code"
new_home
EMU_URL=http://127.0.0.1:9
cli login
expect_rc 5 "nothing listening"

echo "# the client secret from a file"
start_emulator --interval 0.2 --approve-after-polls 0
new_home
printf 'test-secret\n' >"$SCRATCH/secret"
chmod 600 "$SCRATCH/secret"
SECRET= cli login --client-secret-file "$SCRATCH/secret" --quiet
expect_rc 0 "--client-secret-file (first line, newline dropped)"
check "--quiet login still shows the code" contains "$SCRATCH/out" "enter the code"
check "--quiet login prints nothing more" [ "$(wc -l <"$SCRATCH/out")" = 1 ]
SECRET= cli refresh --client-secret-file "$SCRATCH/nonexistent"
expect_rc 2 "a missing secret file"

echo "# refresh failures keep the stored token"
start_emulator --interval 0.2 --approve-after-polls 0 --fault refresh:1-2:503 --fault refresh:3:drop
new_home
cli login
expect_rc 0 "a login to refresh from"
before=$(cat "$TOKEN")
cli refresh
expect_rc 5 "refresh while Trakt answers 503"
check "... leaves the token file as it was" [ "$(cat "$TOKEN")" = "$before" ]
check "... and says it is untouched" contains "$SCRATCH/err" "untouched"
cli refresh
expect_rc 5 "refresh while Trakt still answers 503"
cli refresh
expect_rc 5 "refresh on a dropped connection"
check "... leaves the token file as it was" [ "$(cat "$TOKEN")" = "$before" ]
cli refresh
expect_rc 0 "refresh once Trakt is back"
cp "$TOKEN" "$SCRATCH/spent"
cli refresh
expect_rc 0 "a refresh that spends the saved refresh token"
cp "$SCRATCH/spent" "$TOKEN"
cli refresh
expect_rc 6 "a spent refresh token: log in again"
check "... says to log in" contains "$SCRATCH/err" "login"
check "... and the file is not deleted" [ -e "$TOKEN" ]

echo "# token refreshes by the token's own lifetime"
start_emulator --interval 0.2 --approve-after-polls 0 --token-life 50 --fault refresh:2:503
new_home
cli login
expect_rc 0 "a login with a 50 s token"
first=$(json_field "$TOKEN" access_token)
cli token
expect_rc 0 "token when 50 s of a 50 s life remain"
check "... refreshes (under a minute is always the last tenth)" [ "$(stat_of refreshes)" = 1 ]
check "... and prints the new token" [ "$(cat "$SCRATCH/out")" = "$(json_field "$TOKEN" access_token)" ]
check "... which differs from the first" [ "$(cat "$SCRATCH/out")" != "$first" ]
second=$(cat "$SCRATCH/out")
cli token
expect_rc 0 "token when the refresh fails but the token still works"
check "... prints the still-valid token" [ "$(cat "$SCRATCH/out")" = "$second" ]
check "... with a warning" contains "$SCRATCH/err" "warning"
SECRET= cli token
expect_rc 0 "token when a refresh is due and no secret is given"
check "... refreshes without one (tests/cli/public.sh has more)" [ "$(stat_of refreshes)" = 2 ]
check "... and prints the new token" [ "$(cat "$SCRATCH/out")" != "$second" ]

echo "# token file trouble"
start_emulator --interval 0.2 --approve-after-polls 0
new_home
cli login
expect_rc 0 "a login to spoil the file of"
chmod 644 "$TOKEN"
cli token
expect_rc 8 "a world-readable token file is refused"
check "... with the fix in the message" contains "$SCRATCH/err" "chmod 600 $TOKEN"
check "... and no token on stdout" [ ! -s "$SCRATCH/out" ]
chmod 600 "$TOKEN"
mv "$TOKEN" "$TOKEN.real"
ln -s "$TOKEN.real" "$TOKEN"
cli status
expect_rc 8 "a symlinked token file is refused"
check "... saying it is a symbolic link" contains "$SCRATCH/err" "symbolic link"
cli login
expect_rc 8 "login refuses to write through a symlink, before showing a code"
check "... no code was asked for" [ "$(stat_of codes_issued)" = 1 ]
rm "$TOKEN"
mv "$TOKEN.real" "$TOKEN"
printf '{"access_token": "abc", "token_' >"$TOKEN"
cli token
expect_rc 8 "a corrupt token file"
check "... says so" contains "$SCRATCH/err" "not a valid token file"
cli login
expect_rc 0 "login replaces a corrupt token file"
cli token --client-id other-app
expect_rc 6 "a token of another client id"
check "... names both ids" contains "$SCRATCH/err" "belongs to client id test-id, not other-app"
before=$(cat "$TOKEN")
cli login --client-id other-app
expect_rc 8 "login as another app refuses to destroy this app's token"
check "... says so" contains "$SCRATCH/err" "would destroy it"
check "... and the file is untouched" [ "$(cat "$TOKEN")" = "$before" ]

echo "# an unwritable token directory"
# Root may write anywhere, so as root (as CI runs it) the CLI runs as the
# unprivileged uid 65534 under setpriv (util-linux), from a copy it can reach
# whatever the build directory's permissions; any other user runs it directly.
home_before=$HOME_DIR
new_home
cli_real=$TDA_CLI
if [ "$(id -u)" = 0 ]; then
    if command -v setpriv >/dev/null; then
        chmod 711 "$SCRATCH"
        mkdir -m 755 "$SCRATCH/bin"
        cp "$TDA_CLI" "$SCRATCH/bin/trakt-device-auth"
        chmod 755 "$SCRATCH/bin/trakt-device-auth"
        TDA_CLI=$SCRATCH/bin/trakt-device-auth
        chown -R 65534:65534 "$HOME_DIR"
        CLI_AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
    else
        bad "setpriv (util-linux) is needed to check an unwritable directory as root"
    fi
fi
cli login
expect_rc 0 "login as uid $(${CLI_AS:-} id -u)"
chmod 500 "$(dirname "$TOKEN")"
codes=$(stat_of codes_issued)
cli login
expect_rc 8 "an unwritable token directory is refused"
check "... before a code is asked for" [ "$(stat_of codes_issued)" = "$codes" ]
check "... saying why" contains "$SCRATCH/err" "$(dirname "$TOKEN")"
chmod 700 "$(dirname "$TOKEN")"
CLI_AS=""
TDA_CLI=$cli_real
HOME_DIR=$home_before
TOKEN="$HOME_DIR/.config/trakt-device-auth/token.json"

echo "# status and token take the client id from the file"
set +e
env HOME="$HOME_DIR" XDG_CONFIG_HOME= TRAKT_CLIENT_ID= TRAKT_CLIENT_SECRET= \
    ${TDA_CLI_WRAP:-} "$TDA_CLI" status >"$SCRATCH/out" 2>"$SCRATCH/err" </dev/null
RC=$?
set -e
expect_rc 0 "status with neither client id nor secret"
check "... shows the client id recorded in the file" contains "$SCRATCH/out" "Client id:  test-id"

echo "# XDG_CONFIG_HOME and --token-file"
set +e
env HOME="$HOME_DIR" XDG_CONFIG_HOME="$HOME_DIR/xdg" TRAKT_CLIENT_ID=test-id \
    TRAKT_CLIENT_SECRET=test-secret TRAKT_OAUTH_URL="$EMU_URL" \
    ${TDA_CLI_WRAP:-} "$TDA_CLI" login >"$SCRATCH/out" 2>"$SCRATCH/err" </dev/null
RC=$?
set -e
expect_rc 0 "login with XDG_CONFIG_HOME set"
check "... saves under XDG_CONFIG_HOME" [ -f "$HOME_DIR/xdg/trakt-device-auth/token.json" ]
cli login --token-file "$HOME_DIR/elsewhere/t.json"
expect_rc 0 "login with --token-file"
check "... saves there" [ -f "$HOME_DIR/elsewhere/t.json" ]

finish
