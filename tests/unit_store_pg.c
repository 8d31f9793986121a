/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL store's rules that need no server (store_pg_rules.c): which
 * keys, client ids and table names it takes, what an SQLSTATE means, how a
 * message from libpq is cleaned of the password and the tokens before it
 * reaches a detail. And, in a build without libpq, that the store exists and
 * every call says it was left out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store_pg.h"

static void test_keys(void **state)
{
    (void)state;
    char why[256];
    static const char *const good[] = {"alice",  "o'brien", "x'); DROP TABLE t; --",
                                       "müller", "東京",    "a key with spaces",
                                       "$1",     "%s%n"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(tda__pg_check_key(good[i], why, sizeof why), TDA_OK);
    char longest[TDA__PG_KEY_MAX + 2];
    memset(longest, 'k', TDA__PG_KEY_MAX);
    longest[TDA__PG_KEY_MAX] = '\0';
    assert_int_equal(tda__pg_check_key(longest, why, sizeof why), TDA_OK);
    longest[TDA__PG_KEY_MAX] = 'k';
    longest[TDA__PG_KEY_MAX + 1] = '\0';
    assert_int_equal(tda__pg_check_key(longest, why, sizeof why), TDA_INVALID_ARGUMENT);
    assert_non_null(strstr(why, "longer than 256 bytes"));
    assert_null(strstr(why, "kkkk")); /* the key itself is never quoted */
    static const struct {
        const char *key, *says;
    } bad[] = {
        {"", "it is empty"},
        {"tab\there", "control character"},
        {"\x7f", "control character"},
        {"\xc2\x85", "control character"}, /* U+0085, a C1 control */
        {"\xff", "not valid UTF-8"},
        {"\xc0\xaf", "not valid UTF-8"},         /* overlong '/' */
        {"\xed\xa0\x80", "not valid UTF-8"},     /* a surrogate */
        {"\xf4\x90\x80\x80", "not valid UTF-8"}, /* past U+10FFFF */
        {"\xe6\x9d", "not valid UTF-8"},         /* cut short */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tda__pg_check_key(bad[i].key, why, sizeof why), TDA_INVALID_ARGUMENT);
        if (!strstr(why, bad[i].says))
            fail_msg("key %zu: %s", i, why);
    }
    assert_int_equal(tda__pg_check_key(NULL, why, sizeof why), TDA_INVALID_ARGUMENT);
    assert_non_null(strstr(why, "needs a key"));
}

static void test_client_ids_and_tables(void **state)
{
    (void)state;
    assert_true(tda__pg_client_id_ok("abc123"));
    assert_false(tda__pg_client_id_ok(NULL));
    assert_false(tda__pg_client_id_ok(""));
    assert_false(tda__pg_client_id_ok("with space"));
    assert_false(tda__pg_client_id_ok("tab\t"));
    char sql[TDA__PG_TABLE_SQL_MAX + 1];
    assert_true(tda__pg_table_sql("trakt_tokens", sql, sizeof sql));
    assert_string_equal(sql, "\"trakt_tokens\"");
    assert_true(tda__pg_table_sql("app.Tokens_2", sql, sizeof sql));
    assert_string_equal(sql, "\"app\".\"Tokens_2\"");
    char longest[64];
    memset(longest, 'a', 63);
    longest[63] = '\0';
    char both[128];
    snprintf(both, sizeof both, "%s.%s", longest, longest);
    assert_true(tda__pg_table_sql(both, sql, sizeof sql));
    static const char *const bad[] = {"",   "1abc", "a-b",    "a b", "\"q\"", "a.b.c",
                                      "a.", ".b",   "x;DROP", "é",   NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(tda__pg_table_sql(bad[i], sql, sizeof sql));
        assert_string_equal(sql, "");
    }
    char too_long[65];
    memset(too_long, 'a', 64);
    too_long[64] = '\0';
    assert_false(tda__pg_table_sql(too_long, sql, sizeof sql));
}

