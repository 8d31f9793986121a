/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: a directory store's keys as file names (src/store_keys.c). The
 * input is two keys, split at the first 0xFF byte. An accepted key's name
 * must be safe (only a-z, 0-9, '-', '_', '.', '%' and capital hex digits,
 * not starting with '.', ending in ".json", short enough for any filesystem
 * with the lock's and temporary file's suffixes) and must decode back to the
 * key; two different keys must never share a name, even ignoring case.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Checks the name of an accepted key and that it decodes back to the key. */
static void check_name(const char *key, const char *name)
{
    size_t len = strlen(name);
    if (len < 6 || strcmp(name + len - 5, ".json") != 0 || name[0] == '.' ||
        len + strlen(".lock") > 255 || len + strlen(".tmp.XXXXXX") > 255)
        abort();
    char decoded[TDA__STORE_NAME_MAX];
    size_t n = 0;
    for (size_t i = 0; i < len - 5; i++) {
        char c = name[i];
        if (c == '%') {
            int hi = hex(name[i + 1]), lo = hi >= 0 ? hex(name[i + 2]) : -1;
            if (lo < 0)
                abort();
            decoded[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                   c == '.') {
            decoded[n++] = c;
        } else {
            abort(); /* '/', a capital, a control byte... */
        }
    }
    decoded[n] = '\0';
    if (strcmp(decoded, key) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *split = memchr(data, 0xff, size);
    size_t len_a = split ? (size_t)(split - data) : size;
    char *a = strndup((const char *)data, len_a); /* a NUL inside ends the key, as in C */
    char *b = split ? strndup((const char *)split + 1, size - len_a - 1) : strdup("");
    if (!a || !b)
        abort();
    char name_a[TDA__STORE_NAME_MAX], name_b[TDA__STORE_NAME_MAX], detail[256];
    tda_status st_a = tda__store_key_file_name(a, name_a, sizeof name_a, detail, sizeof detail);
    tda_status st_b = tda__store_key_file_name(b, name_b, sizeof name_b, detail, sizeof detail);
    if (st_a == TDA_OK)
        check_name(a, name_a);
    else if (st_a != TDA_INVALID_ARGUMENT || name_a[0])
        abort();
    if (st_b == TDA_OK)
        check_name(b, name_b);
    if (st_a == TDA_OK && st_b == TDA_OK && strcasecmp(name_a, name_b) == 0 && strcmp(a, b) != 0)
        abort();
    free(a);
    free(b);
    return 0;
}
