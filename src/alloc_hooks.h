/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test-only hook into the allocation wrapper. Not installed and not exported
 * from the shared library; tests link the static archive to reach it.
 */
#ifndef TDA__ALLOC_HOOKS_H
#define TDA__ALLOC_HOOKS_H
#include <stddef.h>

typedef struct tda__alloc_hooks {
    void *(*malloc_fn)(size_t);
    void *(*realloc_fn)(void *, size_t);
    void (*free_fn)(void *);
    /* jansson's allocations (see alloc.c); NULL: malloc_fn serves them too. */
    void *(*json_malloc_fn)(size_t);
} tda__alloc_hooks;

/* NULL restores the C library's allocator. Not thread-safe: call before use. */
void tda__set_alloc_hooks(const tda__alloc_hooks *h);
#endif