static void test_sqlstates(void **state)
{
    (void)state;
    assert_int_equal(tda__pg_status_of_sqlstate("55P03"), TDA_LOCKED);
    assert_int_equal(tda__pg_status_of_sqlstate("40P01"), TDA_LOCKED);
    assert_int_equal(tda__pg_status_of_sqlstate("57P01"), TDA_NETWORK);
    assert_int_equal(tda__pg_status_of_sqlstate("57P03"), TDA_NETWORK);
    assert_int_equal(tda__pg_status_of_sqlstate("08006"), TDA_NETWORK);
    assert_int_equal(tda__pg_status_of_sqlstate("57014"), TDA_TIMED_OUT);
    assert_int_equal(tda__pg_status_of_sqlstate("53100"), TDA_NO_SPACE);
    assert_int_equal(tda__pg_status_of_sqlstate("42501"), TDA_IO); /* permission */
    assert_int_equal(tda__pg_status_of_sqlstate("42P01"), TDA_IO); /* no such table */
    assert_int_equal(tda__pg_status_of_sqlstate(NULL), TDA_IO);
    assert_int_equal(tda__pg_status_of_sqlstate("5"), TDA_IO);
    assert_true(tda_status_is_transient(tda__pg_status_of_sqlstate("57P01")));
    assert_true(tda_status_is_transient(tda__pg_status_of_sqlstate("55P03")));
}

static void test_messages_are_cleaned(void **state)
{
    (void)state;
    char out[256] = "could not connect (";
    const char *secrets[] = {"s3cr3t-pass", NULL, "", "postgresql://u:s3cr3t-pass@h/db"};
    tda__pg_append_clean(out, sizeof out,
                         "connection to \"postgresql://u:s3cr3t-pass@h/db\" failed:\n\tFATAL:  "
                         "password s3cr3t-pass is wrong\n",
                         secrets, 4);
    assert_string_equal(out, "could not connect (connection to \"[redacted]\" failed: FATAL: "
                             "password [redacted] is wrong");
    /* A password too short to tell from words: the message is withheld. */
    char short_out[128] = "";
    const char *tiny[] = {"pw"};
    tda__pg_append_clean(short_out, sizeof short_out, "FATAL: pw wrong", tiny, 1);
    assert_null(strstr(short_out, "pw wrong"));
    assert_non_null(strstr(short_out, "withheld"));
    /* Control bytes become '?', and the text ends within the buffer. */
    char small[12] = "";
    tda__pg_append_clean(small, sizeof small,
                         "a\x01"
                         "bcdefghijklmnop",
                         NULL, 0);
    assert_string_equal(small, "a?bcdefghij");
    char raw[64];
    tda__pg_uri_raw_password("postgresql://user:p%40ss@host:5432/db?sslmode=require", raw,
                             sizeof raw);
    assert_string_equal(raw, "p%40ss");
    tda__pg_uri_raw_password("postgresql://user:a@b@host/db", raw, sizeof raw);
    assert_string_equal(raw, "a@b");
    tda__pg_uri_raw_password("postgresql://user@host/db", raw, sizeof raw);
    assert_string_equal(raw, "");
    tda__pg_uri_raw_password("host=h password=x", raw, sizeof raw);
    assert_string_equal(raw, "");
    tda__pg_uri_raw_password(NULL, raw, sizeof raw);
    assert_string_equal(raw, "");
}

/* With libpq it connects on first use (it_pg_store tests that); without, it says why not. */
static void test_the_store_in_this_build(void **state)
{
    (void)state;
    assert_null(tda_store_pg_new("host=/nowhere", NULL, NULL));
    assert_null(tda_store_pg_new("host=/nowhere", "id", "bad name"));
    tda_store *s = tda_store_pg_new("host=/nowhere", "id", NULL);
    assert_non_null(s);
#if TDA_HAVE_POSTGRESQL
    assert_int_equal(tda_store_pg_available(), 1);
#else
    assert_int_equal(tda_store_pg_available(), 0);
    tda_token t;
    assert_int_equal(tda_store_load(s, "alice", NULL, &t), TDA_UNSUPPORTED);
    assert_non_null(strstr(tda_store_error_detail(s), "built without the PostgreSQL store"));
    assert_int_equal(tda_store_check(s, "alice", NULL), TDA_UNSUPPORTED);
    tda_client *c = tda_client_new("id", NULL);
    assert_int_equal(tda_token_get(c, s, "alice", &t, NULL), TDA_UNSUPPORTED);
    assert_non_null(strstr(tda_client_error_detail(c), "install libpq-dev"));
    tda_client_free(c);
#endif
    tda_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_client_ids_and_tables),
        cmocka_unit_test(test_sqlstates),
        cmocka_unit_test(test_messages_are_cleaned),
        cmocka_unit_test(test_the_store_in_this_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
