#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Debian packages: builds libtraktdeviceauth1, libtraktdeviceauth-dev and
# trakt-device-auth with dpkg-buildpackage from a copy of the tracked files,
# fails on any lintian error, installs them, then checks them as a user would:
# the pkg-config and CMake consumers (tests/check_install.sh --installed /usr),
# man pages, and a login against the emulator with the installed programs
# (scripts/demo.sh). Removes them again at the end. Needs root; part of
# scripts/test.sh.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh deb
work=$(mktemp -d)
packages="libtraktdeviceauth1 libtraktdeviceauth-dev trakt-device-auth"
cleanup() {
    apt-get purge -y -qq $packages >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/src"
git ls-files -z | xargs -0 cp --parents -t "$work/src"
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
(cd "$work/src" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || {
    tail -n 50 "$work/build.log"
    exit 1
}
echo "built: $(cd "$work" && ls ./*.deb | tr '\n' ' ')"
lintian --fail-on error \
    "$work/traktdeviceauth_${version}_$(dpkg --print-architecture).changes"
echo "lintian: no errors"
apt-get install -y -qq "$work"/libtraktdeviceauth1_*.deb "$work"/libtraktdeviceauth-dev_*.deb \
    "$work"/trakt-device-auth_*.deb >/dev/null
sh tests/check_install.sh --installed /usr .
for page in trakt-device-auth trakt-oauth-emulator; do
    man -w "$page" >/dev/null
done
echo "man pages: installed"
TDA_DEMO_BIN=/usr/bin ./scripts/demo.sh >"$work/demo.log"
grep -q '^State: *valid' "$work/demo.log" || { cat "$work/demo.log"; exit 1; }
echo "installed packages: login, status and token against the emulator work"
