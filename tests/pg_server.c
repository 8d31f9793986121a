/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: a PostgreSQL server of the test program's own (see pg_server.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pg_server.h"

/* Runs pg_server.sh with its output on our stderr (the log of a failed start is there). */
static int run_script(const char *command, const char *dir, const char *pid)
{
    const char *script = getenv("TDA_PG_SERVER");
    if (!script)
        fail_msg("TDA_PG_SERVER is not set (ctest sets it to tests/pg/pg_server.sh)");
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        execl("/bin/sh", "sh", script, command, dir, pid, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void pg_server_start(pg_server *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "/tmp/tda-pg-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    char pid[24];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    if (run_script("start", p->dir, pid) != 0)
        fail_msg("PostgreSQL did not start in %s (see the log above); it is required, not "
                 "optional: scripts/deps.sh test installs it",
                 p->dir);
    char path[96];
    snprintf(path, sizeof path, "%s/password", p->dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(p->password, sizeof p->password, f));
    fclose(f);
    p->password[strcspn(p->password, "\n")] = '\0';
    snprintf(p->conninfo, sizeof p->conninfo, "host=%s port=5432 dbname=tda user=tda", p->dir);
    snprintf(p->uri, sizeof p->uri, "postgresql://tda@/tda?host=%s&port=5432", p->dir);
    snprintf(p->pw_conninfo, sizeof p->pw_conninfo, "postgresql://tda_pw:%s@/tda?host=%s&port=5432",
             p->password, p->dir);
}

void pg_server_restart(const pg_server *p)
{
    if (run_script("restart", p->dir, NULL) != 0)
        fail_msg("PostgreSQL did not restart (see the log above)");
}

void pg_server_stop(pg_server *p)
{
    if (!p->dir[0])
        return;
    run_script("stop", p->dir, NULL);
    p->dir[0] = '\0';
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *pg_server_connect(const pg_server *p)
{
    PGconn *c = PQconnectdb(p->conninfo);
    if (!c || PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to the test's PostgreSQL: %s", c ? PQerrorMessage(c) : "");
    PQsetNoticeProcessor(c, quiet, NULL);
    return c;
}

void pg_server_sql(const pg_server *p, const char *sql)
{
    PGconn *c = pg_server_connect(p);
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("SQL failed: %s\n%s", PQresultErrorMessage(r), sql);
    PQclear(r);
    PQfinish(c);
}

long pg_server_long(const pg_server *p, const char *sql)
{
    PGconn *c = pg_server_connect(p);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("SQL failed: %s\n%s", PQresultErrorMessage(r), sql);
    long v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    PQfinish(c);
    return v;
}
