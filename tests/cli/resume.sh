#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Logins that survive real devices. A login SIGKILLed after two polls and
# restarted shows the same code and polls the same device code (the
# emulator's request log names each request's code), never early across the
# restart, and completes; restarted after the code's life it ends with
# EXPIRED without a request, and only --new-code or --renew get a new code.
# SIGTERM keeps the pending code for a restart, Ctrl-C deletes it; a code
# older than the token file is not resumed (its login got the token). A pending
# code file that is damaged, another client's, from the future or with an
# absurd life is discarded with a note; an insecure one is refused and left.
# --renew=N shows N new codes when nobody approves, then EXPIRED, in --json
# and plain output, keeping to a 429's Retry-After on the code endpoint. The
# codes login asks for itself (--new-code, an expired saved code's replacement)
# wait out a 429 and say so, as the first one does. Two logins never poll one
# code at once.
set -e
. "$(dirname "$0")/lib.sh"

# spawn OUT ARGS...: login in the background (PID in CLI_PID), output to OUT.
spawn() {
    out=$1
    shift
    env HOME="$HOME_DIR" XDG_CONFIG_HOME= TRAKT_TOKEN_FILE= TRAKT_CLIENT_ID=test-id \
        TRAKT_CLIENT_SECRET=test-secret TRAKT_OAUTH_URL="$EMU_URL" \
        ${TDA_CLI_WRAP:-} "$TDA_CLI" "$@" >"$out" 2>"$out.err" </dev/null &
    CLI_PID=$!
}

reap() { # waits for CLI_PID, exit status in RC
    set +e
    wait "$CLI_PID"
    RC=$?
    set -e
}

# polls LOG: how many polls the emulator has logged.
polls() {
    if [ -f "$1" ]; then grep -c ' /oauth/device/token ' "$1" || true; else echo 0; fi
}

# wait_until WHAT COMMAND...: up to 30 s (valgrind is slow to start) for COMMAND to succeed.
wait_until() {
    what=$1
    shift
    tries=0
    until "$@"; do
        tries=$((tries + 1))
        if [ $tries -ge 600 ]; then
            bad "timed out waiting for $what"
            return 1
        fi
        sleep 0.05
    done
}

at_least() { [ "$(polls "$1")" -ge "$2" ]; }
shown() { grep -q "enter the code" "$1" 2>/dev/null; }
code_in() { sed -n 's/.*enter the code \([0-9A-Z]*\).*/\1/p' "$1" | tail -n 1; }

# spacing_ok LOG MS: consecutive polls at least MS apart (the log has whole ms).
spacing_ok() {
    grep ' /oauth/device/token ' "$1" | awk -v gap="$2" '
        { split($1, t, "."); ms = t[1] * 1000 + t[2] }
        NR > 1 && ms - last < gap - 1 { print "poll " NR " came " ms - last " ms after the one before"; bad = 1 }
        { last = ms }
        END { exit bad }'
}

echo "# SIGKILL after two polls, then a restart within the code's life"
log="$SCRATCH/kill.log"
start_emulator --interval 0.3 --log "$log"
new_home
spawn "$SCRATCH/first" login
wait_until "two polls" at_least "$log" 2
kill -s KILL "$CLI_PID"
reap
check "the code was saved beside the token, 0600" [ "$(mode_of "$TOKEN.code")" = 600 ]
first_code=$(code_in "$SCRATCH/first")
spawn "$SCRATCH/second" login
wait_until "the restarted login to show its code" shown "$SCRATCH/second"
check "the restarted login says it resumed" contains "$SCRATCH/second" "Resumed the code shown before"
check "... and shows the same code ($first_code)" [ "$(code_in "$SCRATCH/second")" = "$first_code" ]
wait_until "two more polls" at_least "$log" 4
curl -s -o /dev/null -d "user_code=$first_code&action=approve" "$EMU_URL/activate"
reap
expect_rc 0 "the resumed login completes"
check "the token was saved" [ -f "$TOKEN" ]
check "the pending code is gone" [ ! -e "$TOKEN.code" ]
check "one code was issued in all" [ "$(grep -c ' /oauth/device/code ' "$log")" = 1 ]
check "every poll was of that code" [ "$(grep ' /oauth/device/token ' "$log" | grep -vc ' code=1')" = 0 ]
check "no poll came early, across the restart too" spacing_ok "$log" 300
check "the emulator saw no early poll" [ "$(stat_of early_polls)" = 0 ]
kill "$EMU_PID"

