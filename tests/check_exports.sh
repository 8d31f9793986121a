#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Compares the shared library's exported symbols with the TDA_API function
# declarations of the public header: nothing internal leaks out (no function,
# no data, no weak symbol), nothing public is missing. With SOURCE_DIR, also
# that doc/symbols-in-versions names every exported function once, with a
# version no later than project()'s, and that the Debian symbols file of the
# library package lists the same names. With ARCHIVE (the static library),
# also that every name one of its objects gives another is either public or
# has the internal prefix tda__ (two underscores), so that what is API is seen
# at a glance, and that no tda__ name is exported.
# Usage: check_exports.sh LIBRARY.so HEADER.h [SOURCE_DIR [ARCHIVE.a]]
set -eu
lib=$1 header=$2 src=${3:-} archive=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Every defined dynamic symbol of any kind (T text, D/B/R data, W/V weak, i indirect...),
# except the version script's node (TRAKTDEVICEAUTH_0), an absolute symbol in capitals.
nm -D --defined-only "$lib" |
    awk '!($2 == "A" && $3 ~ /^[A-Z][A-Z0-9_]*$/) { sub(/@.*/, "", $3); print $3 }' |
    sort -u >"$tmp/exported"
sh "$(dirname "$0")/api_functions.sh" "$header" >"$tmp/declared"
if ! diff -u "$tmp/declared" "$tmp/exported"; then
    echo "exports: the library's exports differ from the header (- declared only, + exported only)"
    exit 1
fi
echo "exports: $(wc -l <"$tmp/declared") functions, all declared and exported, nothing else"
if [ -n "$archive" ]; then
    # Defined, non-local symbols of the objects (static functions are lower-case t/d/b).
    nm --defined-only "$archive" | awk 'NF == 3 && $2 ~ /^[A-Z]$/ { print $3 }' | sort -u >"$tmp/global"
    # gcc's own helpers for position-independent code on i386 (__x86.get_pc_thunk.bx...)
    # are hidden comdat copies in every object, not names of ours.
    misnamed=$(grep -v -e '^tda__' -e '^__x86\.get_pc_thunk\.' "$tmp/global" |
        comm -23 - "$tmp/declared" || true)
    if [ -n "$misnamed" ]; then
        echo "exports: names shared between files of src/ that are neither public nor tda__ (internal):"
        echo "$misnamed"
        exit 1
    fi
    echo "exports: $(grep -c '^tda__' "$tmp/global") internal names shared between files, all tda__"
fi
if [ -n "$src" ]; then
    project=$(sed -n 's/^project(traktdeviceauth VERSION \([0-9.]*\) .*/\1/p' "$src/CMakeLists.txt")
    list="$src/doc/symbols-in-versions"
    grep -v '^#' "$list" | awk 'NF' >"$tmp/listed"
    bad=$(awk -v p="$project" '
        function num(v, a) { split(v, a, "."); return a[1] * 10000 + a[2] * 100 + a[3] }
        NF != 2 || $2 !~ /^[0-9]+\.[0-9]+\.[0-9]+$/ || num($2) > num(p) { print FILENAME ":" NR ": " $0 }
    ' "$tmp/listed")
    if [ -n "$bad" ]; then
        echo "exports: lines of $list that are not 'name version' with a version up to $project:"
        echo "$bad"
        exit 1
    fi
    cut -d' ' -f1 "$tmp/listed" | sort >"$tmp/listed_names"
    if ! diff -u "$tmp/exported" "$tmp/listed_names"; then
        echo "exports: $list differs from the exports (- exported only, + listed only, or twice)"
        exit 1
    fi
    symbols=$(ls "$src"/debian/libtraktdeviceauth*.symbols)
    sed -n 's/^ \([a-z_0-9]*\)@.*/\1/p' "$symbols" | sort >"$tmp/debian"
    if ! diff -u "$tmp/exported" "$tmp/debian"; then
        echo "exports: $symbols differs from the exports (- exported only, + listed only)"
        exit 1
    fi
    echo "exports: $list and $(basename "$symbols") list each of them"
fi
echo "1 passed, 0 failed"
