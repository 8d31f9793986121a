#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The public functions of a header: its TDA_API declarations, which is what
# the export test (check_exports.sh) and the man(3) test (check_man3.sh)
# compare the library and the pages with.
# Usage: api_functions.sh HEADER               names, sorted, one a line
#        api_functions.sh --prototypes HEADER  "name<TAB>declaration" with the
#                                              declaration on one line, TDA_API
#                                              dropped and white space squeezed
set -eu
mode=names
if [ "$1" = --prototypes ]; then
    mode=prototypes
    shift
fi
[ -r "$1" ] || { echo "api_functions.sh: cannot read $1" >&2; exit 1; }
grep -q '^TDA_API' "$1" || { echo "api_functions.sh: no TDA_API declaration in $1" >&2; exit 1; }
# A declaration runs from "TDA_API" to its ";", possibly over several lines;
# "#" lines (the TDA_API macro's own definition) are no declarations.
grep -v '^#' "$1" | tr '\n\t' '  ' | grep -o 'TDA_API[^;]*;' |
    sed 's/  */ /g; s/^TDA_API //; s/( /(/g; s/ )/)/g' |
    while IFS= read -r decl; do
        name=$(printf '%s\n' "$decl" | sed 's/(.*//; s/.*[ *]//')
        if [ "$mode" = names ]; then
            printf '%s\n' "$name"
        else
            printf '%s\t%s\n' "$name" "$decl"
        fi
    done | sort -u
