/*
 * login: get a code, show it, poll until the user decides, save the token.
 * Everything that can be checked before the user is asked to act is checked
 * first (client id and secret, the token file's place), so an approval is
 * never wasted on a token that cannot be saved.
 */
#include "view.h"

/*
 * Before a code is shown: the store can save a token there (the library
 * checks the place, the room and the permissions), and it does not hold
 * another application's token that saving would destroy.
 */
static int check_store(const cli_options *o)
{
    tda_status st = tda_store_check(o->store, o->key, o->client_id);
    if (st == TDA_OK)
        return CLI_EXIT_OK;
    /* Another app's token is the setup's trouble here, not a reason to log in again. */
    if (st == TDA_WRONG_CLIENT) {
        cli_error(o, CLI_EXIT_TOKEN_FILE, st, "%s", tda_store_error_detail(o->store));
        return CLI_EXIT_TOKEN_FILE;
    }
    return cli_fail_stored(o, st, tda_store_error_detail(o->store), "cannot keep a token there");
}

int cli_login(cli_options *o)
{
    int rc = check_store(o);
    tda_client *c = NULL;
    if (rc == CLI_EXIT_OK)
        rc = cli_client_new(o, true, o->client_id, &c);
    if (rc != CLI_EXIT_OK)
        return rc;

    tda_code code = {0};
    tda_status st = tda_generate_code(c, &code);
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
        /* Saved before anything is said about it: the token exists nowhere else. */
        tda_status saved = tda_store_save(o->store, o->key, &token);
        if (saved == TDA_OK)
            login_view_done(view, &token);
        else
            rc = cli_fail_stored(o, saved, tda_store_error_detail(o->store),
                                 "could not save the token");
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
