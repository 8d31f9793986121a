/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's FIFO of waiting requests (src/multi_pool.c): oldest first, and
 * any member leaves in O(1) from wherever it is (a cancelled or expired
 * waiting flow), the rest keeping their order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "multi_pool.h"

#define N 1000

static int index_of(tda__fifo_link *l, tda__fifo_link *base)
{
    return (int)(l - base);
}

static void test_order_and_removal_anywhere(void **state)
{
    static tda__fifo_link links[N];
    tda__fifo q = {NULL, NULL};
    for (int i = 0; i < N; i++)
        tda__fifo_push(&q, &links[i]);
    /* Out go the head, the tail, and every third one in between. */
    tda__fifo_remove(&q, &links[0]);
    tda__fifo_remove(&q, &links[N - 1]);
    for (int i = 3; i < N - 1; i += 3)
        tda__fifo_remove(&q, &links[i]);
    int expected = 1, seen = 0;
    for (tda__fifo_link *l = q.head; l; l = l->next) {
        while (expected % 3 == 0 && expected < N - 1)
            expected++;
        assert_int_equal(index_of(l, links), expected);
        if (l->next)
            assert_ptr_equal(l->next->prev, l);
        expected++;
        seen++;
    }
    assert_int_equal(index_of(q.tail, links), N - 2);
    int removed = 2;
    for (int i = 3; i < N - 1; i += 3)
        removed++;
    assert_int_equal(seen, N - removed);
    /* Emptied from the middle outwards, then refilled: head and tail stay right. */
    while (q.head)
        tda__fifo_remove(&q, q.tail->prev ? q.tail->prev : q.tail);
    assert_null(q.tail);
    tda__fifo_push(&q, &links[7]);
    assert_ptr_equal(q.head, &links[7]);
    assert_ptr_equal(q.tail, &links[7]);
    tda__fifo_remove(&q, &links[7]);
    assert_null(q.head);
    assert_null(q.tail);
}

static void test_slots_are_made_on_demand_up_to_the_limit(void **state)
{
    tda__pool p;
    assert_int_equal(tda__pool_init(&p, 2, 4), TDA_OK);
    int a = tda__pool_take(&p, NULL);
    assert_int_equal(a, 0);
    /* Free slots are handed out again before a new one is made. */
    assert_int_equal(tda__pool_take(&p, NULL), 0);
    p.slots[0].flow = (tda_flow *)&p; /* busy */
    assert_int_equal(tda__pool_take(&p, NULL), 1);
    p.slots[1].flow = (tda_flow *)&p;
    assert_int_equal(tda__pool_take(&p, NULL), TDA__NO_SLOT); /* the limit, 2 */
    p.max = 3;
    assert_int_equal(tda__pool_take(&p, NULL), 2);
    p.max = 1; /* lowered: slot 0 busy, so none */
    assert_int_equal(tda__pool_take(&p, NULL), TDA__NO_SLOT);
    p.slots[0].flow = NULL;
    assert_int_equal(tda__pool_take(&p, NULL), 0);
    p.slots[1].flow = NULL;
    tda__pool_cleanup(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_removal_anywhere),
        cmocka_unit_test(test_slots_are_made_on_demand_up_to_the_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
