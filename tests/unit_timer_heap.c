/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's timer heap (src/timer_heap.c): earliest first, equal times in
 * the order they were set, removal and re-keying from the middle, growth
 * failure reported and harmless, and 100,000 random operations checked step
 * by step against a sorted array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc_hooks.h"
#include "timer_heap.h"

static tda__heap_node *pop(tda__heap *h)
{
    tda__heap_node *n = tda__heap_top(h);
    if (n)
        tda__heap_remove(h, n);
    return n;
}

static void test_earliest_first(void **state)
{
    static const int64_t keys[] = {50, 10, 40, 30, 20, 70, 60, 0, 90, 80};
    tda__heap h;
    tda__heap_node nodes[10];
    tda__heap_init(&h);
    for (int i = 0; i < 10; i++) {
        tda__heap_node_init(&nodes[i]);
        assert_int_equal(tda__heap_set(&h, &nodes[i], keys[i]), TDA_OK);
        assert_true(tda__heap_queued(&nodes[i]));
    }
    for (int64_t want = 0; want < 100; want += 10) {
        tda__heap_node *n = pop(&h);
        assert_non_null(n);
        assert_int_equal(n->due_ms, want);
        assert_false(tda__heap_queued(n));
    }
    assert_null(tda__heap_top(&h));
    tda__heap_clear(&h);
}

static void test_ties_go_in_the_order_they_were_set(void **state)
{
    tda__heap h;
    tda__heap_node nodes[64];
    tda__heap_init(&h);
    /* Inserted in a scrambled order of indices, all at one time. */
    int order[64];
    for (int i = 0; i < 64; i++)
        order[i] = (i * 37) % 64;
    for (int i = 0; i < 64; i++) {
        tda__heap_node_init(&nodes[order[i]]);
        assert_int_equal(tda__heap_set(&h, &nodes[order[i]], 500), TDA_OK);
    }
    /* Re-setting one to the same time sends it to the back of its tie. */
    assert_int_equal(tda__heap_set(&h, &nodes[order[0]], 500), TDA_OK);
    for (int i = 1; i < 64; i++)
        assert_ptr_equal(pop(&h), &nodes[order[i]]);
    assert_ptr_equal(pop(&h), &nodes[order[0]]);
    assert_null(pop(&h));
    tda__heap_clear(&h);
}

static void test_removal_and_moves_from_the_middle(void **state)
{
    tda__heap h;
    tda__heap_node nodes[100];
    tda__heap_init(&h);
    for (int i = 0; i < 100; i++) {
        tda__heap_node_init(&nodes[i]);
        assert_int_equal(tda__heap_set(&h, &nodes[i], (int64_t)i * 10), TDA_OK);
    }
    /* Every third one goes, wherever it sits; removing twice is harmless. */
    for (int i = 0; i < 100; i += 3) {
        tda__heap_remove(&h, &nodes[i]);
        tda__heap_remove(&h, &nodes[i]);
        assert_false(tda__heap_queued(&nodes[i]));
    }
    /* Node 50 (key 500) moves to the front, node 1 (key 10) to the back. */
    assert_int_equal(tda__heap_set(&h, &nodes[50], -1), TDA_OK);
    assert_int_equal(tda__heap_set(&h, &nodes[1], 100000), TDA_OK);
    assert_ptr_equal(pop(&h), &nodes[50]);
    int64_t last = -1;
    size_t left = 0;
    tda__heap_node *n;
    while ((n = pop(&h)) != NULL) {
        assert_true(n->due_ms > last);
        assert_true((n - nodes) % 3 != 0);
        last = n->due_ms;
        left++;
    }
    assert_int_equal(last, 100000);
    assert_int_equal(left, 100 - 34 - 1);
    tda__heap_clear(&h);
}

/* ---- 100,000 random operations against a sorted reference */

#define POOL 3000
#define OPS 100000

typedef struct ref_entry {
    int64_t due;
    uint64_t order; /* our own count of sets, the tie-break the heap must keep */
    int id;
} ref_entry;

static int ref_before(const ref_entry *a, const ref_entry *b)
{
    return a->due < b->due || (a->due == b->due && a->order < b->order);
}

typedef struct reference {
    ref_entry items[POOL];
    int len;
} reference;

static void ref_remove(reference *r, int id)
{
    for (int i = 0; i < r->len; i++) {
        if (r->items[i].id == id) {
            memmove(&r->items[i], &r->items[i + 1], (size_t)(r->len - i - 1) * sizeof r->items[0]);
            r->len--;
            return;
        }
    }
}

