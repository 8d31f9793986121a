/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Several device logins at once in one thread, with a plain poll(2) loop: the
 * shape of any event loop. Each flow is a code some user would type in; the
 * engine polls them all over a few shared connections and reports each one
 * when it ends. Reads TRAKT_CLIENT_ID, TRAKT_CLIENT_SECRET (optional), TRAKT_OAUTH_URL
 * (optional, e.g. the emulator) and the number of flows from argv[1] (3).
 * Exits 0 when every flow got its token.
 *
 *   cc multi_poll.c $(pkg-config --cflags --libs traktdeviceauth) -o multi_poll
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include <traktdeviceauth.h>

#define MAX_FLOWS 100

static int succeeded;

static void on_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    const tda_code *code = userdata;
    if (status == TDA_OK) {
        printf("%s: authorized, token valid until %lld\n", code->user_code,
               (long long)token->expires_at);
        succeeded++;
    } else {
        printf("%s: %s\n", code->user_code,
               *tda_flow_error_detail(flow) ? tda_flow_error_detail(flow) : tda_strerror(status));
    }
    tda_token_clear(token); /* a real program saves it first */
}

int main(int argc, char **argv)
{
    const char *id = getenv("TRAKT_CLIENT_ID"), *secret = getenv("TRAKT_CLIENT_SECRET");
    const char *url = getenv("TRAKT_OAUTH_URL");
    int n = argc > 1 ? atoi(argv[1]) : 3;
    if (!id || n < 1 || n > MAX_FLOWS) {
        fprintf(stderr, "usage: TRAKT_CLIENT_ID=.. multi_poll [1-%d]\n", MAX_FLOWS);
        return 2;
    }
    if (tda_global_init() != TDA_OK) /* once, at start: libcurl's and jansson's set-up */
        return 1;
    tda_client *client = tda_client_new(id, secret);
    if (!client || (url && tda_client_set_base_url(client, url) != TDA_OK))
        return 1;
    tda_client_set_user_agent(client, "multi-poll-example/1.0");
    tda_multi *multi = tda_multi_new(client);
    static tda_code codes[MAX_FLOWS];
    for (int i = 0; multi && i < n; i++) {
        if (tda_generate_code(client, &codes[i]) != TDA_OK) {
            fprintf(stderr, "no code: %s\n", tda_client_error_detail(client));
            return 1;
        }
        printf("user %d: go to %s and enter %s\n", i + 1, codes[i].verification_url,
               codes[i].user_code);
        tda_multi_add(multi, &codes[i], NULL, on_done, &codes[i]);
    }

    /* The event loop: sleep until a socket is ready or the engine's next deadline. */
    while (multi && tda_multi_flow_count(multi) > 0) {
        struct pollfd fds[16];
        int nfds = tda_multi_fds(multi, fds, 16);
        if (nfds > 16) { /* the total: more than fit, so some would go unwatched */
            fprintf(stderr, "more than 16 descriptors to watch\n");
            return 1;
        }
        poll(fds, (nfds_t)nfds, (int)tda_multi_timeout_ms(multi));
        tda_multi_perform(multi);
    }

    tda_multi_free(multi);
    for (int i = 0; i < n; i++)
        tda_code_clear(&codes[i]);
    tda_client_free(client);
    tda_global_cleanup();
    printf("%d of %d authorized\n", succeeded, n);
    return succeeded == n ? 0 : 1;
}
