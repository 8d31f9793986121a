#!/bin/sh
# Installs the Debian packages needed to build traktdeviceauth (no argument)
# or to build and test it ("test": adds valgrind, clang for the fuzzers, tmux
# for the terminal view, Chromium and ChromeDriver for the browser test, openssl
# for the TLS tests' certificates, faketime for the wrong-clock tests, PostgreSQL
# and libpq for the PostgreSQL store's tests, which start a server of their own),
# only when one is missing. libpq-dev is optional for a plain build: without it
# the PostgreSQL store is left out.
# Needs root (or sudo).
set -eu
packages="build-essential cmake pkg-config libcurl4-openssl-dev libjansson-dev
libmicrohttpd-dev libcmocka-dev libqrencode-dev libuv1-dev curl"
if [ "${1:-}" = test ]; then
    packages="$packages valgrind clang tmux nodejs chromium chromium-driver openssl faketime
    postgresql libpq-dev"
fi
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "error: missing packages:$missing; install them as root (apt-get install$missing)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
