/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A valid token in one call (tda_token_get), over any store. This is the
 * one place that knows the dance around a single-use refresh token: read
 * without a lock while the token is not due; when it is, lock, re-read, and
 * notice a pair another process rotated meanwhile (re-testing "is it due" is
 * not enough: with a wrong clock the rotated pair may look due too, and every
 * waiter would refresh again); secure the room to save before spending the
 * refresh token; save before returning; keep the old token on a failure that
 * leaves it working.
 */
#include <string.h>

#include "client.h"
#include "store.h"

static tda_status begin(tda_client *c, tda_store *s, tda_token *out, tda_get_info *info)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (info)
        memset(info, 0, sizeof *info);
    if (!c || !s || !out)
        return TDA_INVALID_ARGUMENT;
    c->http_status = 0;
    c->retry_after_ms = -1;
    s->detail[0] = '\0';
    if (atomic_load(&c->cancelled)) {
        tda__client_set_detail(c, "the client was cancelled; call tda_client_reset_cancel to "
                                  "reuse it");
        return TDA_CANCELLED;
    }
    c->detail[0] = '\0';
    return TDA_OK;
}

/* A store failure: its detail becomes the client's, where callers look. */
static tda_status from_store(tda_client *c, const tda_store *s, tda_status st)
{
    if (st != TDA_OK)
        tda__client_set_detail(c, "%s", s->detail);
    return st;
}

static tda_status check_client(tda_client *c, tda_store *s, const char *key, const tda_token *t)
{
    if (!t->client_id || strcmp(t->client_id, c->client_id) == 0)
        return TDA_OK;
    tda__client_set_detail(c,
                           "the token in %s belongs to client id %s, not %s; log in again, or "
                           "give each app its own place",
                           tda_store_location(s, key), t->client_id, c->client_id);
    return TDA_WRONG_CLIENT;
}

static tda_status load_locked(tda_client *c, tda_store *s, const char *key, void *lock,
                              tda_token *out)
{
    memset(out, 0, sizeof *out); /* an op that fails may leave it alone */
    tda_status st = s->ops.load_locked
                        ? s->ops.load_locked(s->self, lock, out, s->detail, sizeof s->detail)
                        : s->ops.load(s->self, key, out, s->detail, sizeof s->detail);
    if (st != TDA_OK) {
        tda_token_clear(out);
        return from_store(c, s, st);
    }
    st = check_client(c, s, key, out);
    if (st != TDA_OK)
        tda_token_clear(out);
    return st;
}

/*
 * Whether a failed refresh leaves the stored token, while not expired, worth
 * returning: when waiting or fixing the machine can cure the failure. Not when
 * Trakt refused the refresh token or the client, TLS failed, or the caller
 * cancelled: someone has to act on those.
 */
static int can_fall_back(tda_status st)
{
    switch (st) {
    case TDA_SLOW_DOWN:
    case TDA_UNEXPECTED_STATUS:
    case TDA_BAD_RESPONSE:
    case TDA_IO:               /* a read-only or unwritable place */
    case TDA_NO_SPACE:         /* a full disk or quota */
    case TDA_INVALID_ARGUMENT: /* e.g. a client without the secret this app still needs */
        return 1;
    default:
        return tda_status_is_transient(st); /* 5xx, 52x, network, timeouts, a lock held */
    }
}

/*
 * After invalid_grant: one more read, since a process that does not take the
 * lock (an older version, another machine on a shared disk) may have rotated
 * the pair. Returns TDA_OK with its pair in *out, or TDA_INVALID_GRANT.
 */
static tda_status reread(tda_client *c, tda_store *s, const char *key, void *lock,
                         const tda_token *spent, tda_token *out)
{
    char why[TDA__DETAIL_SIZE];
    memcpy(why, c->detail, sizeof why);
    tda_token again;
    tda_status st = load_locked(c, s, key, lock, &again);
    if (st == TDA_OK && strcmp(again.refresh_token, spent->refresh_token) != 0) {
        *out = again;
        return TDA_OK;
    }
    tda_token_clear(&again);
    tda__client_set_detail(c,
                           "Trakt refused the stored refresh token (%s); %s still holds it: "
                           "the user must log in again",
                           why, tda_store_location(s, key));
    return TDA_INVALID_GRANT;
}

/*
 * Under key's lock: reads the pair, refreshes it unless another process has
 * replaced the one found due (seen; NULL: refresh in any case), saves the new
 * pair, unlocks, tells the hook. *spent: the stored refresh token was spent
 * (then the stored pair is no fallback, whatever happened next).
 */
