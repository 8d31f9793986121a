/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store handle: a table of operations over someone's storage (the file
 * stores of store_file.c, or the application's own), its lock timeout, the
 * new-token hook and the last detail. The lifecycle (lifecycle.c) is written
 * against this alone, so every store gets the same rules.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store.h"

tda_store *tda_store_new(const tda_store_ops *ops, void *self)
{
    if (!ops || !ops->load || !ops->lock || !ops->save || !ops->unlock)
        return NULL;
    tda_store *s = tda__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ops = *ops;
    s->self = self;
    s->lock_timeout_ms = TDA__STORE_DEFAULT_LOCK_TIMEOUT_MS;
    return s;
}

void tda_store_free(tda_store *s)
{
    if (!s)
        return;
    if (s->ops.destroy)
        s->ops.destroy(s->self);
    tda__free(s);
}

tda_status tda_store_set_lock_timeout_ms(tda_store *s, long ms)
{
    if (!s || ms < 0)
        return TDA_INVALID_ARGUMENT;
    s->lock_timeout_ms = ms;
    return TDA_OK;
}

void tda_store_on_token(tda_store *s, tda_token_fn fn, void *userdata)
{
    if (!s)
        return;
    s->on_token = fn;
    s->on_token_data = userdata;
}

const char *tda_store_error_detail(const tda_store *s)
{
    return s ? s->detail : "";
}

const char *tda_store_location(tda_store *s, const char *key)
{
    if (!s)
        return "";
    const char *where = s->ops.location ? s->ops.location(s->self, key) : NULL;
    return where ? where : key ? key : "(the store's one token)";
}

tda_store_wait tda__store_wait_for(const tda_store *s, int cancel_fd)
{
    tda_store_wait w = {tda_monotonic_ms() + s->lock_timeout_ms, cancel_fd};
    return w;
}

tda_status tda__store_unlock(tda_store *s, void *lock, int commit)
{
    if (commit)
        return s->ops.unlock(s->self, lock, 1, s->detail, sizeof s->detail);
    char ignored[TDA__STORE_DETAIL_SIZE] = "";
    s->ops.unlock(s->self, lock, 0, ignored, sizeof ignored);
    return TDA_OK;
}

void tda__store_tell(tda_store *s, const char *key, const tda_token *t, tda_status saved)
{
    if (s->on_token)
        s->on_token(key, t, saved, s->on_token_data);
}

tda_status tda_store_wait_fd(const tda_store_wait *w, int fd, short events, long max_ms)
{
    if (!w)
        return TDA_INVALID_ARGUMENT;
    for (;;) {
        int64_t left = w->deadline_ms - tda_monotonic_ms();
        if (left <= 0)
            return TDA_LOCKED;
        long wait_ms = max_ms >= 0 && max_ms < left ? max_ms : (long)(left < 60000 ? left : 60000);
        struct pollfd fds[2] = {{w->cancel_fd, POLLIN, 0}, {fd, events, 0}};
        int n = poll(fds, 2, (int)wait_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
            return TDA_CANCELLED;
        if (n != 0 || max_ms >= 0)
            return tda_monotonic_ms() >= w->deadline_ms ? TDA_LOCKED : TDA_OK;
    }
}

static tda_status need_store(const tda_store *s)
{
    return s ? TDA_OK : TDA_INVALID_ARGUMENT;
}

tda_status tda_store_check(tda_store *s, const char *key, const char *client_id)
{
    tda_status st = need_store(s);
    if (st != TDA_OK)
        return st;
    s->detail[0] = '\0';
    if (client_id) {
        tda_token old;
        st = tda_store_load(s, key, client_id, &old);
        if (st == TDA_WRONG_CLIENT) {
            snprintf(s->detail, sizeof s->detail,
                     "%s holds a token of client id %s; saving one of %s would destroy it. Give "
                     "each app its own place, or revoke that token first",
                     tda_store_location(s, key), old.client_id, client_id);
            tda_token_clear(&old);
            return st;
        }
        tda_token_clear(&old);
        if (st == TDA_NO_MEMORY || st == TDA_INVALID_ARGUMENT)
            return st;
        s->detail[0] = '\0'; /* none, ours, or damaged: a login is how to replace it */
    }
    return s->ops.check ? s->ops.check(s->self, key, s->detail, sizeof s->detail) : TDA_OK;
}

tda_status tda_store_load(tda_store *s, const char *key, const char *client_id, tda_token *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!s || !out)
        return TDA_INVALID_ARGUMENT;
    s->detail[0] = '\0';
    tda_status st = s->ops.load(s->self, key, out, s->detail, sizeof s->detail);
    if (st != TDA_OK) {
        tda_token_clear(out);
        return st;
    }
    if (client_id && out->client_id && strcmp(client_id, out->client_id) != 0) {
        snprintf(s->detail, sizeof s->detail,
                 "the token in %s belongs to client id %s, not %s; "
                 "log in again, or give each app its own place",
                 tda_store_location(s, key), out->client_id, client_id);
        return TDA_WRONG_CLIENT; /* *out stays filled, for a message */
    }
    return TDA_OK;
}

tda_status tda_store_save(tda_store *s, const char *key, const tda_token *token)
{
    if (!s || !token || !token->access_token || !token->refresh_token || !token->token_type)
        return TDA_INVALID_ARGUMENT;
    s->detail[0] = '\0';
    tda_store_wait w = tda__store_wait_for(s, -1);
    void *lock = NULL;
    tda_status st = s->ops.lock(s->self, key, &w, &lock, s->detail, sizeof s->detail);
    if (st != TDA_OK)
        return st;
    if (s->ops.prepare)
        st = s->ops.prepare(s->self, lock, s->detail, sizeof s->detail);
    if (st == TDA_OK)
        st = s->ops.save(s->self, lock, token, s->detail, sizeof s->detail);
    tda_status unlocked = tda__store_unlock(s, lock, st == TDA_OK);
    if (st == TDA_OK)
        st = unlocked;
    tda__store_tell(s, key, token, st);
    return st;
}
