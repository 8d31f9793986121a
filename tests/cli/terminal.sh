#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# login as a person sees it, in a real pseudo-terminal (tmux): the URL, the
# code in large letters and as text, a QR code, a countdown that ticks, the
# poll state, all on one 80x24 screen; the secret prompt without echo; a
# smaller terminal drops the QR code but keeps the text; Ctrl-C ends it with
# exit status 130; with --renew=2 each new code replaces the old one on the
# screen, QR code included, and a restarted login says it resumed.
set -e
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { echo "FAILED: tmux is needed (scripts/deps.sh test installs it)"; exit 1; }

# Each session gets its own tmux server: reusing one races with its shutdown.
SESSIONS=0
SOCKET="tda-test-$$-0"
T() { tmux -L "$SOCKET" "$@"; }
trap 'T kill-server >/dev/null 2>&1 || true; cleanup' EXIT

FINDER='█▀▀▀▀▀█' # the top of a QR finder pattern, drawn in half blocks

# session WIDTH HEIGHT LANG [SECRET] ARGS...: starts login in a fresh tmux session
session() {
    width=$1 height=$2 lang=$3 secret=$4
    shift 4
    T kill-server >/dev/null 2>&1 || true
    SESSIONS=$((SESSIONS + 1))
    SOCKET="tda-test-$$-$SESSIONS"
    # The server must not keep the test's output open: ctest waits for it to close.
    T new-session -d -x "$width" -y "$height" -s view \
        "env HOME='$HOME_DIR' LANG=$lang LC_ALL=$lang TERM=xterm-256color TRAKT_CLIENT_ID=test-id \
         TRAKT_CLIENT_SECRET='$secret' TRAKT_OAUTH_URL='$EMU_URL' '$TDA_CLI' login $*; \
         echo EXIT=\$?; sleep 600" >/dev/null 2>&1 </dev/null
}

screen() { T capture-pane -p -t view >"$SCRATCH/screen"; }

# wait_for TEXT: up to 10 s (scaled) for TEXT to appear on the screen
wait_for() {
    tries=0
    while :; do
        screen
        grep -qF -- "$1" "$SCRATCH/screen" && return 0
        tries=$((tries + 1))
        [ $tries -ge "$(bound_tries 100)" ] && { echo "screen without '$1':"; cat "$SCRATCH/screen"; return 1; }
        sleep 0.1
    done
}

countdown() { sed -n 's/.*Code expires in \([0-9]*:[0-9]*\).*/\1/p' "$SCRATCH/screen"; }

echo "# 80x24, UTF-8"
start_emulator --interval 0.5
new_home
session 80 24 C.UTF-8 test-secret
check "the countdown appears" wait_for "Code expires in"
check "the title is still on screen (nothing scrolled away)" contains "$SCRATCH/screen" "To authorize this device on Trakt"
check "the URL is shown" contains "$SCRATCH/screen" "$EMU_URL/activate"
code=$(grep -Eo '   [0-9A-Z]{8}$' "$SCRATCH/screen" | tr -d ' ' | head -n 1)
check "the code is shown as text ($code)" [ -n "$code" ]
# At least: the data modules can draw the same shape by chance (tests/cli/qr.sh decodes it).
check "a QR code is drawn (three finder patterns)" \
    [ "$(grep -o "$FINDER" "$SCRATCH/screen" | wc -l)" -ge 3 ]
# Right of the QR code (at most 29 modules from column 3, then a margin): the first 33
# characters of each line are dropped, counted as characters, not bytes (each
# half block is 3 bytes of UTF-8; cut -c counts bytes), and shorter lines whole.
beside_qr=$(LC_ALL=C.UTF-8 sed 's/^.\{1,33\}//' "$SCRATCH/screen" | grep -c '[▀▄█]' || true)
check "the code is drawn large (three rows of half blocks beside the QR code, $beside_qr found)" \
    [ "$beside_qr" -eq 3 ]
check "every line fits in 80 columns" [ "$(LC_ALL=C.UTF-8 wc -L <"$SCRATCH/screen")" -le 80 ]
first=$(countdown)
sleep 1.6
screen
second=$(countdown)
# One command for check: with "check ... [ A ] && [ B ]" check would see only [ A ].
check "the countdown ticks ($first, then $second)" \
    sh -c '[ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]' - "$first" "$second"
check "the poll state is shown" contains "$SCRATCH/screen" "waiting for the code to be entered (checked"
curl -s -o /dev/null -d "user_code=$code&action=approve" "$EMU_URL/activate"
check "approval ends the wait" wait_for "EXIT=0"
check "with a clear final message" contains "$SCRATCH/screen" "Authorized. The token expires"
check "the status line is gone" sh -c "! grep -q 'Code expires in' '$SCRATCH/screen'"
check "the token was saved" [ -f "$TOKEN" ]