static tda_status refresh_locked(tda_client *c, tda_store *s, const char *key,
                                 const tda_token *seen, tda_token *out, tda_get_info *info,
                                 int *spent)
{
    *spent = 0;
    tda_store_wait wait = tda__store_wait_for(s, c->cancel_pipe[0]);
    void *lock = NULL;
    tda_status st = s->ops.lock(s->self, key, &wait, &lock, s->detail, sizeof s->detail);
    if (st != TDA_OK)
        return from_store(c, s, st);
    tda_token cur;
    st = load_locked(c, s, key, lock, &cur);
    if (st == TDA_OK && seen && strcmp(cur.refresh_token, seen->refresh_token) != 0) {
        tda__store_unlock(s, lock, 0);
        *out = cur;
        info->rotated = 1;
        return TDA_OK;
    }
    if (st == TDA_OK && s->ops.prepare) {
        st = s->ops.prepare(s->self, lock, s->detail, sizeof s->detail);
        if (st != TDA_OK)
            tda__client_set_detail(c, "%s; the refresh token was not spent", s->detail);
    }
    tda_token fresh = {0};
    if (st == TDA_OK)
        st = tda_refresh_token(c, cur.refresh_token, &fresh);
    if (st == TDA_INVALID_GRANT && reread(c, s, key, lock, &cur, out) == TDA_OK) {
        tda__store_unlock(s, lock, 0);
        tda_token_clear(&cur);
        info->rotated = 1;
        return TDA_OK;
    }
    tda_token_clear(&cur);
    if (st != TDA_OK) {
        tda__store_unlock(s, lock, 0);
        return st;
    }
    /* The old refresh token is spent: the new pair is saved before anyone uses it. */
    *spent = 1;
    st = s->ops.save(s->self, lock, &fresh, s->detail, sizeof s->detail);
    tda_status committed = tda__store_unlock(s, lock, st == TDA_OK);
    if (st == TDA_OK)
        st = committed;
    tda__store_tell(s, key, &fresh, st);
    if (st != TDA_OK) {
        tda__client_set_detail(c,
                               "the refresh succeeded but the new pair could not be saved: %s; "
                               "the old refresh token is spent, so log in again once this is "
                               "fixed",
                               s->detail);
        tda_token_clear(&fresh);
        return st;
    }
    if (s->detail[0]) /* saved, with a warning (a flush the filesystem failed) */
        tda__client_set_detail(c, "%s", s->detail);
    *out = fresh;
    info->refreshed = 1;
    return TDA_OK;
}

static tda_status get(tda_client *c, tda_store *s, const char *key, int force, tda_token *out,
                      tda_get_info *caller_info)
{
    tda_get_info scratch = {0}; /* begin clears it too, but cppcheck does not follow that */
    tda_get_info *info = caller_info ? caller_info : &scratch;
    tda_status st = begin(c, s, out, info);
    if (st != TDA_OK)
        return st;
    tda_token seen = {0}; /* an op that fails may leave it alone */
    st = s->ops.load(s->self, key, &seen, s->detail, sizeof s->detail);
    if (st == TDA_OK)
        st = check_client(c, s, key, &seen);
    else
        from_store(c, s, st);
    if (st != TDA_OK) {
        tda_token_clear(&seen);
        return st;
    }
    tda_token_age age;
    tda_token_age_of(&seen, &age);
    if (!force && !age.due) { /* the common case: one read, no lock, no request */
        *out = seen;
        info->age = age;
        return TDA_OK;
    }
    int spent;
    st = refresh_locked(c, s, key, force ? NULL : &seen, out, info, &spent);
    if (st != TDA_OK && !force && !spent && can_fall_back(st)) {
        tda_token_age_of(&seen, &age); /* the lock wait may have been long */
        if (!age.expired) {
            *out = seen;
            info->stale = 1;
            info->refresh_status = st;
            info->age = age;
            return TDA_OK;
        }
    }
    tda_token_clear(&seen);
    if (st == TDA_OK)
        tda_token_age_of(out, &info->age);
    return st;
}

tda_status tda_token_get(tda_client *c, tda_store *store, const char *key, tda_token *out,
                         tda_get_info *info)
{
    return get(c, store, key, 0, out, info);
}

tda_status tda_token_renew(tda_client *c, tda_store *store, const char *key, tda_token *out,
                           tda_get_info *info)
{
    return get(c, store, key, 1, out, info);
}

tda_status tda_token_revoke_stored(tda_client *c, tda_store *s, const char *key)
{
    tda_token cur;
    tda_status st = begin(c, s, &cur, NULL);
    if (st != TDA_OK)
        return st;
    if (!s->ops.remove) {
        tda__client_set_detail(c, "this store cannot remove a token (its ops have no remove)");
        return TDA_INVALID_ARGUMENT;
    }
    tda_store_wait wait = tda__store_wait_for(s, c->cancel_pipe[0]);
    void *lock = NULL;
    st = s->ops.lock(s->self, key, &wait, &lock, s->detail, sizeof s->detail);
    if (st != TDA_OK)
        return from_store(c, s, st);
    st = load_locked(c, s, key, lock, &cur);
    if (st == TDA_OK)
        st = tda_revoke_token(c, cur.access_token);
    tda_token_clear(&cur);
    if (st != TDA_OK) { /* kept: the stored token is the only way to try again */
        tda__store_unlock(s, lock, 0);
        return st;
    }
    st = s->ops.remove(s->self, lock, s->detail, sizeof s->detail);
    tda_status committed = tda__store_unlock(s, lock, st == TDA_OK);
    if (st == TDA_OK)
        st = committed;
    if (st != TDA_OK)
        tda__client_set_detail(c,
                               "the token was revoked at Trakt, but could not be removed from "
                               "the store: %s",
                               s->detail);
    return st;
}
