#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A throw-away PostgreSQL server for one test program (tests/pg_server.c,
# tests/cli/postgres.sh and bench/pg_store.sh use it): initdb into DIR, listening
# only on a Unix socket in DIR (listen_addresses ''), run as an unprivileged
# user (nobody when run as root, as CI does; PostgreSQL refuses root).
#
#   pg_server.sh start DIR [PID]   make and start it; with PID, a watchdog
#                                  stops it once PID is gone (a test that
#                                  crashed leaves no server behind)
#   pg_server.sh restart DIR       pg_ctl restart -m fast (sessions are cut)
#   pg_server.sh stop DIR          stop it and remove DIR
#
# Databases: tda (owner tda, a superuser, trust); role tda_pw logs in with the
# password in DIR/password (scram-sha-256). Settings: TDA_PG_BIN (the
# directory of initdb and pg_ctl; default the newest /usr/lib/postgresql/*/bin),
# TDA_PG_FSYNC=1 keeps fsync on (the benchmark; tests run without it).
# Fails loudly, with the server's log, when it cannot start: a missing
# PostgreSQL is an error, never a skip (scripts/deps.sh test installs it).
set -eu
cmd=${1:?usage: pg_server.sh start|restart|stop DIR [PID]}
dir=${2:?usage: pg_server.sh start|restart|stop DIR [PID]}

bin=${TDA_PG_BIN:-}
if [ -z "$bin" ]; then
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && bin=$d
    done
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "pg_server.sh: PostgreSQL's initdb and pg_ctl were not found (install the postgresql" \
        "package: scripts/deps.sh test, or set TDA_PG_BIN)" >&2
    exit 1
fi

# As the unprivileged owner: root becomes nobody; anyone else stays themselves.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
    else
        "$@"
    fi
}

fail() {
    echo "pg_server.sh: $*" >&2
    for log in "$dir/initdb.log" "$dir/server.log"; do
        [ -f "$log" ] && { echo "--- $log" >&2; tail -n 40 "$log" >&2; }
    done
    exit 1
}

case $cmd in
start)
    mkdir -p "$dir"
    chmod 700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U tda -A trust --no-sync -E UTF8 --locale=C \
        >"$dir/initdb.log" 2>&1 || fail "initdb failed"
    fsync=off
    [ "${TDA_PG_FSYNC:-0}" = 1 ] && fsync=on
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
unix_socket_permissions = 0777
port = 5432
max_connections = 120
fsync = $fsync
full_page_writes = $fsync
logging_collector = off
log_min_messages = warning
EOF
    # The password role first: pg_hba takes the first line that matches.
    { echo "local all tda_pw scram-sha-256"; cat "$dir/data/pg_hba.conf"; } >"$dir/hba.tmp"
    as_owner sh -c "cat '$dir/hba.tmp' >'$dir/data/pg_hba.conf'"
    rm -f "$dir/hba.tmp"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1 ||
        fail "the server did not start"
    password="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    printf '%s\n' "$password" >"$dir/password"
    as_owner "$bin/psql" -X -q -h "$dir" -U tda -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE tda" \
        -c "CREATE ROLE tda_pw LOGIN PASSWORD '$password'" \
        -c "GRANT ALL ON DATABASE tda TO tda_pw" >/dev/null 2>&1 ||
        fail "could not make the test database"
    as_owner "$bin/psql" -X -q -h "$dir" -U tda -d tda -v ON_ERROR_STOP=1 \
        -c "GRANT ALL ON SCHEMA public TO tda_pw" >/dev/null 2>&1 ||
        fail "could not grant the schema"
    if [ -n "${3:-}" ]; then
        watched=$3
        # Detached, quiet, and it holds none of the caller's pipes open.
        (
            while kill -0 "$watched" 2>/dev/null; do sleep 0.5; done
            [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop
            rm -rf "$dir"
        ) </dev/null >/dev/null 2>&1 &
        echo $! >"$dir/watchdog.pid"
    fi
    ;;
restart)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart \
        >/dev/null 2>&1 || fail "the server did not restart"
    ;;
stop)
    if [ -f "$dir/watchdog.pid" ]; then
        kill "$(cat "$dir/watchdog.pid")" 2>/dev/null || true
    fi
    if [ -d "$dir/data" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg_server.sh start|restart|stop DIR [PID]" >&2
    exit 2
    ;;
esac
