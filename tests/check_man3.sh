#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The man(3) pages against the public header: every public function (a
# TDA_API declaration) is named in the NAME section of exactly one page, and
# every name there is a public function; each page shows the header's exact
# prototype of every function it names in its SYNOPSIS, mentions no tda_ or
# TDA_ identifier the headers do not have, carries the version line CMake
# fills in, and renders with no groff warning and no line over 80 columns.
# Usage: check_man3.sh HEADER VERSION_HEADER_IN MAN3_DIR
#   (include/traktdeviceauth.h cmake/traktdeviceauth_version.h.in doc/man3)
set -eu
header=$1 version_header=$2 dir=$3
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() {
    echo "man3: $*"
    failed=$((failed + 1))
}
if ! command -v groff >/dev/null; then
    echo "man3: groff is missing (apt-get install groff-base)"
    exit 1
fi

sh "$here/api_functions.sh" "$header" >"$tmp/functions"
sh "$here/api_functions.sh" --prototypes "$header" >"$tmp/prototypes"
set -- "$dir"/*.3
[ -e "$1" ] || { echo "man3: no pages in $dir"; exit 1; }
sh "$here/../cmake/man_names.sh" "$@" >"$tmp/names" # "page name" lines
for page in "$@"; do basename "$page" .3; done >"$tmp/pages"

# The C code of the headers without comments: the identifiers a page may use.
strip_comments() {
    awk '{
        line = $0; out = ""
        while (line != "") {
            if (in_comment) {
                end = index(line, "*/")
                if (!end) { line = ""; break }
                line = substr(line, end + 2); in_comment = 0
            } else {
                start = index(line, "/*")
                if (!start) { out = out line; break }
                out = out substr(line, 1, start - 1) " "
                line = substr(line, start + 2); in_comment = 1
            }
        }
        print out
    }' "$@"
}
strip_comments "$header" "$version_header" | grep -o 'tda_[a-z0-9_]*' | sort -u >"$tmp/known_lower"
cat "$tmp/pages" >>"$tmp/known_lower"
# The statuses are rows X(NAME, value, kind, message) of TDA_STATUS_MAP, which makes TDA_NAME.
{
    strip_comments "$header" "$version_header" | grep -o 'TDA_[A-Z0-9_]*'
    strip_comments "$header" | grep -o '^ *X([A-Z0-9_]*,' | sed 's/^ *X(\([A-Z0-9_]*\),/TDA_\1/'
} | sort -u >"$tmp/known_upper"

# Every public function has a page, and only one.
while IFS= read -r fn; do
    pages=$(awk -v fn="$fn" '$2 == fn { printf "%s ", $1 }' "$tmp/names")
    case $pages in
    "") bad "$fn has no man page: name it in the NAME section of a page in $dir" ;;
    *" "*" "*) bad "$fn is named by several pages: ${pages% }" ;;
    *) ok ;;
    esac
done <"$tmp/functions"

# The overview names itself; every other page names public functions only.
for page in "$@"; do
    file=${page##*/}
    names=$(awk -v p="$file" '$1 == p { print $2 }' "$tmp/names")
    if [ "$file" = traktdeviceauth.3 ]; then
        if [ "$names" = traktdeviceauth ]; then
            ok
        else
            bad "traktdeviceauth.3: its NAME section must name only traktdeviceauth, not: $names"
        fi
        continue
    fi
    if [ -n "$names" ]; then
        ok
    else
        bad "$file: no names in its NAME section (\"a, b \\- what they do\")"
    fi
    for name in $names; do
        if grep -qx -- "$name" "$tmp/functions"; then
            ok
        else
            bad "$file names $name, which is no public function" \
                "(no TDA_API declaration of it in $header)"
        fi
    done
done

for page in "$@"; do
    file=${page##*/}
    title=$(basename "$file" .3 | tr '[:lower:]' '[:upper:]')
    th="\"traktdeviceauth @PROJECT_VERSION@\" \"Library Functions Manual\""
    if head -n 1 "$page" | grep -qx -- "\.TH $title 3 [0-9-]* $th"; then
        ok
    else
        bad "$file: the first line must be .TH $title 3 DATE $th"
    fi
    # groff -ww: every warning, as man --warnings and lintian see them.
    if groff -man -Tutf8 -ww -z "$page" >"$tmp/warnings" 2>&1 && [ ! -s "$tmp/warnings" ]; then
        ok
    else
        bad "$file: groff warns: $(head -n 3 "$tmp/warnings")"
    fi
    groff -man -Tascii -P-cbou "$page" 2>/dev/null >"$tmp/text"
    long=$(awk 'length > 80 { print; exit }' "$tmp/text")
    if [ -z "$long" ]; then
        ok
    else
        bad "$file: a line renders wider than 80 columns: $long"
    fi
    # The SYNOPSIS as rendered, on one line, spaced as api_functions.sh spaces declarations.
    awk '/^SYNOPSIS$/ { on = 1; next } /^[A-Z]/ { on = 0 } on' "$tmp/text" | tr '\n' ' ' |
        sed 's/  */ /g; s/( /(/g; s/ )/)/g' >"$tmp/synopsis"
    if grep -qF '#include <traktdeviceauth.h>' "$tmp/synopsis"; then
        ok
    else
        bad "$file: its SYNOPSIS lacks #include <traktdeviceauth.h>"
    fi
    for name in $(awk -v p="$file" '$1 == p { print $2 }' "$tmp/names"); do
        decl=$(awk -F '\t' -v fn="$name" '$1 == fn { print $2 }' "$tmp/prototypes")
        [ -n "$decl" ] || continue # reported above
        if grep -qF -- "$decl" "$tmp/synopsis"; then
            ok
        else
            bad "$file: its SYNOPSIS lacks the header's declaration: $decl"
        fi
    done
    # Identifiers: the title and roff comments aside, each must exist (a prefix
    # such as "tda_multi_" must begin some function's name).
    grep -v -e '^\.\\"' -e '^\.TH ' "$page" >"$tmp/source"
    for word in $(grep -o 'tda_[a-z0-9_]*' "$tmp/source" | sort -u); do
        case $word in
        *_) known=$(grep -c "^$word" "$tmp/functions" || true) ;;
        *) known=$(grep -cx -- "$word" "$tmp/known_lower" || true) ;;
        esac
        if [ "$known" -gt 0 ]; then
            ok
        else
            bad "$file mentions $word, which the headers do not declare"
        fi
    done
    for word in $(grep -o 'TDA_[A-Z0-9_]*' "$tmp/source" | sort -u); do
        if grep -qx -- "$word" "$tmp/known_upper"; then
            ok
        else
            bad "$file mentions $word, which the headers do not define"
        fi
    done
done

echo "man3: $(wc -l <"$tmp/functions") functions, $# pages"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
