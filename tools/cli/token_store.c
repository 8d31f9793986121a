/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which store the commands use, and how its failures are told. The library
 * owns everything about keeping the token (locks, room, atomic saves, the
 * checks and their wording: see tda_store_file_new, tda_token_get); this file
 * only picks the place: one token file, or with --key one file per account
 * in a directory, or one row per account in PostgreSQL (--store).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define APP_SUBDIR "/trakt-device-auth"
#define DEFAULT_LOCK_WAIT_S 60.0

/* $XDG_CONFIG_HOME/trakt-device-auth + tail, or ~/.config/...; NULL without either. */
static char *config_path(const char *tail)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    const char *base;
    const char *middle = "";
    /* The XDG spec: a relative XDG_CONFIG_HOME is invalid and ignored. */
    if (xdg && xdg[0] == '/') {
        base = xdg;
    } else if (home && home[0] == '/') {
        base = home;
        middle = "/.config";
    } else {
        return NULL;
    }
    size_t len = strlen(base) + strlen(middle) + sizeof APP_SUBDIR + strlen(tail);
    char *path = malloc(len);
    if (path)
        snprintf(path, len, "%s%s%s%s", base, middle, APP_SUBDIR, tail);
    return path;
}

char *cli_default_token_file(void)
{
    return config_path("/token.json");
}

char *cli_default_token_dir(void)
{
    return config_path("/tokens");
}

int cli_open_store(cli_options *o)
{
    if (o->store_url) {
        o->store = tda_store_pg_new(o->store_url, o->client_id, NULL);
        if (!o->store) {
            /* The URL was checked; what the library refuses here is the client id. */
            cli_error(o, CLI_EXIT_USAGE, TDA_INVALID_ARGUMENT,
                      "--store: the client id must be 1 "
                      "to 256 printable characters without spaces to key tokens in PostgreSQL");
            return CLI_EXIT_USAGE;
        }
    } else {
        o->store = o->key ? tda_store_dir_new(o->token_dir) : tda_store_file_new(o->token_file);
    }
    double wait_s = o->timeout_s > 0 ? o->timeout_s : DEFAULT_LOCK_WAIT_S;
    if (!o->store || tda_store_set_lock_timeout_ms(o->store, (long)(wait_s * 1000.0)) != TDA_OK) {
        cli_error(o, CLI_EXIT_FAILURE, TDA_NO_MEMORY, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    if (o->key) {
        /* Messages name the key's own file. */
        free(o->token_file);
        o->token_file = strdup(tda_store_location(o->store, o->key));
        if (!o->token_file) {
            cli_error(o, CLI_EXIT_FAILURE, TDA_NO_MEMORY, "out of memory");
            return CLI_EXIT_FAILURE;
        }
    }
    return CLI_EXIT_OK;
}
