/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The smallest complete device login: get a code, show it, wait for the user,
 * report the token's expiry. Reads TRAKT_CLIENT_ID and, optionally,
 * TRAKT_OAUTH_URL (e.g. the emulator's http://127.0.0.1:PORT). No client
 * secret: Trakt says one inside an app on the user's device is not secret
 * (TRAKT_CLIENT_SECRET is used if set, for an app Trakt still asks for it).
 *
 *   cc login.c $(pkg-config --cflags --libs traktdeviceauth) -o login
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <traktdeviceauth.h>

static void show_progress(const tda_event *ev, void *userdata)
{
    (void)userdata;
    switch (ev->kind) {
    case TDA_EVENT_PENDING:
        printf("  waiting for you... (code valid for %lld s more)\n",
               (long long)(ev->expires_in_ms / 1000));
        break;
    case TDA_EVENT_SLOW_DOWN:
        printf("  server asked to slow down: polling every %.1f s now\n",
               (double)ev->interval_ms / 1000.0);
        break;
    case TDA_EVENT_RETRY:
        printf("  %s; retrying in %.1f s\n", tda_strerror(ev->status),
               (double)ev->next_poll_in_ms / 1000.0);
        break;
    case TDA_EVENT_SUCCESS:
        printf("  approved\n");
        break;
    case TDA_EVENT_NEW_CODE: /* the old code expired unused (options.renewals) */
        printf("New code: go to %s and enter the code %s\n", ev->code->verification_url,
               ev->code->user_code);
        break;
    }
    fflush(stdout);
}

/* The detail already holds tda_strerror's text (and, for a 429, how long to wait). */
static void report(const tda_client *client, tda_status st)
{
    const char *detail = tda_client_error_detail(client);
    fprintf(stderr, "error: %s\n", *detail ? detail : tda_strerror(st));
}

int main(void)
{
    const char *id = getenv("TRAKT_CLIENT_ID");
    const char *secret = getenv("TRAKT_CLIENT_SECRET");
    const char *url = getenv("TRAKT_OAUTH_URL");
    if (!id) {
        fprintf(stderr, "set TRAKT_CLIENT_ID\n");
        return 2;
    }
    if (tda_global_init() != TDA_OK) /* once, at start: libcurl's and jansson's set-up */
        return 1;
    tda_client *client = tda_client_new(id, secret);
    if (!client) {
        fprintf(stderr, "could not create a client (bad client id?)\n");
        return 1;
    }
    tda_status st = tda_client_set_user_agent(client, "traktdeviceauth-example/1.0");
    if (st == TDA_OK && url)
        st = tda_client_set_base_url(client, url);
    tda_code code = {0};
    if (st == TDA_OK)
        st = tda_generate_code(client, &code);
    if (st != TDA_OK) {
        report(client, st);
        tda_client_free(client);
        return 1;
    }
    printf("Go to %s and enter the code %s\n", code.verification_url, code.user_code);
    fflush(stdout);

    tda_poll_options options = {0};
    options.on_event = show_progress;
    options.renewals = 2; /* nobody came in time: show a new code, twice at most */
    tda_token token = {0};
    st = tda_poll_for_token(client, &code, &options, &token);
    if (st == TDA_OK) {
        time_t expires = (time_t)token.expires_at;
        char when[64];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&expires));
        /* A real program saves the token here; it is a secret, so it is not printed. */
        printf("Authorized: %s token, scope \"%s\", expires %s\n", token.token_type, token.scope,
               when);
    } else {
        report(client, st);
    }
    tda_token_clear(&token);
    tda_code_clear(&code);
    tda_client_free(client);
    tda_global_cleanup();
    return st == TDA_OK ? 0 : 1;
}
