/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL store's insides: the pure rules (store_pg_rules.c, built
 * with or without libpq, unit-tested), the session with its deadlines
 * (pg_session.c) and the store operations (store_pg.c). Without libpq only
 * the rules and store_pg_missing.c are built.
 */
#ifndef TDA__STORE_PG_H
#define TDA__STORE_PG_H

#include "internal.h" /* tda__say */
#include "store.h"

#define TDA__PG_DEFAULT_TABLE "trakt_tokens"
/* Longer keys get a clear error from us rather than one from the server's index. */
#define TDA__PG_KEY_MAX 256
#define TDA__PG_CLIENT_ID_MAX 256
/* An identifier is at most 63 bytes (NAMEDATALEN - 1); schema.table, both quoted. */
#define TDA__PG_TABLE_SQL_MAX (2 * 63 + 6)

/* How long one statement or a connection attempt may take before TDA_TIMED_OUT. */
#define TDA__PG_STATEMENT_MS 15000L
/*
 * After the refresh token is spent and the connection drops (a restart, a
 * failover), how long the store keeps trying to store the new pair on a new
 * connection: it is the only copy.
 */
#define TDA__PG_SAVE_RETRY_MS 20000L
/*
 * idle_in_transaction_session_timeout inside the lock's transaction: a
 * holder whose machine vanished without closing its connection frees the row
 * after this long instead of after the server's TCP keepalive (hours). Longer
 * than any refresh request; one that is cut anyway is saved by the retry.
 */
#define TDA__PG_IDLE_IN_TXN_MS 120000L
/*
 * After invalid_grant, how long the row is looked at again for a pair that a
 * process cut off after its refresh is writing again (see store_pg.c).
 */
#define TDA__PG_REREAD_GRACE_MS 1000L
/* client_connection_check_interval (PostgreSQL 14+): a killed waiter's backend leaves the
   lock queue within this long. */
#define TDA__PG_CHECK_CLIENT_MS 1000L

/* ---- store_pg_rules.c: pure text rules */

/*
 * A key: 1 to TDA__PG_KEY_MAX bytes of UTF-8 without control characters.
 * TDA_INVALID_ARGUMENT with the rule it broke (never quoting the key).
 */
tda_status tda__pg_check_key(const char *key, char *detail, size_t size);
/* A client id: 1 to TDA__PG_CLIENT_ID_MAX bytes of printable ASCII. */
int tda__pg_client_id_ok(const char *client_id);
/*
 * A table name, "name" or "schema.name", each part a plain identifier
 * ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes), as SQL: each part in double
 * quotes, so that case is kept. out holds TDA__PG_TABLE_SQL_MAX + 1 bytes.
 * 0 for a name that is not one.
 */
int tda__pg_table_sql(const char *table, char *out, size_t out_size);
/* The status an SQLSTATE (five characters; NULL: none) stands for. */
tda_status tda__pg_status_of_sqlstate(const char *sqlstate);
/*
 * Appends libpq's or the server's message to out (size bytes, NUL-terminated)
 * as one tidy line: newlines and tabs become spaces, runs of spaces one, the
 * end trimmed; every occurrence of each of the n secrets (NULL or "" are
 * skipped) becomes "[redacted]". When a secret is shorter than 4 bytes it
 * cannot be told apart from ordinary words, so the message is withheld.
 */
void tda__pg_append_clean(char *out, size_t size, const char *message, const char *const *secrets,
                          size_t n);
/*
 * The password as written in a postgresql:// URI's user info ("u:PW@host"),
 * still percent-encoded, into out; "" when there is none. libpq's own
 * parse returns it decoded; messages about a bad URI may quote it raw.
 */
void tda__pg_uri_raw_password(const char *conninfo, char *out, size_t size);

#endif
