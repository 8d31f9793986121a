/* SPDX-License-Identifier: Apache-2.0 */
/* A string-keyed hash index. Open addressing, string keys owned by the
 * values, no deletion: records live until the server stops, so a spent code
 * still answers 409 or 410. */
#ifndef EMU_INDEX_H
#define EMU_INDEX_H

#include <stdbool.h>
#include <stddef.h>

struct emu_index_slot {
    const char *key;
    void *value;
};

struct emu_index {
    struct emu_index_slot *slots;
    size_t capacity; /* a power of two, or 0 before the first insert */
    size_t count;
};

void *emu_index_get(const struct emu_index *idx, const char *key);
bool emu_index_put(struct emu_index *idx, const char *key, void *value);
void emu_index_free(struct emu_index *idx, bool free_values);

#endif
