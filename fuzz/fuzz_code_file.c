/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the saved-code loader, on files of any content. Each input is
 * written to a private 0600 file and loaded, with and without an expected
 * client id. A code that loads must be complete, with a life and interval
 * in range, an issue time no later than now, and a remaining life no longer
 * than its whole life: nothing that could make a poll of an impossible code.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traktdeviceauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/tda-fuzz-code-%ld.json", (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    for (int pass = 0; pass < 2; pass++) {
        tda_code c;
        tda_status st = tda_code_load(path, pass ? "fuzz-client" : NULL, &c);
        if (st == TDA_OK || st == TDA_WRONG_CLIENT) {
            if (!c.device_code || !*c.device_code || !c.user_code || !*c.user_code ||
                !c.verification_url || !*c.verification_url)
                abort();
            if (c.expires_in_ms <= 0 || c.expires_in_ms > 7LL * 24 * 3600 * 1000 ||
                c.interval_ms <= 0 || c.interval_ms > 3600LL * 1000 || c.issued_at_ms == 0 ||
                c.issued_at_ms > tda_boottime_ms() || c.issued_at_unix_ms <= 0)
                abort();
            int64_t left = tda_code_remaining_ms(&c);
            if (left < 0 || left > c.expires_in_ms)
                abort();
            if (st == TDA_WRONG_CLIENT && (!c.client_id || !strcmp(c.client_id, "fuzz-client")))
                abort();
        } else if (c.device_code || c.user_code || c.verification_url || c.client_id) {
            abort(); /* any other failure leaves the struct zeroed */
        }
        tda_code_clear(&c);
    }
    unlink(path);
    return 0;
}
