#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# check_paths.sh can fail: in a small repository of its own, each kind of
# broken reference it looks for must be named, the references that are fine
# must not be, and once the broken ones are fixed it must pass.
# Usage: check_paths_fails.sh SOURCE_DIR
set -eu
check="$1/tests/check_paths.sh"
repo=$(mktemp -d)
trap 'rm -rf "$repo"' EXIT
cd "$repo"
git init -q .
mkdir -p src tests/cli doc
printf '/* Uses helper.h and src/util.c, as src/gone.c and gone.h did. */\n' >src/main.c
printf '/* helpers */\n' >src/helper.h
printf 'int util;\n' >src/util.c
printf '# Sourced by the tests (tests/cli/lib.sh, missing.sh); not /tmp/src/x.c.\n' >tests/cli/a.sh
printf '# The library (CMakeLists.txt) builds src/util.c and src/old.c.\n' >CMakeLists.txt
printf 'See doc/FAULTS.md, NOPE.md, `#include <stdio.h>`, cc app.c, NAME.c.\n' >README.md
printf 'The man page: doc/missing.1.\n' >doc/FAULTS.md
git add .
ok=1
out=$(sh "$check" "$repo" 2>&1) && {
    echo "FAILED: check_paths.sh passed a repository with broken references"
    ok=0
}
for want in "src/main.c names 'src/gone.c'" "src/main.c names 'gone.h'" \
    "tests/cli/a.sh names 'tests/cli/lib.sh'" "tests/cli/a.sh names 'missing.sh'" \
    "CMakeLists.txt names 'src/old.c'" "README.md names 'NOPE.md'" \
    "doc/FAULTS.md names 'doc/missing.1'"; do
    case "$out" in
    *"$want"*) echo "ok: it found: $want" ;;
    *) echo "FAILED: it did not find: $want"; ok=0 ;;
    esac
done
for fine in helper.h src/util.c doc/FAULTS.md stdio.h app.c NAME.c /tmp/src/x.c x.c; do
    case "$out" in
    *"names '$fine'"*) echo "FAILED: it flagged '$fine', which is fine"; ok=0 ;;
    esac
done
# Fixed: every name now exists, so the check passes.
printf '/* Uses helper.h and src/util.c. */\n' >src/main.c
printf '# Sourced by the tests; not /tmp/src/x.c.\n' >tests/cli/a.sh
printf '# The library (CMakeLists.txt) builds src/util.c.\n' >CMakeLists.txt
printf 'See doc/FAULTS.md, `#include <stdio.h>`, cc app.c, NAME.c.\n' >README.md
printf 'No page.\n' >doc/FAULTS.md
if sh "$check" "$repo" >/dev/null 2>&1; then
    echo "ok: it passes once the references are fixed"
else
    echo "FAILED: it still fails after the references were fixed:"
    sh "$check" "$repo" || true
    ok=0
fi
if [ "$ok" = 1 ]; then
    echo "1 passed, 0 failed"
    exit 0
fi
echo "0 passed, 1 failed"
exit 1
