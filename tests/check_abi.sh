#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The shared library's ABI against the committed baseline (abi/, made by
# libabigail's abidw from the public headers only):
#  - an incompatible change (a removed function, a changed signature or struct
#    layout) fails unless the SOVERSION changed too;
#  - a compatible change (a new function) fails until the baseline is
#    refreshed, so that the baseline always describes the current API.
# Usage: check_abi.sh LIBRARY.so SOURCE_DIR GENERATED_INCLUDE_DIR [--update]
# (ctest runs it when configured with -DTDA_ABI_CHECK=ON, as scripts/test.sh does)
set -eu
lib=$1 src=$2 gen=$3
baseline="$src/abi/libtraktdeviceauth.abi"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/headers"
cp "$src/include/traktdeviceauth.h" "$gen/traktdeviceauth_version.h" "$tmp/headers/"
abidw --no-corpus-path --no-comp-dir-path --headers-dir "$tmp/headers" --drop-private-types --out-file "$tmp/now.abi" "$lib"
if [ "${4:-}" = --update ]; then
    cp "$tmp/now.abi" "$baseline"
    echo "abi: baseline $baseline refreshed"
    exit 0
fi
if [ ! -f "$baseline" ]; then
    echo "FAILED: no ABI baseline at $baseline (make it with: sh $0 $lib $src $gen --update)"
    exit 1
fi
# abidiff sets bit 8 only for changes it knows to break (a removed function);
# a changed struct layout or signature sets bit 4, as added functions do. So
# changes other than additions are found by asking again without additions.
rc=0
abidiff --no-show-locs "$baseline" "$tmp/now.abi" >"$tmp/report" || rc=$?
changed=0
abidiff --no-show-locs --no-added-syms "$baseline" "$tmp/now.abi" >/dev/null || changed=$?
if [ $((rc & 3)) -ne 0 ] || [ $((changed & 3)) -ne 0 ]; then
    cat "$tmp/report"
    echo "FAILED: abidiff could not compare (exit $rc)"
    exit 1
fi
soname_then=$(sed -n 's/.*soname=.\([^"'\'']*\).*/\1/p' "$baseline" | head -n 1)
soname_now=$(sed -n 's/.*soname=.\([^"'\'']*\).*/\1/p' "$tmp/now.abi" | head -n 1)
if [ "$changed" -ne 0 ]; then
    cat "$tmp/report"
    if [ "$soname_then" = "$soname_now" ]; then
        echo "FAILED: an incompatible ABI change while the SONAME stays $soname_now: bump TDA_SOVERSION in CMakeLists.txt (or undo the change), then refresh abi/"
        exit 1
    fi
    echo "FAILED: the ABI broke and the SONAME moved from $soname_then to $soname_now: refresh abi/ in the same commit (sh $0 $lib $src $gen --update)"
    exit 1
fi
if [ "$rc" -ne 0 ]; then
    cat "$tmp/report"
    echo "FAILED: the ABI grew compatibly (functions added), but abi/ does not describe it yet: refresh it (sh $0 $lib $src $gen --update) and commit it"
    exit 1
fi
echo "abi: $soname_now matches the baseline"
echo "1 passed, 0 failed"
