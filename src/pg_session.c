/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A libpq connection with deadlines and cancellation (see pg_session.h).
 * libpq's blocking calls (PQconnectdb, PQexec) could wait for ever on a
 * server that stopped answering, and nothing could end them from another
 * thread; the asynchronous calls let every wait be poll(2) on the socket
 * and the client's cancel pipe. A cancelled or timed-out statement drops the
 * connection instead of sending PQcancel, which opens a new connection and
 * has no timeout of its own: closing is instant, and the server rolls back.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "pg_session.h"

#define FIXED_SECRETS 3

/* libpq prints notices ("relation already exists, skipping") on stderr unless told not to. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static char *dup_or_null(const char *s, int *failed)
{
    if (!s || !*s)
        return NULL;
    char *d = tda__strdup(s);
    if (!d)
        *failed = 1;
    return d;
}

tda_status tda__pg_session_init(tda__pg_session *s, const char *conninfo)
{
    memset(s, 0, sizeof *s);
    s->io_timeout_ms = TDA__PG_STATEMENT_MS;
    int failed = 0;
    s->conninfo = dup_or_null(conninfo, &failed);
    if (conninfo && *conninfo && !s->conninfo)
        return TDA_NO_MEMORY;
    /* A string libpq cannot parse has no password to find: its messages are withheld. */
    char *why = NULL;
    PQconninfoOption *opts = s->conninfo ? PQconninfoParse(s->conninfo, &why) : NULL;
    if (s->conninfo && !opts && !why) {
        tda__pg_session_clear(s); /* libpq's way of saying it ran out of memory */
        return TDA_NO_MEMORY;
    }
    s->unreadable = s->conninfo && !opts;
    PQfreemem(why); /* it may quote the string, password and all */
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0)
            s->password = dup_or_null(o->val, &failed);
    if (opts) {
        for (PQconninfoOption *o = opts; o->keyword; o++)
            if (o->val)
                tda__wipe(o->val, strlen(o->val));
        PQconninfoFree(opts);
    }
    char raw[256];
    tda__pg_uri_raw_password(s->conninfo, raw, sizeof raw);
    s->raw_password = dup_or_null(raw, &failed);
    tda__wipe(raw, sizeof raw);
    if (failed) {
        tda__pg_session_clear(s);
        return TDA_NO_MEMORY;
    }
    s->secrets[0] = s->password;
    s->secrets[1] = s->raw_password;
    s->secrets[2] = s->conninfo;
    s->n_secrets = FIXED_SECRETS;
    return TDA_OK;
}

void tda__pg_session_clear(tda__pg_session *s)
{
    tda__pg_drop(s);
    tda__free_secret(s->conninfo);
    tda__free_secret(s->password);
    tda__free_secret(s->raw_password);
    memset(s, 0, sizeof *s);
}

void tda__pg_hide(tda__pg_session *s, const char *secret)
{
    if (secret && s->n_secrets < sizeof s->secrets / sizeof s->secrets[0])
        s->secrets[s->n_secrets++] = secret;
}

void tda__pg_forget_secrets(tda__pg_session *s)
{
    s->n_secrets = FIXED_SECRETS;
}

tda__pg_wait tda__pg_wait_io(const tda__pg_session *s, int cancel_fd)
{
    tda__pg_wait w = {tda_monotonic_ms() + s->io_timeout_ms, cancel_fd};
    return w;
}

void tda__pg_drop(tda__pg_session *s)
{
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
    s->reused = 0;
}

/* Sleeps until fd is ready for events: TDA_OK, TDA_CANCELLED, or TDA_TIMED_OUT. */
static tda_status wait_for(int fd, short events, const tda__pg_wait *w)
{
    for (;;) {
        int64_t left = w->deadline_ms - tda_monotonic_ms();
        if (left <= 0)
            return TDA_TIMED_OUT;
        struct pollfd fds[2] = {{fd, events, 0}, {w->cancel_fd, POLLIN, 0}};
        int n = poll(fds, w->cancel_fd >= 0 ? 2 : 1, (int)(left < 60000 ? left : 60000));
        if (n < 0 && errno != EINTR)
            return TDA_TIMED_OUT; /* cannot wait at all: give up rather than spin */
        if (n > 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
            return TDA_CANCELLED;
        if (n > 0 && fds[0].revents)
            return TDA_OK; /* ready, or hung up: libpq's next call tells which */
    }
}

static void clean_into(const tda__pg_session *s, char *out, size_t size, const char *message)
{
    tda__pg_append_clean(out, size, message, s->secrets, s->n_secrets);
}

/* "<prefix>(<libpq's message, cleaned>)" */
static tda_status say_libpq(tda__pg_session *s, tda_status st, char *detail, size_t size,
                            const char *prefix)
{
    snprintf(detail, size, "%s (", prefix);
    clean_into(s, detail, size, s->conn ? PQerrorMessage(s->conn) : "out of memory");
    size_t at = strlen(detail);
    snprintf(detail + at, size - at, ")");
    return st;
}

static tda_status waited_out(tda__pg_session *s, tda_status st, const char *what, char *detail,
                             size_t size)
{
    tda__pg_drop(s);
    if (st == TDA_CANCELLED)
        snprintf(detail, size,
                 "cancelled while %s (the connection was closed: nothing "
                 "uncommitted is kept)",
                 what);
    else
        snprintf(detail, size,
                 "PostgreSQL did not answer in time while %s (the connection was "
                 "closed: nothing uncommitted is kept)",
                 what);
    return st;
}

tda_status tda__pg_connect(tda__pg_session *s, const tda__pg_wait *w, char *detail, size_t size)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK) {
        s->reused = 1;
        return TDA_OK;
    }
    tda__pg_drop(s);
    if (s->unreadable)
        return tda__say(TDA_INVALID_ARGUMENT, detail, size,
                        "the PostgreSQL connection string "
                        "cannot be read: it must be a postgresql:// URI or key=value pairs "
                        "(libpq's reason is not shown, as it may quote the string and its "
                        "password)");
    /* Keywords after dbname override what its connection string says: ours must hold. */
    const char *const keys[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
    const char *const values[] = {s->conninfo ? s->conninfo : "", "UTF8", "traktdeviceauth", NULL};
    s->conn = PQconnectStartParams(keys, values, 1);
    if (!s->conn)
        return tda__say(TDA_NO_MEMORY, detail, size, "out of memory connecting to PostgreSQL");
    PQsetNoticeProcessor(s->conn, quiet, NULL);
    PostgresPollingStatusType poll_st = PGRES_POLLING_WRITING; /* libpq's rule before the first */
    while (PQstatus(s->conn) != CONNECTION_BAD && poll_st != PGRES_POLLING_OK &&
           poll_st != PGRES_POLLING_FAILED) {
        tda_status st = wait_for(PQsocket(s->conn),
                                 poll_st == PGRES_POLLING_READING ? POLLIN : POLLOUT, w);
        if (st != TDA_OK)
            return waited_out(s, st, "connecting", detail, size);
        poll_st = PQconnectPoll(s->conn);
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        tda_status st = say_libpq(s, TDA_NETWORK, detail, size,
                                  "could not connect to "
                                  "PostgreSQL");
        tda__pg_drop(s);
        return st;
    }
    if (PQsetnonblocking(s->conn, 1) != 0) {
        tda_status st = say_libpq(s, TDA_NETWORK, detail, size, "PostgreSQL connection");
        tda__pg_drop(s);
        return st;
    }
    s->reused = 0;
    return TDA_OK;
}

