/* SPDX-License-Identifier: Apache-2.0 */
/* The one allocation wrapper: tests swap the hooks to fail allocations in turn. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_hooks.h"
#include "internal.h"

static tda__alloc_hooks hooks = {malloc, realloc, free, NULL};

void tda__set_alloc_hooks(const tda__alloc_hooks *h)
{
    if (h) {
        hooks = *h;
    } else {
        hooks.malloc_fn = malloc;
        hooks.realloc_fn = realloc;
        hooks.free_fn = free;
        hooks.json_malloc_fn = NULL;
    }
}

void *tda__malloc(size_t n)
{
    return hooks.malloc_fn(n ? n : 1);
}

void *tda__calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = tda__malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *tda__realloc(void *p, size_t n)
{
    return hooks.realloc_fn(p, n ? n : 1);
}

void tda__free(void *p)
{
    if (p)
        hooks.free_fn(p);
}

char *tda__strndup(const char *s, size_t n)
{
    char *d = tda__malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *tda__strdup(const char *s)
{
    return s ? tda__strndup(s, strlen(s)) : NULL;
}

void tda__wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

void tda__free_secret(char *s)
{
    if (!s)
        return;
    tda__wipe(s, strlen(s));
    tda__free(s);
}

/*
 * jansson's allocations go through the wrapper too, for one reason above all:
 * when an allocation fails inside its parser, jansson reports a syntax error
 * ("string or '}' expected"), so without this flag a full memory would be
 * blamed on Trakt's answer or on the token file. The flag is per thread.
 *
 * The functions hand out plain tda__malloc blocks (no header), so objects stay
 * compatible with malloc and free: installing them is harmless to a program
 * that uses jansson itself. Only tda_global_init installs them (global.c),
 * never the mere loading of the library, and only while jansson still has
 * its default allocator, so a program's own choice wins. Without them a
 * jansson allocation that fails looks like malformed input to its caller:
 * the call then fails with TDA_BAD_RESPONSE or TDA_FILE_CORRUPT (reading), or
 * TDA_INVALID_ARGUMENT (saving), instead of TDA_NO_MEMORY, and nothing worse
 * happens (tests/it_oom.c).
 */
static _Thread_local int json_out_of_memory;

static void *json_alloc(size_t n)
{
    void *p = hooks.json_malloc_fn ? hooks.json_malloc_fn(n ? n : 1) : tda__malloc(n);
    if (!p)
        json_out_of_memory = 1;
    return p;
}

static void json_release(void *p)
{
    tda__free(p);
}

int tda__jansson_route(void)
{
    json_malloc_t current_malloc = NULL;
    json_free_t current_free = NULL;
    json_get_alloc_funcs(&current_malloc, &current_free);
    if (current_malloc == json_alloc && current_free == json_release)
        return 0; /* already ours (a second library copy's init, say): not ours to undo */
    if (current_malloc != malloc || current_free != free)
        return 0;
    json_set_alloc_funcs(json_alloc, json_release);
    return 1;
}

void tda__jansson_unroute(void)
{
    json_malloc_t current_malloc = NULL;
    json_free_t current_free = NULL;
    json_get_alloc_funcs(&current_malloc, &current_free);
    /* Only our own, so that an allocator the program set since stays. */
    if (current_malloc == json_alloc && current_free == json_release)
        json_set_alloc_funcs(malloc, free);
}

void tda__json_oom_reset(void)
{
    json_out_of_memory = 0;
}

int tda__json_oom_happened(void)
{
    return json_out_of_memory;
}