echo "# a restart after the code's life"
log="$SCRATCH/late.log"
start_emulator --interval 0.2 --code-life 2 --approve-after-polls 2 --log "$log"
new_home
# kill_after_a_poll: a login that polls once and is killed, leaving its code behind.
kill_after_a_poll() {
    spawn "$SCRATCH/killed" login
    before=$(polls "$log")
    wait_until "a poll" at_least "$log" $((before + 1))
    kill -s KILL "$CLI_PID"
    reap
    sleep 2.2 # past the code's life
}
kill_after_a_poll
requests=$(wc -l <"$log")
cli login
expect_rc 4 "login with the expired code: EXPIRED"
check "... saying why" contains "$SCRATCH/err" "expired while login was not running"
check "... without a request" [ "$(wc -l <"$log")" = "$requests" ]
check "... and the expired code is deleted" [ ! -e "$TOKEN.code" ]
kill_after_a_poll
codes=$(grep -c ' /oauth/device/code ' "$log")
cli login --new-code
expect_rc 0 "login --new-code gets a new code and completes"
check "... one more code issued" [ "$(grep -c ' /oauth/device/code ' "$log")" = $((codes + 1)) ]
kill_after_a_poll
rm -f "$TOKEN"
cli login --renew
expect_rc 0 "login --renew replaces the expired code and completes"
check "... saying so" contains "$SCRATCH/err" "expired while login was not running; getting a new one"
check "no early poll" [ "$(stat_of early_polls)" = 0 ]
kill "$EMU_PID"

echo "# SIGTERM keeps the pending code for a restart; Ctrl-C deletes it"
start_emulator --interval 0.2
new_home
spawn "$SCRATCH/term" login
wait_until "the code" shown "$SCRATCH/term"
kill -s TERM "$CLI_PID"
reap
expect_rc 143 "SIGTERM during login"
check "... keeps the pending code" [ -f "$TOKEN.code" ]
spawn "$SCRATCH/again" login
wait_until "the code" shown "$SCRATCH/again"
check "... which the next login resumes" contains "$SCRATCH/again" "Resumed the code shown before"
check "... the same code" [ "$(code_in "$SCRATCH/again")" = "$(code_in "$SCRATCH/term")" ]
echo "# two logins never poll one code at once"
cli login
expect_rc 1 "a second login while the first is waiting"
check "... says another login is waiting" contains "$SCRATCH/err" "another login"
kill -s INT "$CLI_PID"
reap
expect_rc 130 "Ctrl-C during login"
check "... deletes the pending code" [ ! -e "$TOKEN.code" ]
kill "$EMU_PID"

echo "# a pending code older than the token file is dropped: its login got the token"
start_emulator --interval 0.2
new_home
spawn "$SCRATCH/stale" login
wait_until "the code" shown "$SCRATCH/stale"
kill -s KILL "$CLI_PID"
reap
# As if that login had saved its token and been killed before deleting the code.
token_json() {
    printf '{"client_id":"test-id","access_token":"a","token_type":"bearer","refresh_token":"r",'
    printf '"scope":"public","created_at":%s,"expires_in":604800,"expires_at":%s}\n' \
        "$(date +%s)" "$(($(date +%s) + 604800))"
}
token_json >"$TOKEN"
chmod 600 "$TOKEN"
spawn "$SCRATCH/fresh" login
wait_until "the code" shown "$SCRATCH/fresh"
check "the next login does not resume it" sh -c "! grep -q Resumed '$SCRATCH/fresh'"
check "... it shows a new code" [ "$(code_in "$SCRATCH/fresh")" != "$(code_in "$SCRATCH/stale")" ]
kill -s INT "$CLI_PID"
reap
kill "$EMU_PID"