static tda_status lost(tda__pg_session *s, const char *what, char *detail, size_t size)
{
    char prefix[160];
    snprintf(prefix, sizeof prefix, "the connection to PostgreSQL was lost while %s", what);
    tda_status st = say_libpq(s, TDA_NETWORK, detail, size, prefix);
    tda__pg_drop(s);
    return st;
}

/* Waits until libpq has a whole result (or the connection failed). */
static tda_status read_result(tda__pg_session *s, const tda__pg_wait *w, const char *what,
                              PGresult **out, char *detail, size_t size)
{
    *out = NULL;
    while (PQisBusy(s->conn)) {
        tda_status st = wait_for(PQsocket(s->conn), POLLIN, w);
        if (st != TDA_OK)
            return waited_out(s, st, what, detail, size);
        if (!PQconsumeInput(s->conn))
            return lost(s, what, detail, size);
    }
    *out = PQgetResult(s->conn);
    return TDA_OK;
}

static tda_status server_error(tda__pg_session *s, const PGresult *r, const char *what,
                               char sqlstate[6], char *detail, size_t size)
{
    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (sqlstate)
        snprintf(sqlstate, 6, "%s", code ? code : "");
    /* Only the primary message: a DETAIL line may quote a whole row, tokens and all. */
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    tda_status st = tda__pg_status_of_sqlstate(code);
    int gone = PQstatus(s->conn) != CONNECTION_OK;
    if (gone)
        st = TDA_NETWORK; /* a FATAL error ends the session, whatever its class */
    snprintf(detail, size,
             "PostgreSQL %s while %s (SQLSTATE %s: ", gone ? "ended the session" : "refused", what,
             code ? code : "none");
    clean_into(s, detail, size, primary ? primary : PQresultErrorMessage(r));
    size_t at = strlen(detail);
    snprintf(detail + at, size - at, ")");
    if (gone)
        tda__pg_drop(s);
    return st;
}

tda_status tda__pg_exec(tda__pg_session *s, const tda__pg_wait *w, const char *what,
                        const char *sql, int n, const char *const *values, PGresult **res,
                        char sqlstate[6], char *detail, size_t size)
{
    if (res)
        *res = NULL;
    if (sqlstate)
        sqlstate[0] = '\0';
    if (!s->conn)
        return tda__say(TDA_NETWORK, detail, size, "not connected to PostgreSQL while %s", what);
    if (!PQsendQueryParams(s->conn, sql, n, NULL, values, NULL, NULL, 0))
        return lost(s, what, detail, size);
    int flushed;
    while ((flushed = PQflush(s->conn)) == 1) {
        tda_status st = wait_for(PQsocket(s->conn), POLLIN | POLLOUT, w);
        if (st != TDA_OK)
            return waited_out(s, st, what, detail, size);
        if (!PQconsumeInput(s->conn)) /* libpq's rule: read what the server sends meanwhile */
            return lost(s, what, detail, size);
    }
    if (flushed < 0)
        return lost(s, what, detail, size);
    /* One statement, one result; the first error wins if there were several. */
    PGresult *kept = NULL;
    for (;;) {
        PGresult *r;
        tda_status st = read_result(s, w, what, &r, detail, size);
        if (st != TDA_OK) {
            PQclear(kept);
            return st;
        }
        if (!r)
            break;
        if (kept && PQresultStatus(kept) == PGRES_FATAL_ERROR) {
            PQclear(r);
        } else {
            PQclear(kept);
            kept = r;
        }
    }
    if (!kept)
        return lost(s, what, detail, size);
    ExecStatusType es = PQresultStatus(kept);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
        tda_status st = server_error(s, kept, what, sqlstate, detail, size);
        PQclear(kept);
        return st;
    }
    if (res)
        *res = kept;
    else
        PQclear(kept);
    return TDA_OK;
}
