/* SPDX-License-Identifier: Apache-2.0 */
/* The store handle's insides, shared by store.c, the file stores and the lifecycle. */
#ifndef TDA__STORE_H
#define TDA__STORE_H

#include "internal.h"

#define TDA__STORE_DETAIL_SIZE 512
#define TDA__STORE_KEY_MAX 64
#define TDA__STORE_KEY_SUFFIX ".json"
/* The longest file name a key can make: every byte escaped, plus the suffix and a NUL. */
#define TDA__STORE_NAME_MAX ((size_t)TDA__STORE_KEY_MAX * 3 + sizeof TDA__STORE_KEY_SUFFIX)

#define TDA__STORE_DEFAULT_LOCK_TIMEOUT_MS 60000L

struct tda_store {
    tda_store_ops ops;
    void *self;
    long lock_timeout_ms;
    tda_token_fn on_token;
    void *on_token_data;
    char detail[TDA__STORE_DETAIL_SIZE];
};

/* ---- store_keys.c */
/*
 * Checks a directory store's key and writes its file name (escaped, plus
 * ".json") into out, which should hold TDA__STORE_NAME_MAX bytes.
 * TDA_INVALID_ARGUMENT with the rule it broke in detail.
 */
tda_status tda__store_key_file_name(const char *key, char *out, size_t out_size, char *detail,
                                    size_t size);

/* ---- store.c */
/* The wait a lock op is given for this store, cancellable through cancel_fd (-1: none). */
tda_store_wait tda__store_wait_for(const tda_store *s, int cancel_fd);
/*
 * Releases a lock. With commit 0 its status and detail are dropped: it ends a
 * failure whose own detail must survive.
 */
tda_status tda__store_unlock(tda_store *s, void *lock, int commit);
/* Calls the hook, if any, with a new pair and how saving it went. */
void tda__store_tell(tda_store *s, const char *key, const tda_token *t, tda_status saved);

#endif