echo "# pending code files that cannot be used"
start_emulator --interval 0.05 --approve-after-polls 0
now_ms=$(($(date +%s%N) / 1000000))
boot_id=$(cat /proc/sys/kernel/random/boot_id)
# code_file CLIENT_ID ISSUED_UNIX_MS BOOT_ID ISSUED_BOOT_MS LIFE_MS
code_file() {
    printf '{"kind":"trakt-device-code","client_id":"%s","device_code":"dc","user_code":"OLDC0DE1",' "$1"
    printf '"verification_url":"%s/activate","expires_in_ms":%s,"interval_ms":50,' "$EMU_URL" "$5"
    printf '"issued_at_unix_ms":%s,"boot_id":"%s","issued_at_boot_ms":%s}\n' "$2" "$3" "$4"
}
discarded() { # discarded WHAT: login replaced the file with a new code and completed
    codes=$(stat_of codes_issued)
    cli login
    expect_rc 0 "$1: login gets a new code and completes"
    check "... saying it discarded the file" contains "$SCRATCH/err" "discarding"
    check "... a new code was issued" [ "$(stat_of codes_issued)" = $((codes + 1)) ]
    check "... and never polled the saved one" [ "$(stat_of polls)" = "$polls_before" ]
    check "... which is gone" [ ! -e "$TOKEN.code" ]
}
new_home
mkdir -p "$(dirname "$TOKEN")"
polls_before=1
for case in damaged other-client future-wall future-boot absurd-life; do
    case $case in
    damaged) printf '{"kind":"trakt-device-code","device_code":' >"$TOKEN.code" ;;
    other-client) code_file other-app "$now_ms" x 1 600000 >"$TOKEN.code" ;;
    future-wall) code_file test-id $((now_ms + 3600000)) another-boot 1 600000 >"$TOKEN.code" ;;
    future-boot) code_file test-id "$now_ms" "$boot_id" 999999999999 600000 >"$TOKEN.code" ;;
    absurd-life) code_file test-id "$now_ms" x 1 999999999999 >"$TOKEN.code" ;;
    esac
    chmod 600 "$TOKEN.code"
    polls_before=$(($(stat_of polls) + 1)) # the new code's one poll
    discarded "$case"
done
code_file test-id "$now_ms" x 1 600000 >"$TOKEN.code"
chmod 644 "$TOKEN.code"
cli login
expect_rc 8 "a pending code others can read is refused"
check "... with the fix" contains "$SCRATCH/err" "chmod 600 $TOKEN.code"
check "... and left alone" [ "$(mode_of "$TOKEN.code")" = 644 ]
rm -f "$TOKEN.code"
ln -s "$SCRATCH/elsewhere" "$TOKEN.code"
cli login
expect_rc 8 "a pending code that is a symlink is refused"
check "... and left alone" [ -L "$TOKEN.code" ]
rm -f "$TOKEN.code"
kill "$EMU_PID"

