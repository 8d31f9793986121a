#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every command with the client id alone, as Trakt now advises for apps on
# users' devices: no secret in the environment or on the command line, and an
# emulator that models a public app (no --client-secret). Its request log
# shows that no request carried a client_secret. Then an app Trakt still asks
# for its secret (--require-secret): exit 7, with a message that says how to
# give it; a refresh token Trakt no longer knows ("session not found"); and
# --redirect-uri.
set -e
. "$(dirname "$0")/lib.sh"

# pcli ARGS...: as cli, with no TRAKT_CLIENT_SECRET in the environment at all.
pcli() {
    set +e
    env -u TRAKT_CLIENT_SECRET HOME="$HOME_DIR" XDG_CONFIG_HOME= TRAKT_TOKEN_FILE= \
        TRAKT_CLIENT_ID=test-id TRAKT_OAUTH_URL="$EMU_URL" \
        ${TDA_CLI_WRAP:-} "$TDA_CLI" "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" </dev/null
    RC=$?
    set -e
}

echo "# a public app: every command, no secret anywhere"
EMU_SECRET_ARGS= start_emulator --interval 0.2 --approve-after-polls 0 --token-life 50 \
    --log "$SCRATCH/public.log"
new_home
pcli login
expect_rc 0 "login with the client id alone"
check "the token was saved" [ -f "$TOKEN" ]
pcli status
expect_rc 0 "status"
pcli token
expect_rc 0 "token (refreshing: a 50 s token is always in its last minute)"
check "... refreshed without a secret" [ "$(stat_of refreshes)" = 1 ]
check "... and printed the new token" [ "$(cat "$SCRATCH/out")" = "$(json_field "$TOKEN" access_token)" ]
pcli refresh --verbose
expect_rc 0 "refresh"
check "... sent the default redirect_uri" contains "$SCRATCH/err" '"redirect_uri":"urn:ietf:wg:oauth:2.0:oob"'
check "... and no client_secret member" sh -c "! grep -q client_secret '$SCRATCH/err'"
pcli refresh --verbose --redirect-uri https://myapp.example/done
expect_rc 0 "refresh with --redirect-uri"
check "... sent it" contains "$SCRATCH/err" '"redirect_uri":"https://myapp.example/done"'
set +e
env -u TRAKT_CLIENT_SECRET HOME="$HOME_DIR" XDG_CONFIG_HOME= TRAKT_CLIENT_ID=test-id \
    TRAKT_OAUTH_URL="$EMU_URL" TRAKT_REDIRECT_URI="$(printf 'bad\tvalue')" \
    ${TDA_CLI_WRAP:-} "$TDA_CLI" refresh >"$SCRATCH/out" 2>"$SCRATCH/err" </dev/null
RC=$?
set -e
expect_rc 2 "an unusable TRAKT_REDIRECT_URI"
check "... says so" contains "$SCRATCH/err" "redirect URI"
pcli login --json
expect_rc 0 "login --json"
check "... the QR code is the verification URL exactly" \
    contains "$SCRATCH/out" "\"verification_url\":\"$EMU_URL/activate\",\"qr_url\":\"$EMU_URL/activate\","
pcli revoke
expect_rc 0 "revoke"
check "revoke reached the server" [ "$(stat_of revokes)" = 1 ]
check "the emulator counted no secret" [ "$(stat_of secrets_sent)" = 0 ]
check "its log shows no request with a secret" sh -c "! grep -q 'secret=yes' '$SCRATCH/public.log'"
for path in /oauth/device/code /oauth/device/token /oauth/token /oauth/revoke; do
    check "its log shows $path without a secret" grep -q "POST $path [0-9]* secret=no" "$SCRATCH/public.log"
done

echo "# an app Trakt still asks for its secret"
start_emulator --interval 0.2 --approve-after-polls 0 --require-secret
new_home
pcli login
expect_rc 7 "login without the secret an app still needs"
check "... says no secret was sent" contains "$SCRATCH/err" "no client secret was sent"
check "... and how to give it" contains "$SCRATCH/err" "TRAKT_CLIENT_SECRET, --client-secret-file or --ask-secret"
check "... and no token file was made" [ ! -e "$TOKEN" ]
cli login
expect_rc 0 "login with TRAKT_CLIENT_SECRET"
pcli refresh
expect_rc 7 "refresh without it"
check "... says how to give it" contains "$SCRATCH/err" "--ask-secret"
check "... and keeps the token file" [ -f "$TOKEN" ]
printf 'test-secret\n' >"$SCRATCH/secret"
chmod 600 "$SCRATCH/secret"
pcli refresh --client-secret-file "$SCRATCH/secret"
expect_rc 0 "refresh with --client-secret-file"

echo "# a refresh token from before Trakt's migration"
EMU_SECRET_ARGS= start_emulator --interval 0.2 --approve-after-polls 0 \
    --fault "refresh:1:400:error=invalid_grant:description=session not found"
new_home
pcli login
before=$(cat "$TOKEN")
pcli refresh
expect_rc 6 "Trakt answers invalid_grant, session not found"
check "... its description is shown" contains "$SCRATCH/err" '"session not found"'
check "... the message says why" contains "$SCRATCH/err" "before Trakt's July 2026 migration"
check "... and to log in once more" contains "$SCRATCH/err" "run 'trakt-device-auth login' once more"
check "... and the token file is kept" [ "$(cat "$TOKEN")" = "$before" ]

finish
