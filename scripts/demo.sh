#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The main job, offline: build, start the bundled emulator (its simulated
# user approves 3 seconds after the code appears), then the whole story with
# the command-line tool: login, status, token. Installs what it needs first.
# The token goes to build/demo/token.json, never to your real token file.
# With TDA_DEMO_BIN=/usr/bin it uses the programs installed there (the Debian
# packages: scripts/deb.sh) instead of building them.
set -eu
cd "$(dirname "$0")/.."
bin=${TDA_DEMO_BIN:-build/demo}
if [ -z "${TDA_DEMO_BIN:-}" ]; then
    ./scripts/deps.sh
    cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTDA_BUILD_TESTS=OFF >/dev/null
    cmake --build build/demo -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
fi
mkdir -p build/demo

fifo=$(mktemp -u)
mkfifo "$fifo"
"$bin/trakt-oauth-emulator" --port 0 --interval 1 --approve-after 3 \
    --client-id demo-client --quiet >"$fifo" &
emulator=$!
trap 'kill $emulator 2>/dev/null; rm -f "$fifo"' EXIT INT TERM
read -r line <"$fifo"
url=${line#listening on }
echo "emulator: $url (its simulated user approves 3 s after the code is shown)"

export TRAKT_CLIENT_ID=demo-client TRAKT_OAUTH_URL="$url" # no secret: Trakt's advice for apps
export TRAKT_TOKEN_FILE="$PWD/build/demo/token.json"
rm -f "$TRAKT_TOKEN_FILE"
cli=$bin/trakt-device-auth

echo; echo "\$ trakt-device-auth login"
$cli login
echo; echo "\$ trakt-device-auth status"
$cli status
echo; echo "\$ trakt-device-auth token"
$cli token
