#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# --store postgresql://... (or TRAKT_TOKEN_STORE) with --key: login stores the
# account's token in a row of PostgreSQL (a server of this test's own,
# tests/pg/pg_server.sh), and two "machines" (two homes with nothing in
# common but the URL) share it: a due token is refreshed once, and the other
# machine then prints the new one without a request. Contradictory or
# missing options are usage errors that say why; the password of the URL
# never reaches an error message. In a build without libpq, --store is a
# usage error that says the PostgreSQL store was left out (never a skip).
set -e
. "$(dirname "$0")/lib.sh"

start_emulator --interval 0.01 --approve-after-polls 0
new_home

if [ "${TDA_HAVE_POSTGRESQL:-0}" != 1 ] && [ "${TDA_HAVE_POSTGRESQL:-0}" != ON ]; then
    cli login --key alice --store "postgresql://nobody@/db?host=/nonexistent"
    expect_rc 2 "--store in a build without the PostgreSQL store"
    check "... says it was left out" contains "$SCRATCH/err" "built without the PostgreSQL store"
    finish
    exit
fi

: "${TDA_PG_SERVER:?set TDA_PG_SERVER to tests/pg/pg_server.sh}"
PGDIR=$(mktemp -d /tmp/tda-cli-pg.XXXXXX)
sh "$TDA_PG_SERVER" start "$PGDIR" $$
on_cleanup() { sh "$TDA_PG_SERVER" stop "$PGDIR"; }
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/psql" ] && PGBIN=$d; done
pg_sql() { "$PGBIN/psql" -X -q -t -A -h "$PGDIR" -U tda -d tda -c "$1"; }
URL="postgresql://tda@/tda?host=$PGDIR"
PASSWORD=$(cat "$PGDIR/password")

cli login --key alice --store "$URL"
expect_rc 0 "login --key alice --store URL"
check "... makes the table and stores alice's row" \
    [ "$(pg_sql "SELECT count(*) FROM trakt_tokens WHERE client_id = 'test-id' AND key = 'alice'")" = 1 ]
check "... and says where" contains "$SCRATCH/out" 'key "alice" of PostgreSQL table "trakt_tokens"'
check "... no token file was made" [ ! -e "$HOME_DIR/.config/trakt-device-auth" ]
alice=$(pg_sql "SELECT token->>'access_token' FROM trakt_tokens WHERE key = 'alice'")

MACHINE_A=$HOME_DIR
new_home
MACHINE_B=$HOME_DIR
cli token --key alice --store "$URL"
expect_rc 0 "token on another machine"
check "... prints alice's token from the row" [ "$(cat "$SCRATCH/out")" = "$alice" ]
set +e
env HOME="$MACHINE_B" TRAKT_CLIENT_ID=test-id TRAKT_TOKEN_KEY=alice TRAKT_TOKEN_STORE="$URL" \
    TRAKT_OAUTH_URL="$EMU_URL" ${TDA_CLI_WRAP:-} "$TDA_CLI" token >"$SCRATCH/out" 2>"$SCRATCH/err"
RC=$?
set -e
expect_rc 0 "TRAKT_TOKEN_STORE and TRAKT_TOKEN_KEY pick the store and the account too"
check "... the same token" [ "$(cat "$SCRATCH/out")" = "$alice" ]
cli status --key alice --store "$URL"
expect_rc 0 "status --store"
check "... names the row" contains "$SCRATCH/out" 'key "alice" of PostgreSQL table'

# Due: the row's received stamp moved back to its last minute.
pg_sql "UPDATE trakt_tokens SET token = jsonb_set(jsonb_set(token, '{received_uptime_ms}',
    to_jsonb((token->>'received_uptime_ms')::bigint - ((token->>'expires_in')::bigint - 60) * 1000)),
    '{received_at}', to_jsonb((token->>'received_at')::bigint - ((token->>'expires_in')::bigint - 60)))
    WHERE key = 'alice'" >/dev/null
HOME_DIR=$MACHINE_A
cli token --key alice --store "$URL"
expect_rc 0 "token on machine A when alice's is due"
new=$(cat "$SCRATCH/out")
check "... a new token" [ "$new" != "$alice" ]
check "... committed to the row" \
    [ "$(pg_sql "SELECT token->>'access_token' FROM trakt_tokens WHERE key = 'alice'")" = "$new" ]
HOME_DIR=$MACHINE_B
cli token --key alice --store "$URL"
check "machine B prints the new token" [ "$(cat "$SCRATCH/out")" = "$new" ]
check "... after exactly one refresh in all" [ "$(stat_of refreshes)" = 1 ]
cli refresh --key alice --store "$URL"
expect_rc 0 "refresh --store"
check "... a second refresh" [ "$(stat_of refreshes)" = 2 ]

cli login --key "o'brien \"quoted\"; DROP TABLE trakt_tokens; --" --store "$URL"
expect_rc 0 "login with a key full of SQL"
check "... is a row like any other" [ "$(pg_sql "SELECT count(*) FROM trakt_tokens")" = 2 ]
cli revoke --key alice --store "$URL"
expect_rc 0 "revoke --store"
check "... deletes alice's row only" [ "$(pg_sql "SELECT count(*) FROM trakt_tokens")" = 1 ]
cli token --key alice --store "$URL"
expect_rc 6 "token for an account with no row"
check "... says to log in" contains "$SCRATCH/err" 'no token for key "alice"'

echo "# the password stays out of messages"
pg_sql "GRANT ALL ON trakt_tokens TO tda_pw" >/dev/null
cli login --key carol --store "postgresql://tda_pw:$PASSWORD@/tda?host=$PGDIR"
expect_rc 0 "login as the password role"
check "... prints no password" sh -c "! grep -q -- '$PASSWORD' '$SCRATCH/out' '$SCRATCH/err'"
cli token --key carol --store "postgresql://tda_pw:Wrong-Pass-77@/tda?host=$PGDIR"
expect_rc 5 "a wrong password is a connection failure (try later)"
check "... says why" contains "$SCRATCH/err" "password authentication failed"
check "... never what" sh -c "! grep -q Wrong-Pass-77 '$SCRATCH/err'"
cli token --key carol --store "postgresql://tda@/tda?host=$PGDIR/nothing-here"
expect_rc 5 "no server there: network trouble"
check "... says it could not connect" contains "$SCRATCH/err" "could not connect to PostgreSQL"

echo "# usage errors"
cli token --store "$URL"
expect_rc 2 "--store without --key"
check "... says to give --key" contains "$SCRATCH/err" "give --key too"
cli token --key alice --store "$URL" --token-dir "$SCRATCH/dir"
expect_rc 2 "--store with --token-dir"
check "... says they do not go together" contains "$SCRATCH/err" "do not go with it"
cli token --key alice --store "mysql://db/x"
expect_rc 2 "a store URL that is not PostgreSQL's"
check "... says what it wants" contains "$SCRATCH/err" "wants a postgresql:// URI"
set +e
env HOME="$MACHINE_B" TRAKT_CLIENT_ID= TRAKT_OAUTH_URL="$EMU_URL" ${TDA_CLI_WRAP:-} "$TDA_CLI" \
    token --key alice --store "$URL" >"$SCRATCH/out" 2>"$SCRATCH/err"
RC=$?
set -e
expect_rc 2 "--store without a client id"
check "... says to give one" contains "$SCRATCH/err" "give --client-id"
finish
