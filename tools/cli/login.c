/*
 * login: get a code, show it, poll until the user decides, save the token.
 * Everything that can be checked before the user is asked to act is checked
 * first (client id and secret, the token file's place), so an approval is
 * never wasted on a token that cannot be saved.
 */
#include "view.h"

/* The token file may hold another application's token: never replace it silently. */
static int refuse_other_clients_token(const cli_options *o)
{
    tda_token old = {0};
    if (tda_token_load(o->token_file, o->client_id, &old) != TDA_WRONG_CLIENT) {
        tda_token_clear(&old); /* ours, loaded whole: wiped and freed */
        return CLI_EXIT_OK;    /* none, ours, or damaged: login is how to replace it */
    }
    cli_error(o, CLI_EXIT_TOKEN_FILE, TDA_WRONG_CLIENT,
              "%s holds a token of client id %s; logging in as %s would destroy it. Give "
              "each app its own --token-file, or revoke that token first",
              o->token_file, old.client_id, o->client_id);
    tda_token_clear(&old);
    return CLI_EXIT_TOKEN_FILE;
}

int cli_login(cli_options *o)
{
    int rc = cli_prepare_token_dir(o);
    if (rc == CLI_EXIT_OK && o->client_id)
        rc = refuse_other_clients_token(o);
    tda_client *c = NULL;
    if (rc == CLI_EXIT_OK)
        rc = cli_client_new(o, true, o->client_id, &c);
    if (rc != CLI_EXIT_OK)
        return rc;

    tda_code code = {0};
    tda_status st = cli_request_code(o, c, &code); /* waits out Trakt's 429s */
    if (st != TDA_OK) {
        rc = cli_fail_call(o, c, st, "could not get a code from Trakt");
        cli_client_free(c);
        return rc;
    }
    login_view *view = login_view_start(o, &code);
    if (!view) {
        rc = cli_fail_call(o, c, TDA_NO_MEMORY, "login");
        tda_code_clear(&code);
        cli_client_free(c);
        return rc;
    }
    if (o->verbose) /* log lines must not tear the live display */
        tda_client_set_log(c, login_view_log, view);
    tda_poll_options options = {0};
    options.on_event = login_view_event;
    options.userdata = view;
    if (o->timeout_s > 0)
        options.timeout_ms = (int64_t)(o->timeout_s * 1000.0);
    tda_token token = {0};
    st = tda_poll_for_token(c, &code, &options, &token);
    /* The device code is spent either way; wipe it now. */
    tda_code_clear(&code);
    /* The live display ends before anything else is written, so nothing overlaps it. */
    login_view_stop(view);
    if (st == TDA_OK) {
        /*
         * Saved before anything is said about it: the token exists nowhere else. Under
         * the lock, so a concurrent refresh cannot overwrite it with an older pair; if
         * the lock cannot be had, saving anyway beats losing the user's approval.
         */
        int lock_fd = -1;
        bool locked = tda_token_lock(o->token_file, 10000, &lock_fd) == TDA_OK;
        rc = cli_save_token(o, &token, locked, false);
        tda_token_unlock(lock_fd);
        if (rc == CLI_EXIT_OK)
            login_view_done(view, &token);
    }
    if (o->verbose)
        tda_client_set_log(c, cli_log_to_stderr, NULL);
    login_view_free(view);
    if (st == TDA_DEADLINE) {
        rc = cli_exit_code(st);
        cli_error(o, rc, st, "gave up after --timeout %g s: the code was not approved in time",
                  o->timeout_s);
    } else if (st != TDA_OK) {
        rc = cli_fail_call(o, c, st, st == TDA_DENIED ? "not authorized" : "login failed");
    }
    tda_token_clear(&token);
    cli_client_free(c);
    return rc;
}
