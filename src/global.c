/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process-wide set-up, done only when the program asks (tda_global_init):
 * libcurl's global init, and routing jansson's allocations through the
 * library's wrapper (alloc.c), so that jansson running out of memory is
 * reported as out of memory, not as a malformed answer or file. Nothing
 * happens when the library is merely loaded: a host program that uses
 * jansson itself keeps its allocator unless it calls this.
 *
 * Counted, like curl_global_init: every init is matched by a cleanup, and
 * the last cleanup undoes the first init. A spin lock (C11 atomic_flag, no
 * thread library needed) makes concurrent calls safe; the work inside is short.
 */
#include <curl/curl.h>
#include <stdatomic.h>

#include "internal.h"

static atomic_flag busy = ATOMIC_FLAG_INIT;
static int users;
static int jansson_routed; /* the first init installed our allocator into jansson */

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) {
    }
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&busy, memory_order_release);
}

tda_status tda_global_init(void)
{
    tda_status st = TDA_OK;
    lock();
    if (users == 0) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            st = TDA_NO_MEMORY;
        else
            jansson_routed = tda__jansson_route();
    }
    if (st == TDA_OK)
        users++;
    unlock();
    return st;
}

void tda_global_cleanup(void)
{
    lock();
    if (users > 0 && --users == 0) {
        if (jansson_routed)
            tda__jansson_unroute();
        jansson_routed = 0;
        curl_global_cleanup();
    }
    unlock();
}
