/* SPDX-License-Identifier: Apache-2.0 */
/* Codes and tokens from the kernel's random source: tests that guess or
 * collide codes should fail the way they would against Trakt. */
#include "random.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>

static bool random_bytes(unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

bool emu_random_hex(char *out, size_t bytes)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char raw[64];

    if (bytes > sizeof raw || !random_bytes(raw, bytes))
        return false;
    for (size_t i = 0; i < bytes; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 0x0f];
    }
    out[2 * bytes] = '\0';
    return true;
}

/* Rejection sampling keeps every character equally likely: 238 is the
 * largest multiple of 34 that fits in a byte. */
bool emu_random_user_code(char out[EMU_USER_CODE_LEN + 1])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    enum { ALPHABET_LEN = sizeof alphabet - 1, LIMIT = 256 / ALPHABET_LEN * ALPHABET_LEN };
    size_t filled = 0;

    while (filled < EMU_USER_CODE_LEN) {
        unsigned char raw[16];
        if (!random_bytes(raw, sizeof raw))
            return false;
        for (size_t i = 0; i < sizeof raw && filled < EMU_USER_CODE_LEN; i++) {
            if (raw[i] < LIMIT)
                out[filled++] = alphabet[raw[i] % ALPHABET_LEN];
        }
    }
    out[EMU_USER_CODE_LEN] = '\0';
    return true;
}
