/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tda_status: its numbers (ABI), names, messages and classes, all from the
 * one table, TDA_STATUS_MAP in include/traktdeviceauth.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

/*
 * The statuses as the one table in the public header lists them, expanded
 * here instead of restated: the numbers themselves are the ABI, which
 * tests/check_abi.sh holds to abi/libtraktdeviceauth.abi.
 */
typedef struct row {
    tda_status status;
    int number;
    const char *name;
    const char *kind;
    const char *message;
} row;

#define TEST_ROW(name, value, kind, message) {TDA_##name, value, #name, #kind, message},
static const row rows[] = {TDA_STATUS_MAP(TEST_ROW)};
#undef TEST_ROW
#define N_ROWS ((int)(sizeof rows / sizeof rows[0]))

#define FIRST_STATUS 0
#define LAST_STATUS (N_ROWS - 1)

static int is_flow(tda_status s)
{
    return s == TDA_OK || s == TDA_PENDING || s == TDA_SLOW_DOWN;
}

static int is_expected_transient(tda_status s)
{
    return s == TDA_SERVER_ERROR || s == TDA_OVERLOADED || s == TDA_CLOUDFLARE ||
           s == TDA_NETWORK || s == TDA_TIMED_OUT || s == TDA_LOCKED;
}

static void test_enum_values_are_the_tables_numbers_without_gaps(void **state)
{
    /* Values are never reused: the table lists 0, 1, 2, ... in order, each once. */
    for (int i = 0; i < N_ROWS; i++) {
        if ((int)rows[i].status != rows[i].number)
            fail_msg("TDA_%s is %d, the table says %d", rows[i].name, (int)rows[i].status,
                     rows[i].number);
        if (rows[i].number != i)
            fail_msg("TDA_%s is row %d of the table but has the number %d", rows[i].name, i,
                     rows[i].number);
    }
    /* A few anchors a program may have stored, so that a shifted table cannot pass. */
    assert_int_equal(TDA_OK, 0);
    assert_int_equal(TDA_SLOW_DOWN, 2);
    assert_int_equal(TDA_NO_MEMORY, 18);
    assert_int_equal(TDA_WRONG_CLIENT, 25);
    assert_int_equal(TDA_NO_SPACE, 27);
}

static void test_status_name_is_the_enum_name_without_prefix(void **state)
{
    for (int i = 0; i < N_ROWS; i++)
        assert_string_equal(tda_status_name(rows[i].status), rows[i].name);
}

static void test_message_and_kind_come_from_the_table(void **state)
{
    for (int i = 0; i < N_ROWS; i++) {
        assert_string_equal(tda_strerror(rows[i].status), rows[i].message);
        int transient = strcmp(rows[i].kind, "TRANSIENT") == 0;
        int final = strcmp(rows[i].kind, "FINAL") == 0;
        assert_int_equal(tda_status_is_transient(rows[i].status), transient);
        assert_int_equal(tda__status_is_final(rows[i].status), final);
    }
    /* The kinds the polling policy acts on: each of the three flow statuses its own. */
    assert_int_equal(tda__status_kind_of(TDA_OK), TDA__KIND_SUCCESS);
    assert_int_equal(tda__status_kind_of(TDA_PENDING), TDA__KIND_WAIT);
    assert_int_equal(tda__status_kind_of(TDA_SLOW_DOWN), TDA__KIND_SLOW_DOWN);
    assert_int_equal(tda__status_kind_of((tda_status)9999), TDA__KIND_FINAL);
}

static void test_every_status_has_a_unique_known_name(void **state)
{
    for (int a = FIRST_STATUS; a <= LAST_STATUS; a++) {
        const char *name = tda_status_name((tda_status)a);
        assert_non_null(name);
        if (strcmp(name, "UNKNOWN") == 0 || name[0] == '\0')
            fail_msg("status %d has no name", a);
        for (int b = FIRST_STATUS; b < a; b++)
            if (strcmp(name, tda_status_name((tda_status)b)) == 0)
                fail_msg("statuses %d and %d share the name %s", b, a, name);
    }
}

static void test_every_status_has_a_message(void **state)
{
    for (int s = FIRST_STATUS; s <= LAST_STATUS; s++) {
        const char *msg = tda_strerror((tda_status)s);
        assert_non_null(msg);
        if (msg[0] == '\0' || strcmp(msg, "unknown status") == 0)
            fail_msg("status %d (%s) has no message", s, tda_status_name((tda_status)s));
    }
}

