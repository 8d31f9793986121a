/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tda_global_init and tda_global_cleanup (src/global.c): loading the library
 * changes nothing (jansson keeps its default allocator until the program
 * asks); init is counted and safe to repeat; the last cleanup undoes it; an
 * allocator the program gave jansson is never replaced nor taken away.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "traktdeviceauth.h"

static json_malloc_t current_malloc(void)
{
    json_malloc_t m = NULL;
    json_free_t f = NULL;
    json_get_alloc_funcs(&m, &f);
    return m;
}

static void test_loading_changes_nothing(void **state)
{
    /* main() has run no init: the library is linked and loaded, jansson untouched. */
    assert_ptr_equal(current_malloc(), malloc);
}

static void test_init_is_counted_and_cleanup_undoes_it(void **state)
{
    assert_int_equal(tda_global_init(), TDA_OK);
    json_malloc_t ours = current_malloc();
    assert_ptr_not_equal(ours, malloc);
    assert_int_equal(tda_global_init(), TDA_OK); /* a second user: nothing changes */
    assert_ptr_equal(current_malloc(), ours);
    json_t *v = json_string("allocated through the library's wrapper");
    assert_non_null(v);
    tda_global_cleanup();
    assert_ptr_equal(current_malloc(), ours); /* one user left */
    json_decref(v);
    tda_global_cleanup();
    assert_ptr_equal(current_malloc(), malloc);
    tda_global_cleanup(); /* an extra cleanup does nothing */
    assert_ptr_equal(current_malloc(), malloc);
    /* And again from scratch, as a program that unloads and reloads a plugin would. */
    assert_int_equal(tda_global_init(), TDA_OK);
    assert_ptr_equal(current_malloc(), ours);
    tda_global_cleanup();
    assert_ptr_equal(current_malloc(), malloc);
}

static void *program_malloc(size_t n)
{
    return malloc(n);
}

static void program_free(void *p)
{
    free(p);
}

static void test_the_programs_allocator_wins(void **state)
{
    json_set_alloc_funcs(program_malloc, program_free);
    assert_int_equal(tda_global_init(), TDA_OK);
    assert_ptr_equal(current_malloc(), program_malloc);
    tda_global_cleanup();
    assert_ptr_equal(current_malloc(), program_malloc); /* not ours to take away */
    json_set_alloc_funcs(malloc, free);
    /* Set by the program after init: cleanup leaves that one in place too. */
    assert_int_equal(tda_global_init(), TDA_OK);
    json_set_alloc_funcs(program_malloc, program_free);
    tda_global_cleanup();
    assert_ptr_equal(current_malloc(), program_malloc);
    json_set_alloc_funcs(malloc, free);
}

static void test_calls_work_with_and_without_init(void **state)
{
    /* Without init libcurl sets itself up on first use; with it, the same. */
    tda_client *c = tda_client_new("id", NULL);
    assert_non_null(c);
    tda_client_free(c);
    assert_int_equal(tda_global_init(), TDA_OK);
    c = tda_client_new("id", NULL);
    assert_non_null(c);
    tda_client_free(c);
    tda_global_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loading_changes_nothing),
        cmocka_unit_test(test_init_is_counted_and_cleanup_undoes_it),
        cmocka_unit_test(test_the_programs_allocator_wins),
        cmocka_unit_test(test_calls_work_with_and_without_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
