/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper: a PostgreSQL server of the test program's own (through
 * tests/pg/pg_server.sh, path in $TDA_PG_SERVER: ctest sets it), listening on
 * a socket in a temporary directory, stopped at the end, and by a watchdog if
 * the program dies first. Starting fails the test loudly: a missing
 * PostgreSQL is an error, never a skip.
 */
#ifndef TDA_TEST_PG_SERVER_H
#define TDA_TEST_PG_SERVER_H

#include <libpq-fe.h>

typedef struct pg_server {
    char dir[64];
    char conninfo[160];    /* key=value, as the superuser tda, database tda */
    char uri[192];         /* the same as a postgresql:// URI */
    char password[64];     /* role tda_pw's (scram-sha-256) */
    char pw_conninfo[256]; /* as tda_pw, with the password */
} pg_server;

void pg_server_start(pg_server *p);
/* pg_ctl restart -m fast: every session is cut; returns once it accepts connections again. */
void pg_server_restart(const pg_server *p);
void pg_server_stop(pg_server *p);

/* The test's own connection (superuser); fails the test if it cannot be had. */
PGconn *pg_server_connect(const pg_server *p);
/* Runs SQL (several statements allowed) on a connection of its own; fails the test on error. */
void pg_server_sql(const pg_server *p, const char *sql);
/* The first value of the first row of a query, as a long (-1 when there is no row). */
long pg_server_long(const pg_server *p, const char *sql);

#endif
