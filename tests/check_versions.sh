#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The version is written in project() (CMakeLists.txt); the release notes
# (NEWS) and the Debian changelog must name the same one at their top, so a
# release cannot go out with one of them behind.
# Usage: check_versions.sh SOURCE_DIR
set -eu
src=$1
project=$(sed -n 's/^project(traktdeviceauth VERSION \([0-9.]*\) .*/\1/p' "$src/CMakeLists.txt")
news=$(grep -m 1 -E '^[0-9]+\.[0-9]+\.[0-9]+ \(' "$src/NEWS" | cut -d' ' -f1)
debian=$(sed -n '1s/^traktdeviceauth (\([^)-]*\)[^)]*).*/\1/p' "$src/debian/changelog")
fail=0
for pair in "NEWS:$news" "debian/changelog:$debian"; do
    if [ "${pair#*:}" = "$project" ]; then
        echo "ok: ${pair%%:*} names $project, as project() does"
    else
        echo "FAILED: ${pair%%:*} names '${pair#*:}', project() in CMakeLists.txt says '$project'"
        fail=1
    fi
done
exit $fail