static void ref_insert(reference *r, ref_entry e)
{
    int i = r->len;
    while (i > 0 && ref_before(&e, &r->items[i - 1]))
        i--;
    memmove(&r->items[i + 1], &r->items[i], (size_t)(r->len - i) * sizeof r->items[0]);
    r->items[i] = e;
    r->len++;
}

static void test_random_operations_match_a_sorted_reference(void **state)
{
    static tda__heap_node nodes[POOL];
    static reference ref;
    tda__heap h;
    tda__heap_init(&h);
    ref.len = 0;
    for (int i = 0; i < POOL; i++)
        tda__heap_node_init(&nodes[i]);
    srand(14);
    uint64_t sets = 0;
    int counts[4] = {0, 0, 0, 0};
    for (int op = 0; op < OPS; op++) {
        int kind = rand() % 4;
        int id = rand() % POOL;
        /* Few distinct times, so ties are common. */
        int64_t due = rand() % 500;
        counts[kind]++;
        switch (kind) {
        case 0: /* insert, or move when already queued */
        case 1:
            assert_int_equal(tda__heap_set(&h, &nodes[id], due), TDA_OK);
            ref_remove(&ref, id);
            ref_insert(&ref, (ref_entry){due, sets++, id});
            break;
        case 2: /* remove, mostly from the middle */
            tda__heap_remove(&h, &nodes[id]);
            ref_remove(&ref, id);
            break;
        case 3: { /* take the earliest */
            tda__heap_node *n = pop(&h);
            if (ref.len == 0) {
                assert_null(n);
                break;
            }
            assert_non_null(n);
            assert_int_equal((int)(n - nodes), ref.items[0].id);
            ref_remove(&ref, ref.items[0].id);
            break;
        }
        }
        assert_int_equal(h.len, (size_t)ref.len);
        tda__heap_node *top = tda__heap_top(&h);
        if (ref.len)
            assert_int_equal((int)(top - nodes), ref.items[0].id);
        else
            assert_null(top);
    }
    int drained = 0;
    while (ref.len) {
        tda__heap_node *n = pop(&h);
        assert_non_null(n);
        assert_int_equal((int)(n - nodes), ref.items[0].id);
        ref_remove(&ref, ref.items[0].id);
        drained++;
    }
    assert_null(pop(&h));
    print_message("%d operations (%d sets, %d moves or sets, %d removals, %d pops), %d drained "
                  "at the end, every step equal to the sorted reference\n",
                  OPS, counts[0], counts[1], counts[2], counts[3], drained);
    tda__heap_clear(&h);
}

/* ---- growth failure */

static int fail_realloc;
static void *failing_realloc(void *p, size_t n)
{
    return fail_realloc ? NULL : realloc(p, n);
}

static void test_growth_failure_is_reported_and_harmless(void **state)
{
    tda__alloc_hooks hooks = {malloc, failing_realloc, free, NULL};
    tda__set_alloc_hooks(&hooks);
    tda__heap h;
    tda__heap_node nodes[17];
    tda__heap_init(&h);
    for (int i = 0; i < 16; i++) {
        tda__heap_node_init(&nodes[i]);
        assert_int_equal(tda__heap_set(&h, &nodes[i], 100 - i), TDA_OK);
    }
    fail_realloc = 1;
    tda__heap_node_init(&nodes[16]);
    assert_int_equal(tda__heap_set(&h, &nodes[16], 0), TDA_NO_MEMORY);
    assert_false(tda__heap_queued(&nodes[16]));
    /* Moving a queued node needs no memory. */
    assert_int_equal(tda__heap_set(&h, &nodes[3], 1), TDA_OK);
    fail_realloc = 0;
    tda__set_alloc_hooks(NULL);
    assert_ptr_equal(pop(&h), &nodes[3]);
    for (int i = 15; i >= 0; i--)
        if (i != 3)
            assert_ptr_equal(pop(&h), &nodes[i]);
    assert_null(pop(&h));
    tda__heap_clear(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_earliest_first),
        cmocka_unit_test(test_ties_go_in_the_order_they_were_set),
        cmocka_unit_test(test_removal_and_moves_from_the_middle),
        cmocka_unit_test(test_random_operations_match_a_sorted_reference),
        cmocka_unit_test(test_growth_failure_is_reported_and_harmless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
