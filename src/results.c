/* SPDX-License-Identifier: Apache-2.0 */
/* Freeing result structs: every string is wiped first, since most are secrets. */
#include <string.h>

#include "internal.h"

void tda_code_clear(tda_code *code)
{
    if (!code)
        return;
    tda__free_secret(code->device_code);
    tda__free_secret(code->user_code);
    tda__free_secret(code->verification_url);
    tda__free(code->client_id);
    memset(code, 0, sizeof *code);
}

void tda_token_clear(tda_token *token)
{
    if (!token)
        return;
    tda__free_secret(token->access_token);
    tda__free_secret(token->token_type);
    tda__free_secret(token->refresh_token);
    tda__free_secret(token->scope);
    tda__free(token->client_id);
    memset(token, 0, sizeof *token);
}

tda_status tda_token_copy(const tda_token *token, tda_token *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!token || !out)
        return TDA_INVALID_ARGUMENT;
    *out = *token; /* the numbers and the received stamp */
    const char *const from[] = {token->access_token, token->token_type, token->refresh_token,
                                token->scope, token->client_id};
    char **const to[] = {&out->access_token, &out->token_type, &out->refresh_token, &out->scope,
                         &out->client_id};
    int failed = 0;
    for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
        *to[i] = from[i] && !failed ? tda__strdup(from[i]) : NULL;
        failed |= from[i] && !*to[i];
    }
    if (failed) {
        tda_token_clear(out);
        return TDA_NO_MEMORY;
    }
    return TDA_OK;
}
