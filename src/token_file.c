/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The token file as a plain API, for programs that keep their own lifecycle:
 * save, load, lock. The stores (store_file.c) and this share file_ops.c, so
 * both follow the same rules: written so that no crash can lose it, read only
 * when nobody else could have read or changed it, kept apart from other
 * applications' tokens by the client id inside.
 */
#include <string.h>
#include <unistd.h>

#include "file_ops.h"

tda_status tda_token_save(const tda_token *token, const char *path)
{
    if (!token || !token->access_token || !token->refresh_token || !token->token_type || !path ||
        !*path)
        return TDA_INVALID_ARGUMENT;
    char detail[256];
    char *text = NULL;
    size_t len = 0;
    tda_status st = tda__token_to_json(token, &text, &len);
    if (st != TDA_OK)
        return st;
    st = tda__file_save(path, text, len, detail, sizeof detail);
    tda__wipe(text, len);
    tda__free(text);
    return st;
}

tda_status tda_token_load(const char *path, const char *expected_client_id, tda_token *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !*path || !out)
        return TDA_INVALID_ARGUMENT;
    char detail[512];
    tda_status st = tda__file_load(path, out, detail, sizeof detail);
    if (st != TDA_OK) {
        tda_token_clear(out);
        return st;
    }
    if (expected_client_id && out->client_id && strcmp(expected_client_id, out->client_id) != 0)
        return TDA_WRONG_CLIENT; /* *out stays filled, for a message */
    return TDA_OK;
}

tda_status tda_token_lock(const char *path, long timeout_ms, int *lock_fd)
{
    if (lock_fd)
        *lock_fd = -1;
    if (!path || !*path || !lock_fd || timeout_ms < 0)
        return TDA_INVALID_ARGUMENT;
    char detail[512];
    tda_store_wait wait = {timeout_ms ? tda_monotonic_ms() + timeout_ms : INT64_MAX, -1};
    tda_status st = tda__file_lock(path, &wait, lock_fd, detail, sizeof detail);
    return st == TDA_LOCKED ? TDA_TIMED_OUT : st; /* as this call always said */
}

void tda_token_unlock(int lock_fd)
{
    if (lock_fd >= 0)
        close(lock_fd); /* closing the descriptor releases the flock */
}

int tda_token_needs_refresh(const tda_token *token, int64_t now)
{
    if (!token)
        return 1;
    int64_t life = token->expires_at - token->created_at;
    int64_t margin = life / 10 > 60 ? life / 10 : 60;
    return token->expires_at - now < margin;
}
