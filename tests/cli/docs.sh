#!/bin/sh
# --help, the man page and the README stay in step with the program: every
# option --help lists is in trakt-device-auth(1) and the README mentions the
# main ones; every exit status --help lists is documented in the man page.
set -e
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
man="$root/doc/trakt-device-auth.1"
"$TDA_CLI" --help >"$SCRATCH/help"
options=$(grep -Eo -- '--[a-z][a-z-]+' "$SCRATCH/help" | sort -u)
check "--help lists options" [ -n "$options" ]
for opt in $options; do
    escaped=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
    check "the man page documents $opt" grep -q -- "$escaped" "$man"
done
for status in $(sed -n 's/^  \([0-9][0-9]*\)  .*/\1/p' "$SCRATCH/help"); do
    check "the man page documents exit status $status" grep -q "^\.B $status\$" "$man"
done
for cmd in login refresh revoke status token; do
    check "the man page documents '$cmd'" grep -q "^\.B $cmd\$" "$man"
    check "the README documents '$cmd'" grep -q "| \`$cmd\` |" "$root/README.md"
done
finish