static void
test_transient_set_is_exactly_server_overloaded_cloudflare_network_timeout_locked(void **state)
{
    for (int s = FIRST_STATUS; s <= LAST_STATUS; s++) {
        int got = tda_status_is_transient((tda_status)s);
        if (got != is_expected_transient((tda_status)s))
            fail_msg("tda_status_is_transient(%s) is %d", tda_status_name((tda_status)s), got);
    }
}

static void test_final_set_is_everything_but_flow_and_transient(void **state)
{
    for (int s = FIRST_STATUS; s <= LAST_STATUS; s++) {
        int want = !is_flow((tda_status)s) && !is_expected_transient((tda_status)s);
        int got = tda__status_is_final((tda_status)s);
        if (got != want)
            fail_msg("tda__status_is_final(%s) is %d, want %d", tda_status_name((tda_status)s), got,
                     want);
    }
}

static void test_unknown_status_is_named_unknown(void **state)
{
    assert_string_equal(tda_status_name((tda_status)9999), "UNKNOWN");
    assert_string_equal(tda_status_name((tda_status)(LAST_STATUS + 1)), "UNKNOWN");
    assert_string_equal(tda_status_name((tda_status)-1), "UNKNOWN");
}

static void test_unknown_status_message_is_unknown_status(void **state)
{
    assert_string_equal(tda_strerror((tda_status)9999), "unknown status");
    assert_string_equal(tda_strerror((tda_status)-1), "unknown status");
}

static void test_unknown_status_is_not_transient_and_ends_a_flow(void **state)
{
    assert_int_equal(tda_status_is_transient((tda_status)9999), 0);
    assert_int_equal(tda__status_is_final((tda_status)9999), 1);
}

static void test_version_matches_header(void **state)
{
    assert_string_equal(tda_version(), TDA_VERSION_STRING);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", TDA_VERSION_MAJOR, TDA_VERSION_MINOR,
             TDA_VERSION_PATCH);
    assert_string_equal(TDA_VERSION_STRING, want);
    assert_int_equal(TDA_VERSION_NUM,
                     (TDA_VERSION_MAJOR << 16) | (TDA_VERSION_MINOR << 8) | TDA_VERSION_PATCH);
    assert_int_equal(tda_version_num(), TDA_VERSION_NUM);
}

static void test_version_at_least_compares_all_three_parts(void **state)
{
    assert_true(TDA_VERSION_AT_LEAST(TDA_VERSION_MAJOR, TDA_VERSION_MINOR, TDA_VERSION_PATCH));
    assert_true(TDA_VERSION_AT_LEAST(0, 0, 0));
    assert_false(TDA_VERSION_AT_LEAST(TDA_VERSION_MAJOR, TDA_VERSION_MINOR, TDA_VERSION_PATCH + 1));
    assert_false(TDA_VERSION_AT_LEAST(TDA_VERSION_MAJOR, TDA_VERSION_MINOR + 1, 0));
    assert_false(TDA_VERSION_AT_LEAST(TDA_VERSION_MAJOR + 1, 0, 0));
    if (TDA_VERSION_MINOR > 0)
        assert_true(TDA_VERSION_AT_LEAST(TDA_VERSION_MAJOR, TDA_VERSION_MINOR - 1, 255));
#if !TDA_VERSION_AT_LEAST(0, 1, 0)
    fail_msg("TDA_VERSION_AT_LEAST must work in #if");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enum_values_are_the_tables_numbers_without_gaps),
        cmocka_unit_test(test_status_name_is_the_enum_name_without_prefix),
        cmocka_unit_test(test_message_and_kind_come_from_the_table),
        cmocka_unit_test(test_every_status_has_a_unique_known_name),
        cmocka_unit_test(test_every_status_has_a_message),
        cmocka_unit_test(
            test_transient_set_is_exactly_server_overloaded_cloudflare_network_timeout_locked),
        cmocka_unit_test(test_final_set_is_everything_but_flow_and_transient),
        cmocka_unit_test(test_unknown_status_is_named_unknown),
        cmocka_unit_test(test_unknown_status_message_is_unknown_status),
        cmocka_unit_test(test_unknown_status_is_not_transient_and_ends_a_flow),
        cmocka_unit_test(test_version_matches_header),
        cmocka_unit_test(test_version_at_least_compares_all_three_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
