/* SPDX-License-Identifier: Apache-2.0 */
/* A string-keyed hash index. Benchmarks issue many thousands of codes and
 * tokens in one run, and every poll looks one up under the server lock, so
 * a linear scan would turn into the bottleneck being measured. */
#include "index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_MIN_CAPACITY 64

static uint64_t hash_key(const char *key)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h ^= *p;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static size_t find_slot(const struct emu_index_slot *slots, size_t capacity, const char *key)
{
    size_t mask = capacity - 1;
    size_t i = (size_t)hash_key(key) & mask;

    while (slots[i].key != NULL && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & mask;
    return i;
}

static bool grow(struct emu_index *idx)
{
    size_t capacity = idx->capacity == 0 ? INDEX_MIN_CAPACITY : idx->capacity * 2;
    struct emu_index_slot *slots = calloc(capacity, sizeof *slots);

    if (slots == NULL)
        return false;
    for (size_t i = 0; i < idx->capacity; i++) {
        if (idx->slots[i].key != NULL)
            slots[find_slot(slots, capacity, idx->slots[i].key)] = idx->slots[i];
    }
    free(idx->slots);
    idx->slots = slots;
    idx->capacity = capacity;
    return true;
}

void *emu_index_get(const struct emu_index *idx, const char *key)
{
    if (idx->capacity == 0)
        return NULL;
    return idx->slots[find_slot(idx->slots, idx->capacity, key)].value;
}

/* Keeps the load at most one half, so probes stay short. */
bool emu_index_put(struct emu_index *idx, const char *key, void *value)
{
    size_t i;

    if ((idx->count + 1) * 2 > idx->capacity && !grow(idx))
        return false;
    i = find_slot(idx->slots, idx->capacity, key);
    if (idx->slots[i].key == NULL)
        idx->count++;
    idx->slots[i].key = key;
    idx->slots[i].value = value;
    return true;
}

void emu_index_free(struct emu_index *idx, bool free_values)
{
    if (free_values) {
        for (size_t i = 0; i < idx->capacity; i++)
            free(idx->slots[i].value);
    }
    free(idx->slots);
    memset(idx, 0, sizeof *idx);
}
