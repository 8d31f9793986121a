#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A token is never lost to a crash: `login` is killed with SIGKILL at random
# moments across its whole run, saves included, 200 times (TDA_KILLS to
# change). After every kill the token file holds the old token or the new
# one, whole (status loads it), still 0600. Some kills must land inside a
# save (they leave its temporary file behind), or the rest proves nothing.
# The next save under the lock clears temporary files older than a save can
# take (5 s), planted ones included, and spares younger ones.
set -e
. "$(dirname "$0")/lib.sh"

kills=${TDA_KILLS:-200}
start_emulator --interval 0.01 --approve-after-polls 0
new_home
cli login
expect_rc 0 "a first login"

run_login() {
    # Under AddressSanitizer the leak check at exit would take most of each run's time,
    # and the kills would land there instead of across the work.
    # exec: the background job's PID is the CLI itself, so SIGKILL reaches it, not a shell.
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" exec env HOME="$HOME_DIR" TRAKT_CLIENT_ID=test-id TRAKT_CLIENT_SECRET=test-secret \
        TRAKT_OAUTH_URL="$EMU_URL" "$TDA_CLI" login >/dev/null 2>&1 </dev/null
}

# How long a whole login takes here, so the kills spread over all of it.
start=$(date +%s%N)
i=0
while [ $i -lt 5 ]; do (run_login); i=$((i + 1)); done
span_us=$(( ($(date +%s%N) - start) / 5000 ))
echo "# a login takes about $span_us us; killing at random points over that span"

# About 1 kill in 10 lands in a save here (a save is a few ms of a 30 ms run);
# 1 in 50 is the least that shows the kills reach inside saves at all. Where a
# run is slower (sanitizers) and fewer land there, more kills follow, up to 5
# times as many, until that many have.
min_mid_save=$((kills / 50 > 0 ? kills / 50 : 1))
mid_saves() { sort -u "$SCRATCH/leftovers" | wc -l; }
replaced=0
kept=0
: >"$SCRATCH/leftovers"
broken=0
i=1
while [ $i -le "$kills" ] ||
    { [ "$(mid_saves)" -lt "$min_mid_save" ] && [ $i -le $((kills * 5)) ]; }; do
    before=$(cat "$TOKEN")
    delay=$(awk -v seed="$i$$" -v span="$span_us" 'BEGIN { srand(seed); printf "%.6f", rand() * span / 1e6 }')
    run_login &
    pid=$!
    sleep "$delay"
    kill -s KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    ls -a "$(dirname "$TOKEN")" | grep '\.tmp\.' >>"$SCRATCH/leftovers" || true
    if env HOME="$HOME_DIR" TRAKT_CLIENT_ID=test-id "$TDA_CLI" status --quiet </dev/null \
        && [ "$(mode_of "$TOKEN")" = 600 ]; then
        if [ "$(cat "$TOKEN")" = "$before" ]; then kept=$((kept + 1)); else replaced=$((replaced + 1)); fi
    else
        broken=$((broken + 1))
        echo "kill $i after ${delay}s left a bad token file:"
        cat "$TOKEN" || true
    fi
    i=$((i + 1))
done
mid_save=$(mid_saves)
kills=$((i - 1))
echo "# $kills kills: $kept left the old token, $replaced the new one, $broken anything else;"
echo "# $mid_save struck inside a save (its temporary file was left behind)"
check "every kill left the old or the new token, whole and 0600" [ $broken = 0 ]
# One command for check: with "check ... [ A ] && [ B ]" check would see only [ A ].
check "kills landed both before and after saves" \
    sh -c '[ "$1" -gt 0 ] && [ "$2" -gt 0 ]' - "$kept" "$replaced"
check "at least $min_mid_save kills struck inside a save ($mid_save did)" \
    [ "$mid_save" -ge "$min_mid_save" ]
# Debris is a temporary file older than a save could take (5 s). Age what the
# kills left, and plant two more so the clean-up is seen whatever the kills did:
# an old one (debris) and a young one (another save may be writing it).
dir=$(dirname "$TOKEN")
find "$dir" -name '*.tmp.*' -exec touch -d '1 minute ago' {} +
printf '{"planted": true}\n' >"$TOKEN.tmp.OLD123"
printf '{"planted": true}\n' >"$TOKEN.tmp.NEW123"
chmod 600 "$TOKEN.tmp.OLD123" "$TOKEN.tmp.NEW123"
touch -d '1 minute ago' "$TOKEN.tmp.OLD123"
cli refresh
expect_rc 0 "the token still refreshes afterwards"
check "the planted old temporary file is gone after a save under the lock" \
    [ ! -e "$TOKEN.tmp.OLD123" ]
check "the planted young one is spared" [ -e "$TOKEN.tmp.NEW123" ]
rm -f "$TOKEN.tmp.NEW123"
# A killed login's code save leaves its temporary file beside the code file, where the
# next login's code save (of a new code, or of the one it resumes) clears it.
cli login
expect_rc 0 "a login after the kills"
check "no temporary file the kills left is left either" \
    [ "$(ls -a "$dir" | grep -c '\.tmp\.')" = 0 ]
finish
