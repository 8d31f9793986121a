#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages needed to build traktdeviceauth (no argument),
# only when one is missing. With an argument, also:
#   test   valgrind, clang for the fuzzers, tmux for the terminal view,
#          zbar-tools to read its QR code back, Chromium and ChromeDriver for
#          the browser test, openssl for the TLS tests' certificates,
#          abigail-tools for the ABI check, groff and man-db for the man(3)
#          pages (rendered; found by man after install), faketime for the
#          wrong-clock tests, postgresql and libpq-dev for the PostgreSQL
#          store's tests, which start a server of their own (a plain build
#          without libpq-dev leaves that store out), clang-format for the
#          code style check (scripts/format.sh --check);
#   cross  the i386 and arm64 builds: cross compilers, qemu-user-static and the
#          libraries of both architectures (added to dpkg first), and the i386
#          libfaketime, which the wrong-clock tests preload into the i386 CLI
#          (an amd64 one would be ignored by its ld.so);
#   deb    the Debian packages: dpkg-dev, debhelper, lintian, man-db;
#   analyze  static analysis: clang-tidy (run-clang-tidy comes with it), cppcheck,
#          gcc's -fanalyzer (build-essential), libpq-dev so that the PostgreSQL
#          store is analyzed too.
# Needs root (or sudo).
set -eu
packages="build-essential cmake pkg-config libcurl4-openssl-dev libjansson-dev
libmicrohttpd-dev libcmocka-dev libqrencode-dev libuv1-dev libglib2.0-dev curl"
# The libraries again for another architecture (Debian multiarch), for the
# 32-bit and arm64 builds of scripts/cross.sh.
cross_libs="libc6-dev libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev libqrencode-dev
libcmocka-dev libuv1-dev libglib2.0-dev"
if [ "${1:-}" = test ]; then
    packages="$packages valgrind clang tmux zbar-tools nodejs chromium chromium-driver openssl
abigail-tools groff-base man-db faketime postgresql libpq-dev clang-format"
fi
if [ "${1:-}" = analyze ]; then
    # libpq-dev: without it the PostgreSQL store is not built, so not analyzed.
    packages="$packages clang-tidy cppcheck libpq-dev"
fi
if [ "${1:-}" = deb ]; then
    packages="$packages dpkg-dev debhelper lintian man-db libpq-dev"
fi
if [ "${1:-}" = cross ]; then
    packages="gcc-i686-linux-gnu crossbuild-essential-arm64 qemu-user-static file"
    for arch in i386 arm64; do
        for lib in $cross_libs; do packages="$packages $lib:$arch"; done
    done
    packages="$packages libfaketime:i386"
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
if [ "${1:-}" = cross ]; then
    for arch in i386 arm64; do
        dpkg --print-foreign-architectures | grep -qx "$arch" || $SUDO dpkg --add-architecture "$arch"
    done
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
