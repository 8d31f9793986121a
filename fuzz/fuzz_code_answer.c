/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the parser of POST /oauth/device/code answers, fed any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tda_code code;
    char detail[256] = "";
    tda_status st = tda__parse_code((const char *)data, size, &code, detail, sizeof detail);
    if (st == TDA_OK) {
        /* What success promises: every field usable, the interval and life positive. */
        if (!code.device_code || !code.user_code || !code.verification_url ||
            code.interval_ms <= 0 || code.expires_in_ms <= 0)
            abort();
    } else if (code.device_code || code.user_code || code.verification_url) {
        abort(); /* failure leaves the struct zeroed */
    }
    if (memchr(detail, '\0', sizeof detail) == NULL)
        abort();
    tda_code_clear(&code);
    return 0;
}