echo "# the secret prompt, on request only"
new_home
session 80 24 C.UTF-8 "" --ask-secret
check "asks for the secret" wait_for "Client secret for test-id (not shown):"
T send-keys -t view "test-secret" Enter
check "then shows the code" wait_for "Code expires in"
check "the typed secret never appeared" sh -c "! grep -q test-secret '$SCRATCH/screen'"
T send-keys -t view C-c
check "Ctrl-C ends login" wait_for "EXIT=130"
check "... saying so" contains "$SCRATCH/screen" "interrupted"

echo "# a smaller terminal, --no-qr, no UTF-8"
new_home
session 60 20 C.UTF-8 test-secret
check "60x20: the countdown appears" wait_for "Code expires in"
check "60x20: no QR code" [ "$(grep -c "$FINDER" "$SCRATCH/screen")" = 0 ]
check "60x20: says why" contains "$SCRATCH/screen" "QR code needs a larger terminal"
check "60x20: the URL is still shown" contains "$SCRATCH/screen" "$EMU_URL/activate"
T send-keys -t view C-c
wait_for "EXIT=130" >/dev/null
session 80 24 C.UTF-8 test-secret --no-qr
check "--no-qr: the countdown appears" wait_for "Code expires in"
check "--no-qr: no QR code" [ "$(grep -c "$FINDER" "$SCRATCH/screen")" = 0 ]
T send-keys -t view C-c
wait_for "EXIT=130" >/dev/null
session 80 24 C test-secret
check "no UTF-8: the countdown appears" wait_for "Code expires in"
check "no UTF-8: the code is drawn in #" [ "$(grep -c '^   *#' "$SCRATCH/screen")" -ge 4 ]
check "no UTF-8: plain ASCII only" sh -c "! LC_ALL=C grep -q '[^ -~]' '$SCRATCH/screen'"
T send-keys -t view C-c
wait_for "EXIT=130" >/dev/null

echo "# --renew=2 with a 1 s code life: each new code is drawn in place of the old"
start_emulator --interval 0.2 --code-life 1
new_home
session 80 24 C.UTF-8 test-secret --renew=2
: >"$SCRATCH/codes"
tries=0
while :; do
    screen
    # The code as text, and whether the QR code and the note came with it.
    grep -Eo '   [0-9A-Z]{8}$' "$SCRATCH/screen" | tr -d ' ' | head -n 1 >>"$SCRATCH/codes"
    if grep -q "A new code: the last one expired unused" "$SCRATCH/screen" &&
        [ "$(grep -o "$FINDER" "$SCRATCH/screen" | wc -l)" = 3 ]; then
        echo redrawn >>"$SCRATCH/redrawn"
    fi
    grep -q "EXIT=" "$SCRATCH/screen" && break
    tries=$((tries + 1))
    [ $tries -ge 300 ] && break
    sleep 0.05
done
seen=$(grep -E '^[0-9A-Z]{8}$' "$SCRATCH/codes" | uniq | wc -l)
check "the screen showed three codes, one after another ($seen)" [ "$seen" = 3 ]
check "... each new one with its QR code and a note that it is new" [ -s "$SCRATCH/redrawn" ]
check "then EXPIRED (exit 4)" contains "$SCRATCH/screen" "EXIT=4"
check "... and one code at a time on screen" [ "$(grep -Ec '   [0-9A-Z]{8}$' "$SCRATCH/screen")" -le 1 ]
check "the emulator issued three codes" [ "$(stat_of codes_issued)" = 3 ]

echo "# a login whose terminal was closed (SIGHUP) resumes its code, and says so"
start_emulator --interval 0.3
new_home
session 80 24 C.UTF-8 test-secret
wait_for "Code expires in" >/dev/null
first=$(grep -Eo '   [0-9A-Z]{8}$' "$SCRATCH/screen" | tr -d ' ' | head -n 1)
T kill-server >/dev/null 2>&1 || true
# The hung-up login lets go of its code's lock as it exits.
tries=0
until flock -n "$TOKEN.code.lock" true || [ $tries -ge 200 ]; do sleep 0.05; tries=$((tries + 1)); done
codes_before=$(stat_of codes_issued)
session 80 24 C.UTF-8 test-secret
check "the restarted login shows its code" wait_for "Code expires in"
check "... saying it resumed" contains "$SCRATCH/screen" "Resumed: the code shown before"
check "... the same code ($first)" contains "$SCRATCH/screen" "   $first"
check "... and no new code was issued" [ "$(stat_of codes_issued)" = "$codes_before" ]
T send-keys -t view C-c
wait_for "EXIT=130" >/dev/null
finish
