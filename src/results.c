/* Freeing result structs: every string is wiped first, since most are secrets. */
#include <string.h>

#include "internal.h"

void tda_code_clear(tda_code *code)
{
    if (!code)
        return;
    tda_free_secret(code->device_code);
    tda_free_secret(code->user_code);
    tda_free_secret(code->verification_url);
    tda_free(code->client_id);
    memset(code, 0, sizeof *code);
}

void tda_token_clear(tda_token *token)
{
    if (!token)
        return;
    tda_free_secret(token->access_token);
    tda_free_secret(token->token_type);
    tda_free_secret(token->refresh_token);
    tda_free_secret(token->scope);
    tda_free(token->client_id);
    memset(token, 0, sizeof *token);
}
