/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL store in a build without libpq (pkg-config found no libpq,
 * or TDA_POSTGRESQL=OFF): the function exists, so programs link the same
 * way everywhere, and its store answers every call with TDA_UNSUPPORTED and
 * a detail that says what was left out and how to get it.
 */
#include <stdio.h>

#include "store_pg.h"

static tda_status left_out(char *detail, size_t size)
{
    return tda__say(TDA_UNSUPPORTED, detail, size,
                    "this libtraktdeviceauth was built without "
                    "the PostgreSQL store (libpq was not found by pkg-config, or TDA_POSTGRESQL "
                    "was OFF): install libpq-dev and build it again to use a postgresql:// store");
}

static tda_status none_load(void *self, const char *key, tda_token *out, char *detail, size_t size)
{
    return left_out(detail, size);
}

static tda_status none_lock(void *self, const char *key, const tda_store_wait *wait, void **lock,
                            char *detail, size_t size)
{
    *lock = NULL;
    return left_out(detail, size);
}

static tda_status none_save(void *self, void *lock, const tda_token *t, char *detail, size_t size)
{
    return left_out(detail, size);
}

static tda_status none_unlock(void *self, void *lock, int commit, char *detail, size_t size)
{
    return TDA_OK;
}

static tda_status none_check(void *self, const char *key, char *detail, size_t size)
{
    return left_out(detail, size);
}

static const char *none_location(void *self, const char *key)
{
    return "a PostgreSQL store (not in this build)";
}

tda_store *tda_store_pg_new(const char *conninfo, const char *client_id, const char *table)
{
    static const tda_store_ops ops = {
        .load = none_load,
        .lock = none_lock,
        .save = none_save,
        .unlock = none_unlock,
        .check = none_check,
        .location = none_location,
    };
    char quoted[TDA__PG_TABLE_SQL_MAX + 1];
    /* The same arguments are refused as in a build with libpq. */
    if (!tda__pg_client_id_ok(client_id) ||
        !tda__pg_table_sql(table ? table : TDA__PG_DEFAULT_TABLE, quoted, sizeof quoted))
        return NULL;
    return tda_store_new(&ops, NULL);
}

int tda_store_pg_available(void)
{
    return 0;
}
