/*
 * Refresh and revoke: exchange a refresh token for a new pair, then revoke the
 * new access token. Reads TRAKT_CLIENT_ID, TRAKT_OAUTH_URL (optional),
 * TRAKT_CLIENT_SECRET (optional, only for an app Trakt still asks for it) and
 * the refresh token from the first argument.
 *
 * Refresh tokens are single use: a real program saves the new pair durably
 * before anything else, and keeps the old one on a transient failure.
 */
#include <stdio.h>
#include <stdlib.h>

#include <traktdeviceauth.h>

int main(int argc, char **argv)
{
    const char *id = getenv("TRAKT_CLIENT_ID");
    const char *secret = getenv("TRAKT_CLIENT_SECRET");
    const char *url = getenv("TRAKT_OAUTH_URL");
    if (!id || argc != 2) {
        fprintf(stderr, "usage: TRAKT_CLIENT_ID=.. refresh REFRESH_TOKEN\n");
        return 2;
    }
    if (tda_global_init() != TDA_OK) /* once, at start: libcurl's and jansson's set-up */
        return 1;
    tda_client *client = tda_client_new(id, secret);
    if (!client)
        return 1;
    tda_status st = url ? tda_client_set_base_url(client, url) : TDA_OK;
    tda_token token = {0};
    if (st == TDA_OK)
        st = tda_refresh_token(client, argv[1], &token);
    if (st == TDA_OK) {
        printf("refreshed: new pair valid until %lld (Unix time)\n", (long long)token.expires_at);
        st = tda_revoke_token(client, token.access_token);
        if (st == TDA_OK)
            printf("revoked the new access token\n");
    } else if (st == TDA_INVALID_GRANT) {
        fprintf(stderr, "the refresh token is spent, revoked or too old: authorize again (%s)\n",
                tda_client_error_detail(client));
    } else if (tda_status_is_transient(st)) {
        fprintf(stderr, "temporary failure, keep the stored token and retry later: %s\n",
                tda_client_error_detail(client));
    }
    if (st != TDA_OK && st != TDA_INVALID_GRANT && !tda_status_is_transient(st)) {
        const char *detail = tda_client_error_detail(client); /* holds tda_strerror's text */
        fprintf(stderr, "error: %s\n", *detail ? detail : tda_strerror(st));
    }
    tda_token_clear(&token);
    tda_client_free(client);
    tda_global_cleanup();
    return st == TDA_OK ? 0 : 1;
}