echo "# --renew=2: three codes, then EXPIRED"
start_emulator --interval 0.2 --code-life 1
new_home
cli login --renew=2 --json
expect_rc 4 "--renew=2 --json, never approved"
check "three code events" [ "$(grep -c '"event":"code"' "$SCRATCH/out")" = 3 ]
check "... three different codes" \
    [ "$(sed -n 's/.*"event":"code".*"user_code":"\([^"]*\)".*/\1/p' "$SCRATCH/out" | sort -u | wc -l)" = 3 ]
check "... the last two as renewals 1 and 2" \
    [ "$(grep '"event":"code"' "$SCRATCH/out" | grep -o '"renewals":[0-9]*' | tr '\n' ' ')" = '"renewals":0 "renewals":1 "renewals":2 ' ]
check "... then an EXPIRED error" contains "$SCRATCH/out" '"event":"error","status":"EXPIRED"'
check "the emulator issued three codes" [ "$(stat_of codes_issued)" = 3 ]
check "no early poll" [ "$(stat_of early_polls)" = 0 ]
check "no pending code left" [ ! -e "$TOKEN.code" ]
cli login --renew=2
expect_rc 4 "--renew=2 in plain output"
check "three instruction lines" [ "$(grep -c 'enter the code' "$SCRATCH/out")" = 3 ]
check "... two of them after 'a new one'" [ "$(grep -c 'here is a new one' "$SCRATCH/out")" = 2 ]
kill "$EMU_PID"

echo "# renewal waits out a 429 with Retry-After on the code endpoint"
log="$SCRATCH/429.log"
start_emulator --interval 0.2 --code-life 0.6 --fault code:2:429:retry-after=1 --log "$log"
new_home
cli login --renew=1 --json
expect_rc 4 "--renew=1 meeting a 429"
check "a retry event for the 429" contains "$SCRATCH/out" '"event":"retry","polls":[0-9]*,"status":"SLOW_DOWN","http_status":429'
check "two code events" [ "$(grep -c '"event":"code"' "$SCRATCH/out")" = 2 ]
gap=$(grep ' /oauth/device/code ' "$log" | awk '{ split($1, t, "."); ms = t[1] * 1000 + t[2] } NR == 2 { a = ms } NR == 3 { print ms - a }')
check "the next code request waited the Retry-After (${gap} ms)" [ "${gap:-0}" -ge 999 ]
kill "$EMU_PID"

echo "# every code login asks for itself waits out a 429, as the first one does"
log="$SCRATCH/new429.log"
# Code 1 is shown and left by a killed login; 2 (--new-code's) and 5 (the replacement of
# an expired saved code) get Cloudflare's 429 with Retry-After: 1.
start_emulator --interval 0.2 --code-life 2 --approve-after-polls 2 --log "$log" \
    --fault code:2:429:cloudflare:retry-after=1 --fault code:5:429:cloudflare:retry-after=1
new_home
# code_gap N: ms between the emulator's code requests N-1 and N.
code_gap() {
    grep ' /oauth/device/code ' "$log" | awk -v n="$1" '{ split($1, t, "."); ms = t[1] * 1000 + t[2] }
        NR == n - 1 { a = ms } NR == n { print ms - a }'
}
kill_after_a_poll
cli login --new-code --json
expect_rc 0 "login --new-code after a 429 on its code request"
check "... a waiting event" contains "$SCRATCH/out" '"event":"waiting","reason":"rate_limited","http_status":429,"retry_after":1'
check "... then the new code, not resumed" contains "$SCRATCH/out" '"event":"code".*"resumed":false'
check "... asked again after the Retry-After ($(code_gap 3) ms)" [ "$(code_gap 3)" -ge 999 ]
kill_after_a_poll
rm -f "$TOKEN"
cli login --renew --json
expect_rc 0 "login --renew, replacing an expired saved code, after a 429"
check "... a waiting event" contains "$SCRATCH/out" '"event":"waiting","reason":"rate_limited","http_status":429,"retry_after":1'
check "... then one code event" [ "$(grep -c '"event":"code"' "$SCRATCH/out")" = 1 ]
check "... asked again after the Retry-After ($(code_gap 6) ms)" [ "$(code_gap 6)" -ge 999 ]
check "six code requests in all" [ "$(grep -c ' /oauth/device/code ' "$log")" = 6 ]
check "no early poll" [ "$(stat_of early_polls)" = 0 ]
kill "$EMU_PID"

echo "# --renew and --new-code are login's"
new_home
cli token --renew
expect_rc 2 "token --renew is a usage error"
cli login --renew=0
expect_rc 2 "--renew=0 is a usage error"
finish
