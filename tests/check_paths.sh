#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every file path that a comment, a script or a document names must exist,
# so that a reader sent to "src/status_rules.c" or "tests/it_faults.c" finds it.
# Checked, in every tracked text file:
#  - paths under the repository's top-level directories (src/, tests/, doc/,
#    ...), relative to the top or to the naming file's directory, globs too
#    (tests/unit_*.c); a path git ignores (build output, node_modules) or a
#    program built from NAME.c counts as existing;
#  - in C sources' comments, bare names of C files and headers ("poll.c",
#    "emu.h"): some tracked file must have that name (or NAME.in, for a
#    generated header).
# Usage: check_paths.sh SOURCE_DIR
set -eu
cd "$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git ls-files >"$tmp/tracked"
{ sed 's|.*/||' "$tmp/tracked"; sed -n 's|.*/||; s|\.in$||p' "$tmp/tracked"; } | sort -u >"$tmp/names"
: >"$tmp/bad"
exists() { # path, naming file's directory
    for p in "$1" "$2/$1"; do
        [ -n "$(git ls-files -- "$p" "$p.c" | head -n 1)" ] && return 0
        [ -e "$p" ] && git check-ignore -q "$p" && return 0
        git check-ignore -q --no-index "$p/" 2>/dev/null && return 0 # an ignored directory
    done
    return 1
}
# Recorded data (the ABI dump, fuzz corpora, a lock file) names no paths.
grep -vE '^(abi/|fuzz/corpus/|LICENSE$|bench/trakt_npm/package-lock.json$)' "$tmp/tracked" |
while IFS= read -r file; do
    grep -Iq . "$file" 2>/dev/null || continue
    here=$(dirname "$file")
    # A path starts after a character that cannot be part of a word, a path
    # or a shell variable ("$src/x" is another directory's x).
    perl -ne 'while (m{(?<![\w./\$\}-])((?:src|tests|tools|doc|include|bench|scripts|examples|fuzz|cmake|debian|abi|\.ci)/[\w.*+/-]*[\w*/])}g) { print "$1\n" }' "$file" |
        sort -u | while IFS= read -r path; do
        exists "$path" "$here" && continue
        echo "FAILED: $file names '$path', which does not exist"
        echo x >>"$tmp/bad"
    done
    case "$file" in *.c | *.h) ;; *) continue ;; esac
    # Comments only: /* ... */ blocks and // lines.
    perl -0777 -ne 'while (m{/\*(.*?)\*/|//([^\n]*)}gs) { my $c = defined $1 ? $1 : $2;
        while ($c =~ m{(?<![\w./-])([a-z][a-z0-9_]*\.[ch])(?![\w])}g) { print "$1\n" } }' "$file" |
        sort -u | while IFS= read -r name; do
        grep -qxF "$name" "$tmp/names" && continue
        echo "FAILED: a comment in $file names '$name', which is no file of the repository"
        echo x >>"$tmp/bad"
    done
done
n=$(wc -l <"$tmp/tracked")
if [ -s "$tmp/bad" ]; then
    echo "$(wc -l <"$tmp/bad") paths named in the repository's $n files do not exist"
    exit 1
fi
echo "paths: every path named in the repository's $n files exists"
echo "1 passed, 0 failed"
