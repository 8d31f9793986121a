/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the parser of token answers (device token and refresh), fed any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tda_token token;
    char detail[256] = "";
    tda_status st = tda__parse_token((const char *)data, size, &token, detail, sizeof detail);
    if (st == TDA_OK) {
        if (!token.access_token || !token.refresh_token || !token.token_type ||
            token.expires_at != token.created_at + token.expires_in)
            abort();
    } else if (token.access_token || token.refresh_token) {
        abort();
    }
    if (memchr(detail, '\0', sizeof detail) == NULL)
        abort();
    tda_token_clear(&token);
    return 0;
}
