#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TLS from the command line: against the emulator serving https with a
# self-signed certificate, login is refused (exit 7) with a message that says
# how to trust a private CA, and succeeds with --ca-file or TRAKT_CA_FILE; an
# unreadable CA file is a usage error.
set -e
. "$(dirname "$0")/lib.sh"

cert="$SCRATCH/cert.pem"
key="$SCRATCH/key.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=traktdeviceauth-test -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$key" -out "$cert" 2>/dev/null

start_emulator --tls-cert "$cert" --tls-key "$key" --interval 0.1 --approve-after-polls 0
check "the emulator serves https" [ "${EMU_URL#https://}" != "$EMU_URL" ]

new_home
cli login
expect_rc 7 "login to a self-signed server"
check "... names the certificate problem" contains "$SCRATCH/err" "certificate"
check "... says how to trust a private CA" contains "$SCRATCH/err" "\-\-ca-file"
check "... saves no token" [ ! -e "$TOKEN" ]

cli --ca-file "$cert" login
expect_rc 0 "login with --ca-file"
check "... saves the token" [ -s "$TOKEN" ]

set +e
env HOME="$HOME_DIR" XDG_CONFIG_HOME= TRAKT_TOKEN_FILE= TRAKT_CLIENT_ID=test-id \
    TRAKT_CLIENT_SECRET=test-secret TRAKT_OAUTH_URL="$EMU_URL" TRAKT_CA_FILE="$cert" \
    ${TDA_CLI_WRAP:-} "$TDA_CLI" refresh >"$SCRATCH/out" 2>"$SCRATCH/err" </dev/null
RC=$?
set -e
expect_rc 0 "refresh with TRAKT_CA_FILE"

cli --ca-file "$SCRATCH/missing.pem" refresh
expect_rc 2 "a missing CA file"
check "... is named in the error" contains "$SCRATCH/err" "missing.pem"

finish
