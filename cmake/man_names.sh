#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The names a man page's NAME section gives ("a, b, c \- what they do"), one
# "PAGE NAME" line each, PAGE being the file name without its directory.
# CMakeLists.txt makes a .so link page from each name that is not its page's
# own (so "man tda_client_set_user_agent" finds tda_client_new(3)), and
# tests/check_man3.sh compares them with the header's functions: one reader
# of NAME sections for both. Usage: man_names.sh PAGE...
set -eu
for page in "$@"; do
    [ -r "$page" ] || { echo "man_names.sh: cannot read $page" >&2; exit 1; }
    awk -v page="${page##*/}" '
        /^\.SH/ {
            if (in_name) exit
            if ($0 ~ /^\.SH +"?NAME"? *$/) in_name = 1
            next
        }
        in_name && !/^\./ { text = text " " $0 }
        END {
            sub(/\\-.*/, "", text) # the names end at "\-"
            gsub(/\\&/, "", text)
            gsub(/,/, " ", text)
            n = split(text, names, " ")
            for (i = 1; i <= n; i++) print page, names[i]
        }' "$page"
done
