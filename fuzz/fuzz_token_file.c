/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the token file loader, on files of any content. Each input is
 * written to a private 0600 file and loaded, with and without an expected
 * client id. Without one, any client's token is accepted, so WRONG_CLIENT
 * there is a bug; with one, WRONG_CLIENT must name a different client id.
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
        snprintf(path, sizeof path, "/tmp/tda-fuzz-token-%ld.json", (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    for (int pass = 0; pass < 2; pass++) {
        tda_token t;
        tda_status st = tda_token_load(path, pass ? "fuzz-client" : NULL, &t);
        if (pass == 0 && st == TDA_WRONG_CLIENT)
            abort(); /* no client id was asked for */
        if (st == TDA_OK || st == TDA_WRONG_CLIENT) {
            if (!t.access_token || !t.refresh_token || !t.token_type)
                abort();
            if (st == TDA_WRONG_CLIENT && (!t.client_id || !strcmp(t.client_id, "fuzz-client")))
                abort();
        } else if (t.access_token || t.refresh_token || t.client_id) {
            abort(); /* any other failure leaves the struct zeroed */
        }
        tda_token_clear(&t);
    }
    unlink(path);
    return 0;
}
