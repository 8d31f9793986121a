#!/bin/sh
# Compares the shared library's exported symbols with the TDA_API function
# declarations of the public header: nothing internal leaks out (no function,
# no data, no weak symbol), nothing public is missing.
# Usage: check_exports.sh LIBRARY.so HEADER.h
set -eu
lib=$1 header=$2
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
echo "1 passed, 0 failed"
