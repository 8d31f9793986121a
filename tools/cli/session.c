/* SPDX-License-Identifier: Apache-2.0 */
/* A library client configured from the command line and environment. */
#include <stdlib.h>

#include "cli.h"

void cli_log_to_stderr(const char *line, void *userdata)
{
    (void)userdata;
    fprintf(stderr, "%s\n", line);
}

int cli_client_new(cli_options *o, bool use_secret, const char *client_id, tda_client **out)
{
    *out = NULL;
    if (!client_id) {
        cli_error(o, CLI_EXIT_USAGE, TDA_OK,
                  "no client id: set TRAKT_CLIENT_ID or use --client-id (your app's id at "
                  "https://app.trakt.tv/settings/apps)");
        return CLI_EXIT_USAGE;
    }
    if (use_secret) {
        int rc = cli_gather_secret(o);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    tda_client *c = tda_client_new(client_id, use_secret ? o->client_secret : NULL);
    if (!c) {
        cli_error(o, CLI_EXIT_USAGE, TDA_INVALID_ARGUMENT,
                  "the client id must be printable ASCII (or memory ran out)");
        return CLI_EXIT_USAGE;
    }
    tda_status st = tda_client_set_user_agent(c, o->user_agent ? o->user_agent
                                                               : CLI_NAME "/" TDA_VERSION_STRING);
    if (st != TDA_OK) {
        cli_error(o, CLI_EXIT_USAGE, st, "the User-Agent must be 1 to 256 printable ASCII bytes");
        tda_client_free(c);
        return CLI_EXIT_USAGE;
    }
    if (o->base_url && (st = tda_client_set_base_url(c, o->base_url)) != TDA_OK) {
        cli_error(o, CLI_EXIT_USAGE, st,
                  "unusable base URL '%s': it must be https://, or http:// to a loopback address",
                  o->base_url);
        tda_client_free(c);
        return CLI_EXIT_USAGE;
    }
    if (o->redirect_uri && (st = tda_client_set_redirect_uri(c, o->redirect_uri)) != TDA_OK) {
        cli_error(o, CLI_EXIT_USAGE, st,
                  "the redirect URI must be 1 to 1024 printable ASCII bytes");
        tda_client_free(c);
        return CLI_EXIT_USAGE;
    }
    if (o->ca_file && (st = tda_client_set_ca_file(c, o->ca_file)) != TDA_OK) {
        cli_error(o, CLI_EXIT_USAGE, st, "unusable CA file '%s': it must be a readable PEM file",
                  o->ca_file);
        tda_client_free(c);
        return CLI_EXIT_USAGE;
    }
    if (o->verbose)
        tda_client_set_log(c, cli_log_to_stderr, NULL);
    cli_signals_watch(c);
    *out = c;
    return CLI_EXIT_OK;
}

void cli_client_free(tda_client *c)
{
    /*
     * The handler must never reach a freed client: the pointer is cleared with signals
     * held on this thread, which is where they arrive (the countdown thread blocks
     * them; a libcurl resolver thread could take one only during a name lookup, and
     * lookups are over by the time a client is freed).
     */
    cli_signals_watch(NULL);
    tda_client_free(c);
}
