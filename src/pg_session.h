/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One libpq connection driven through the asynchronous API, so that every
 * wait has a deadline and can be cancelled: connecting, sending, and reading
 * the answer all sleep in poll(2) on the connection's socket and the
 * caller's cancel descriptor. Errors become a status and a detail that never
 * holds the connection string, its password, or the secrets a statement sent.
 * Built only with libpq (pg_session.c).
 */
#ifndef TDA__PG_SESSION_H
#define TDA__PG_SESSION_H

#include <libpq-fe.h>

#include "store_pg.h"

typedef struct tda__pg_session {
    char *conninfo; /* as the application gave it: may hold a password; wiped when freed */
    /* What every message is cleaned of: the password decoded and as written, the whole
       connection string, and, while a statement carries them, its secrets. */
    const char *secrets[6];
    size_t n_secrets;
    char *password;     /* decoded, from PQconninfoParse; NULL: none in the string */
    char *raw_password; /* as written in a URI; NULL: none */
    PGconn *conn;       /* NULL until connected, and again after a failure dropped it */
    int reused;         /* conn served an earlier call: a failure may be a stale connection */
    int unreadable;     /* PQconninfoParse refused the string: it is never connected */
    long io_timeout_ms; /* per statement and per connection attempt */
} tda__pg_session;

/* A wait: until deadline_ms (tda_monotonic_ms), ended early when cancel_fd (-1: none) reads. */
typedef struct tda__pg_wait {
    int64_t deadline_ms;
    int cancel_fd;
} tda__pg_wait;

/* Fills in the secrets to clean from conninfo (kept by pointer). TDA_NO_MEMORY or TDA_OK. */
tda_status tda__pg_session_init(tda__pg_session *s, const char *conninfo);
/* Closes the connection and wipes and frees what init made. */
void tda__pg_session_clear(tda__pg_session *s);

/* A wait of the session's I/O timeout from now, cancellable through cancel_fd. */
tda__pg_wait tda__pg_wait_io(const tda__pg_session *s, int cancel_fd);

/*
 * Connects unless connected (PQconnectStartParams, then PQconnectPoll in a
 * poll(2) loop): TDA_NETWORK with libpq's reason when the server cannot be
 * reached or refuses us, TDA_TIMED_OUT past w's deadline, TDA_CANCELLED.
 */
tda_status tda__pg_connect(tda__pg_session *s, const tda__pg_wait *w, char *detail, size_t size);

/*
 * Sends one statement with its values as bound parameters (text; n of them)
 * and waits for its answer until w's deadline. *res (may be NULL: not
 * wanted) gets the result on TDA_OK; PQclear it. A failure drops the
 * connection when its state is no longer known (lost, cancelled, timed out),
 * so the server rolls back whatever transaction was open. The detail names
 * what (e.g. "reading the token"), the cause and, for server errors, the
 * SQLSTATE; *sqlstate (may be NULL) gets it ("" for none).
 */
tda_status tda__pg_exec(tda__pg_session *s, const tda__pg_wait *w, const char *what,
                        const char *sql, int n, const char *const *values, PGresult **res,
                        char sqlstate[6], char *detail, size_t size);

/* Closes the connection (the server rolls back an open transaction). */
void tda__pg_drop(tda__pg_session *s);

/* Adds a secret to clean from messages until tda__pg_forget_secrets (at most 2 at a time). */
void tda__pg_hide(tda__pg_session *s, const char *secret);
void tda__pg_forget_secrets(tda__pg_session *s);

#endif
