#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One code style for the whole repository, the one .clang-format sets down.
#   ./scripts/format.sh          reformats every tracked .c and .h in place
#   ./scripts/format.sh --check  changes nothing; fails, naming each line
#                                clang-format would change (scripts/test.sh
#                                runs this in every mode)
# Left alone: nothing today. The tree holds no third-party or generated C:
# the one generated header is made at build time from
# cmake/traktdeviceauth_version.h.in, which is not a .h. A file that must
# stay as it is would be added to $keep_out below, with its reason; a few
# lines that must (a braced initializer in a macro) are fenced in their
# file by clang-format off/on comments that say why.
set -eu
cd "$(dirname "$0")/.."
# git pathspecs of files clang-format must not touch, each as ':!PATH'.
keep_out=""
if command -v clang-format-14 >/dev/null 2>&1; then
    cf=clang-format-14
elif command -v clang-format >/dev/null 2>&1; then
    cf=clang-format
else
    echo "format: clang-format is missing (./scripts/deps.sh test installs it)" >&2
    exit 1
fi
# shellcheck disable=SC2086
count=$(git ls-files -- '*.c' '*.h' $keep_out | wc -l)
case "${1:-}" in
--check)
    # shellcheck disable=SC2086
    if ! git ls-files -z -- '*.c' '*.h' $keep_out | xargs -0 "$cf" --dry-run -Werror; then
        echo "format: the lines above are not as .clang-format says; ./scripts/format.sh fixes them" >&2
        exit 1
    fi
    echo "format: all $count .c and .h files as .clang-format says ($($cf --version))"
    ;;
"")
    # shellcheck disable=SC2086
    git ls-files -z -- '*.c' '*.h' $keep_out | xargs -0 "$cf" -i
    echo "format: $count .c and .h files formatted"
    ;;
*)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
