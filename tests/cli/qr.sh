#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The QR code on login's terminal view, read back by a real decoder
# (zbarimg): it holds verification_url exactly as the server sent it, as
# Trakt advises since July 2026; with --qr-prefill, URL/CODE. The screen of a
# tmux session is turned into an image: each character cell is two modules,
# full block both dark, upper and lower half block one.
set -e
. "$(dirname "$0")/lib.sh"
for tool in tmux zbarimg; do
    command -v $tool >/dev/null || { echo "FAILED: $tool is needed (scripts/deps.sh test installs it)"; exit 1; }
done

# Each session gets its own tmux server: reusing one races with its shutdown.
SESSIONS=0
SOCKET="tda-qr-$$-0"
T() { tmux -L "$SOCKET" "$@"; }
trap 'T kill-server >/dev/null 2>&1 || true; cleanup' EXIT

session() { # session ARGS...: login in a fresh 80x24 tmux session
    T kill-server >/dev/null 2>&1 || true
    SESSIONS=$((SESSIONS + 1))
    SOCKET="tda-qr-$$-$SESSIONS"
    T new-session -d -x 80 -y 24 -s view \
        "env HOME='$HOME_DIR' LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color TRAKT_CLIENT_ID=test-id \
         TRAKT_OAUTH_URL='$EMU_URL' '$TDA_CLI' login $*; echo EXIT=\$?; sleep 600" >/dev/null 2>&1 </dev/null
    tries=0
    until T capture-pane -p -t view 2>/dev/null | grep -q "Code expires in" || [ $tries -ge 100 ]; do
        tries=$((tries + 1))
        sleep 0.1
    done
    T capture-pane -p -t view >"$SCRATCH/screen"
}

# qr_text: what the QR code on the captured screen says, decoded by zbarimg.
qr_text() {
    LC_ALL=C sed 's/\xe2\x96\x88/F/g; s/\xe2\x96\x80/T/g; s/\xe2\x96\x84/B/g' "$SCRATCH/screen" |
    awk -v scale=4 -v margin=16 '
      { line[NR] = $0 }
      END {
        # The top edge of the two upper finder patterns is the QR code'"'"'s second text row.
        for (r = 1; r <= NR; r++) if (index(substr(line[r], 1, 40), "FTTTTTF")) { top = r; break }
        if (!top) exit 1
        l = substr(line[top], 1, 40); p = 0
        while ((i = index(substr(l, p + 1), "FTTTTTF")) > 0) { p += i; last = p }
        width = last + 6 + 2        # the right finder, then the two-module quiet zone
        rows = int((width + 1) / 2)
        w = width * scale + 2 * margin; h = rows * 2 * scale + 2 * margin
        print "P1"; print w, h
        blank = ""; for (x = 0; x < w; x++) blank = blank "0"
        for (y = 0; y < margin; y++) print blank
        for (r = 0; r < rows; r++) {
          text = line[top - 1 + r]
          for (half = 0; half < 2; half++) {
            row = ""; for (x = 0; x < margin; x++) row = row "0"
            for (c = 1; c <= width; c++) {
              ch = substr(text, c, 1)
              dark = ch == "F" || (half == 0 && ch == "T") || (half == 1 && ch == "B")
              for (k = 0; k < scale; k++) row = row (dark ? "1" : "0")
            }
            for (x = 0; x < margin; x++) row = row "0"
            for (k = 0; k < scale; k++) print row
          }
        }
        for (y = 0; y < margin; y++) print blank
      }' >"$SCRATCH/qr.pbm"
    zbarimg --quiet --raw "$SCRATCH/qr.pbm" 2>/dev/null
}

start_emulator --interval 0.5
new_home
session
code=$(grep -Eo '   [0-9A-Z]{8}$' "$SCRATCH/screen" | tr -d ' ' | head -n 1)
check "the screen shows the code ($code)" [ -n "$code" ]
got=$(qr_text || true)
check "the QR code is the verification URL exactly ($got)" [ "$got" = "$EMU_URL/activate" ]
check "the text says what the QR code opens" contains "$SCRATCH/screen" "Or scan the QR code to open that"
T send-keys -t view C-c

new_home
session --qr-prefill
code=$(grep -Eo '   [0-9A-Z]{8}$' "$SCRATCH/screen" | tr -d ' ' | head -n 1)
got=$(qr_text || true)
check "--qr-prefill: the QR code is URL/CODE ($got)" [ "$got" = "$EMU_URL/activate/$code" ]
check "--qr-prefill: the text says the code is filled in" contains "$SCRATCH/screen" "page with the code filled in"
T send-keys -t view C-c

start_emulator --interval 0.5 --verification-url "https://auth.trakt.tv/activate?x=1&y=%20"
new_home
session
got=$(qr_text || true)
check "a URL with a query is kept byte for byte ($got)" [ "$got" = "https://auth.trakt.tv/activate?x=1&y=%20" ]
T send-keys -t view C-c
finish
