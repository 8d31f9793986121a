/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A valid token whenever the program needs one: the pattern for every program
 * that keeps its token between runs. tda_token_get reads the stored token
 * and, only when it is due, refreshes it under a lock that all processes
 * share, saving the new pair before returning it. Start it from many
 * processes at once: they make one refresh between them.
 *
 * Reads TRAKT_CLIENT_ID, TRAKT_CLIENT_SECRET (optional: only for an app that
 * Trakt still asks for it; never ship one inside an app), TRAKT_OAUTH_URL
 * (optional, e.g. the emulator's), and the path of a token file such as
 * `trakt-device-auth login` writes.
 *
 *   cc refresh.c $(pkg-config --cflags --libs traktdeviceauth) -o refresh
 *   ./refresh ~/.config/trakt-device-auth/token.json
 */
#include <stdio.h>
#include <stdlib.h>

#include <traktdeviceauth.h>

int main(int argc, char **argv)
{
    const char *id = getenv("TRAKT_CLIENT_ID");
    const char *url = getenv("TRAKT_OAUTH_URL");
    if (!id || argc != 2) {
        fprintf(stderr, "usage: TRAKT_CLIENT_ID=.. [TRAKT_CLIENT_SECRET=..] refresh TOKEN_FILE\n");
        return 2;
    }
    if (tda_global_init() != TDA_OK) /* once, at start: libcurl's and jansson's set-up */
        return 1;
    tda_client *client = tda_client_new(id, getenv("TRAKT_CLIENT_SECRET"));
    tda_store *store = tda_store_file_new(argv[1]);
    if (!client || !store || (url && tda_client_set_base_url(client, url) != TDA_OK)) {
        fprintf(stderr, "cannot set up the client\n");
        return 1;
    }
    tda_client_set_user_agent(client, "example-refresh/1.0");

    /* 1. get: one call, safe against other processes; refreshes only when due. */
    tda_token token;
    tda_get_info info;
    tda_status st = tda_token_get(client, store, NULL, &token, &info);
    if (st == TDA_OK) {
        if (info.stale)
            fprintf(stderr, "could not refresh now (%s); the stored token still works\n",
                    tda_client_error_detail(client));
        printf("%s token, valid for %lld s more\n",
               info.refreshed ? "a refreshed"
               : info.rotated ? "another process's new"
                              : "the stored",
               (long long)(info.age.remaining_ms / 1000));
        /*
         * 2. use: send "Authorization: Bearer <token.access_token>" to https://api.trakt.tv
         * with this request. The token is a secret: never print or log it. Call
         * tda_token_get again before the next request rather than keeping the token.
         */
    } else if (st == TDA_FILE_MISSING || st == TDA_INVALID_GRANT) {
        fprintf(stderr, "log in first (trakt-device-auth login): %s\n",
                tda_client_error_detail(client));
    } else {
        fprintf(stderr, "no valid token: %s (%s)\n", tda_strerror(st),
                tda_client_error_detail(client));
    }
    tda_token_clear(&token); /* wipes it */
    tda_store_free(store);
    tda_client_free(client);
    tda_global_cleanup();
    return st == TDA_OK ? 0 : 1;
}
