/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A directory store's keys as file names. A key comes from the application
 * (a user id, an account name, maybe typed by someone), so it must never name
 * a file outside the directory, another key's file, or the lock or temporary
 * file of one. Pure: no I/O, unit-tested and fuzzed.
 */
#include <stdio.h>
#include <string.h>

#include "store.h"

static int passes(unsigned char ch, size_t at)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
           (ch == '.' && at > 0);
}

tda_status tda__store_key_file_name(const char *key, char *out, size_t out_size, char *detail,
                                    size_t size)
{
    if (out_size)
        out[0] = '\0';
    if (!key) {
        snprintf(detail, size, "a directory store needs a key (a user id or account name)");
        return TDA_INVALID_ARGUMENT;
    }
    size_t len = strlen(key);
    const char *why = NULL;
    if (len == 0)
        why = "it is empty";
    else if (len > TDA__STORE_KEY_MAX)
        why = "it is longer than 64 bytes";
    else if (strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
        why = "'.' and '..' name directories";
    else if (strchr(key, '/'))
        why = "it holds a '/'";
    for (size_t i = 0; !why && i < len; i++)
        if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
            why = "it holds a control character";
    if (why) {
        /* The key is not quoted: it may be anything, even a secret pasted by mistake. */
        snprintf(detail, size,
                 "unusable key (%zu bytes): %s. A key is 1 to %d bytes, not '.' or "
                 "'..', without '/' or control characters",
                 len, why, TDA__STORE_KEY_MAX);
        return TDA_INVALID_ARGUMENT;
    }
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)key[i];
        if (n + 4 > out_size)
            break;
        if (passes(ch, i)) {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    if (n + sizeof TDA__STORE_KEY_SUFFIX > out_size) {
        snprintf(detail, size, "internal error: no room for the key's file name");
        return TDA_INVALID_ARGUMENT;
    }
    memcpy(out + n, TDA__STORE_KEY_SUFFIX, sizeof TDA__STORE_KEY_SUFFIX);
    return TDA_OK;
}
