#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every tracked source file names its license, Apache-2.0 (LICENSE), in an
# SPDX line within its first three lines (below a #! line if it has one).
# Source here is what is compiled, run or drives the build: *.c *.h *.sh
# *.cmake CMakeLists.txt, the templates *.in, src/exports.map, *.js *.mjs
# and every executable file (.ci/run, debian/rules). Not data (fuzz/corpus/,
# abi/, *.json), documentation (*.md, the man pages, NEWS, LICENSE;
# debian/copyright gives the license of every file) or tools' settings
# (.clang-tidy, .gitignore, debian/control, scripts/cppcheck/*.cfg).
# Checks itself first on a scratch repository, so it cannot pass by
# looking at nothing. Needs git. Usage: check_spdx.sh SOURCE_DIR
set -eu
want="SPDX-License-Identifier: Apache-2.0"

missing() { # repository: each source file it tracks that lacks the line
    git -C "$1" ls-files -s | while read -r mode _ _ path; do
        case $path in
        fuzz/corpus/*) continue ;;
        *.c | *.h | *.sh | *.cmake | CMakeLists.txt | */CMakeLists.txt | *.in | *.map | *.js | *.mjs) ;;
        *) [ "$mode" = 100755 ] || continue ;;
        esac
        head -n 3 "$1/$path" | grep -qF "$want" || echo "$path"
    done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -c init.defaultBranch=main init -q "$tmp"
printf '/* %s */\nint a;\n' "$want" >"$tmp/with.c"
printf 'int b;\n' >"$tmp/without.c"
printf 'notes\n' >"$tmp/notes.md"
printf '#!/bin/sh\n# %s\n' "$want" >"$tmp/with"
printf '#!/bin/sh\necho\n' >"$tmp/without"
chmod +x "$tmp/with" "$tmp/without"
git -C "$tmp" add .
found=$(missing "$tmp" | tr '\n' ' ')
if [ "$found" != "without without.c " ]; then
    echo "FAILED: the check itself: on a scratch repository it found '$found'," \
        "not 'without without.c '"
    exit 1
fi

cd "$1"
if ! grep -q 'Apache License' LICENSE || ! grep -q 'Version 2.0' LICENSE; then
    echo "FAILED: LICENSE is no longer Apache 2.0: change the line this check wants"
    exit 1
fi
found=$(missing .)
if [ -n "$found" ]; then
    echo "FAILED: these tracked source files have no '$want' line near the top:"
    echo "$found" | sed 's/^/  /'
    exit 1
fi
echo "ok: every tracked source file has its SPDX line ($(git ls-files | wc -l) files tracked)"
