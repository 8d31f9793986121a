#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# --help, the man page and the README stay in step with the program: every
# option --help lists is in trakt-device-auth(1), and the README mentions the
# main ones (the list below, each also in --help); every exit status --help
# lists is documented in the man page; the README's table lists every command;
# every row of the fault matrix (tests/it_faults.c) is in doc/FAULTS.md.
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
# The options a README reader needs; the rest are left to --help and the man page.
# (Not --client-secret: the README steers people to the others.)
readme_options="--client-id --client-secret-file --token-file --base-url --json --verbose
--timeout --help"
for opt in $readme_options; do
    check "--help lists $opt" grep -Eq -- "$opt([^a-z-]|\$)" "$SCRATCH/help"
    check "the README mentions $opt" grep -Eq -- "$opt([^a-z-]|\$)" "$root/README.md"
done
statuses=$(sed -n 's/^  \([0-9][0-9]*\)  .*/\1/p' "$SCRATCH/help")
# A pattern that found nothing would check nothing: --help lists 0 to 8 and 130.
check "--help lists exit statuses 0 to 8 and 130 ($(echo $statuses))" \
    [ "$(echo $statuses)" = "0 1 2 3 4 5 6 7 8 130" ]
for status in $statuses; do
    check "the man page documents exit status $status" grep -q "^\.B $status\$" "$man"
done
for cmd in login refresh revoke status token; do
    check "the man page documents '$cmd'" grep -q "^\.B $cmd\$" "$man"
    check "the README documents '$cmd'" grep -q "| \`$cmd\` |" "$root/README.md"
done
# Row names are taken verbatim from rows[] and looked for in backticks, as
# fixed strings: they hold spaces, slashes and apostrophes.
grep -Eo '^ *\{"(code|token|refresh|revoke): [^"]*",' "$root/tests/it_faults.c" |
    sed 's/^ *{"//; s/",$//' >"$SCRATCH/fault_rows"
check "tests/it_faults.c has fault matrix rows" [ -s "$SCRATCH/fault_rows" ]
while IFS= read -r row; do
    if grep -qF -- "\`$row\`" "$root/doc/FAULTS.md"; then
        ok "doc/FAULTS.md documents the fault matrix row '$row'"
    else
        bad "doc/FAULTS.md lacks the fault matrix row '$row' of tests/it_faults.c (add it, in backticks, to its endpoint's table)"
    fi
done <"$SCRATCH/fault_rows"
# The version is written once, in project(): both programs report that one.
version=$(sed -n 's/^project(traktdeviceauth VERSION \([0-9.]*\) .*/\1/p' "$root/CMakeLists.txt")
check "CMakeLists.txt's project() has a version" [ -n "$version" ]
check "trakt-device-auth --version reports $version" \
    sh -c '"$1" --version | head -n 1 | grep -qx "trakt-device-auth $2"' sh "$TDA_CLI" "$version"
check "trakt-oauth-emulator --version reports $version" \
    sh -c '"$1" --version | grep -qx "trakt-oauth-emulator $2"' sh "$TDA_EMULATOR" "$version"
finish
