#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every file path that a comment, a script or a document names must exist,
# so that a reader sent to "src/status_rules.c" or "tests/it_faults.c" finds it.
# Checked, in every tracked text file:
#  - paths under the repository's top-level directories (src/, tests/, doc/,
#    ...), relative to the top or to the naming file's directory, globs too
#    (tests/unit_*.c); a path git ignores (build output, node_modules) or a
#    program built from NAME.c counts as existing;
#  - bare file names ("poll.c", "state.h", "lib.sh", "FAULTS.md") in the
#    comments of C sources, shell scripts and CMake files, and anywhere in the
#    documents (README.md, NEWS, doc/, every *.md, the man pages): some
#    tracked file must have that name (or NAME.in, for a generated header).
#    Not file names of the repository: a system header in <...>, a
#    placeholder in capitals (NAME.c, HEADER.h), and the names in
#    $not_ours below, each with its reason.
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
# Names that are not the repository's files: app.c is the reader's own
# program in the build commands of README.md and traktdeviceauth(3).
not_ours="app.c"
# Recorded data (the ABI dump, fuzz corpora, a lock file) names no paths;
# check_paths_fails.sh names the files of the scratch repository it makes.
grep -vE '^(abi/|fuzz/corpus/|LICENSE$|bench/trakt_npm/package-lock.json$|tests/check_paths_fails.sh$)' "$tmp/tracked" |
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
    # The text in which bare names are looked for: comments, or a whole document.
    case "$file" in
    *.c | *.h)
        perl -0777 -ne 'while (m{/\*(.*?)\*/|//([^\n]*)}gs) { print defined $1 ? $1 : $2, "\n" }' "$file" ;;
    *.sh | CMakeLists.txt | */CMakeLists.txt | *.cmake)
        perl -ne 'print "$1\n" if m{(?:^|\s)#(.*)}' "$file" ;;
    README.md | NEWS | doc/* | *.md) cat "$file" ;;
    *) continue ;;
    esac | perl -ne 'while (m{(?<![\w./<\$-])([A-Za-z][\w+-]*\.(?:c|h|sh|md|mjs|cmake))(?![\w/-])}g) {
            my $n = $1; print "$n\n" unless $n =~ m{^[A-Z_]+\.(?:c|h|sh)$} }' |
        sort -u | while IFS= read -r name; do
        grep -qxF "$name" "$tmp/names" && continue
        case " $not_ours " in *" $name "*) continue ;; esac
        echo "FAILED: $file names '$name', which is no file of the repository"
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
