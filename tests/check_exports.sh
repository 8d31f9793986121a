#!/bin/sh
# Compares the shared library's exported functions with the TDA_API
# declarations of the public header: nothing internal leaks out, nothing
# public is missing. Usage: check_exports.sh LIBRARY.so HEADER.h
set -eu
lib=$1 header=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u >"$tmp/exported"
sh "$(dirname "$0")/api_functions.sh" "$header" >"$tmp/declared"
if ! diff -u "$tmp/declared" "$tmp/exported"; then
    echo "exports: the library's exports differ from the header (- declared only, + exported only)"
    exit 1
fi
echo "exports: $(wc -l <"$tmp/declared") functions, all declared and exported"
echo "1 passed, 0 failed"
