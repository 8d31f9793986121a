/*
 * tda_status: its numbers (ABI), names, messages and classes, all from the
 * one table in src/status_table.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#define FIRST_STATUS 0
#define LAST_STATUS 28

typedef struct pinned {
    tda_status status;
    int number;
    const char *name;
} pinned;

/* The documented numbers and names: programs store and compare these. */
static const pinned pins[] = {
    {TDA_OK, 0, "OK"},
    {TDA_PENDING, 1, "PENDING"},
    {TDA_SLOW_DOWN, 2, "SLOW_DOWN"},
    {TDA_DENIED, 3, "DENIED"},
    {TDA_EXPIRED, 4, "EXPIRED"},
    {TDA_ALREADY_USED, 5, "ALREADY_USED"},
    {TDA_INVALID_DEVICE_CODE, 6, "INVALID_DEVICE_CODE"},
    {TDA_INVALID_GRANT, 7, "INVALID_GRANT"},
    {TDA_FORBIDDEN, 8, "FORBIDDEN"},
    {TDA_SERVER_ERROR, 9, "SERVER_ERROR"},
    {TDA_OVERLOADED, 10, "OVERLOADED"},
    {TDA_CLOUDFLARE, 11, "CLOUDFLARE"},
    {TDA_UNEXPECTED_STATUS, 12, "UNEXPECTED_STATUS"},
    {TDA_NETWORK, 13, "NETWORK"},
    {TDA_BAD_RESPONSE, 14, "BAD_RESPONSE"},
    {TDA_TIMED_OUT, 15, "TIMED_OUT"},
    {TDA_CANCELLED, 16, "CANCELLED"},
    {TDA_INVALID_ARGUMENT, 17, "INVALID_ARGUMENT"},
    {TDA_NO_MEMORY, 18, "NO_MEMORY"},
    {TDA_IO, 19, "IO"},
    {TDA_DEADLINE, 20, "DEADLINE"},
    {TDA_TLS, 21, "TLS"},
    {TDA_FILE_MISSING, 22, "FILE_MISSING"},
    {TDA_FILE_INSECURE, 23, "FILE_INSECURE"},
    {TDA_FILE_CORRUPT, 24, "FILE_CORRUPT"},
    {TDA_WRONG_CLIENT, 25, "WRONG_CLIENT"},
    {TDA_LOCKED, 26, "LOCKED"},
    {TDA_NO_SPACE, 27, "NO_SPACE"},
    {TDA_UNSUPPORTED, 28, "UNSUPPORTED"},
};
#define N_PINS (sizeof pins / sizeof pins[0])

static int is_flow(tda_status s)
{
    return s == TDA_OK || s == TDA_PENDING || s == TDA_SLOW_DOWN;
}

static int is_expected_transient(tda_status s)
{
    return s == TDA_SERVER_ERROR || s == TDA_OVERLOADED || s == TDA_CLOUDFLARE ||
           s == TDA_NETWORK || s == TDA_TIMED_OUT || s == TDA_LOCKED;
}

static void test_enum_values_are_the_documented_abi_numbers(void **state)
{
    assert_int_equal(N_PINS, LAST_STATUS - FIRST_STATUS + 1);
    for (size_t i = 0; i < N_PINS; i++) {
        if ((int)pins[i].status != pins[i].number)
            fail_msg("TDA_%s is %d, documented as %d", pins[i].name, (int)pins[i].status,
                     pins[i].number);
    }
}

static void test_status_name_is_the_enum_name_without_prefix(void **state)
{
    for (size_t i = 0; i < N_PINS; i++)
        assert_string_equal(tda_status_name(pins[i].status), pins[i].name);
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

static void test_transient_set_is_exactly_server_overloaded_cloudflare_network_timeout_locked(void **state)
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
        int got = tda_status_is_final((tda_status)s);
        if (got != want)
            fail_msg("tda_status_is_final(%s) is %d, want %d", tda_status_name((tda_status)s),
                     got, want);
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
    assert_int_equal(tda_status_is_final((tda_status)9999), 1);
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
        cmocka_unit_test(test_enum_values_are_the_documented_abi_numbers),
        cmocka_unit_test(test_status_name_is_the_enum_name_without_prefix),
        cmocka_unit_test(test_every_status_has_a_unique_known_name),
        cmocka_unit_test(test_every_status_has_a_message),
        cmocka_unit_test(test_transient_set_is_exactly_server_overloaded_cloudflare_network_timeout_locked),
        cmocka_unit_test(test_final_set_is_everything_but_flow_and_transient),
        cmocka_unit_test(test_unknown_status_is_named_unknown),
        cmocka_unit_test(test_unknown_status_message_is_unknown_status),
        cmocka_unit_test(test_unknown_status_is_not_transient_and_ends_a_flow),
        cmocka_unit_test(test_version_matches_header),
        cmocka_unit_test(test_version_at_least_compares_all_three_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
