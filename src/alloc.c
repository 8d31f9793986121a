/* The one allocation wrapper: tests swap the hooks to fail allocations in turn. */
#include <stdlib.h>
#include <string.h>

#include "alloc_hooks.h"
#include "internal.h"

static tda_alloc_hooks hooks = {malloc, realloc, free};

void tda_set_alloc_hooks(const tda_alloc_hooks *h)
{
    if (h) {
        hooks = *h;
    } else {
        hooks.malloc_fn = malloc;
        hooks.realloc_fn = realloc;
        hooks.free_fn = free;
    }
}

void *tda_malloc(size_t n)
{
    return hooks.malloc_fn(n ? n : 1);
}

void *tda_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = tda_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *tda_realloc(void *p, size_t n)
{
    return hooks.realloc_fn(p, n ? n : 1);
}

void tda_free(void *p)
{
    if (p)
        hooks.free_fn(p);
}

char *tda_strndup(const char *s, size_t n)
{
    char *d = tda_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *tda_strdup(const char *s)
{
    return s ? tda_strndup(s, strlen(s)) : NULL;
}

void tda_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

void tda_free_secret(char *s)
{
    if (!s)
        return;
    tda_wipe(s, strlen(s));
    tda_free(s);
}
