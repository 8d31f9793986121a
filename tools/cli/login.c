/* SPDX-License-Identifier: Apache-2.0 */
/*
 * login: get a code, show it, poll until the user decides, save the token.
 * Everything that can be checked before the user is asked to act is checked
 * first (client id and secret, the token file's place), so an approval is
 * never wasted on a token that cannot be saved.
 *
 * The code is saved while it is shown (pending_code.c): a login that was
 * killed shows the same code again when restarted within its life, and
 * polls it on; with --renew a code that expires unused is replaced by a new
 * one on screen.
 */
#include <signal.h>

#include "pending_code.h"
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

typedef struct login_run {
    const cli_options *o;
    login_view *view;
    cli_pending *pending;
    int events;
} login_run;

/* Progress from the poll: the display, and the saved code kept in step with it. */
static void on_event(const tda_event *ev, void *userdata)
{
    login_run *r = userdata;
    r->events++;
    if (ev->kind == TDA_EVENT_NEW_CODE)
        cli_pending_save(r->o, r->pending, ev->code); /* before it is shown */
    else if (ev->kind == TDA_EVENT_SLOW_DOWN)
        cli_pending_set_interval(r->o, r->pending, ev->interval_ms);
    login_view_event(ev, r->view);
}

/*
 * The code to show: the saved one when a killed login left one that is still
 * valid, else a new one. A saved code that expired meanwhile is not shown:
 * without --new-code or --renew login ends with EXPIRED and sends nothing
 * (*expired_resume), since a new code is the user's call.
 */
static int choose_code(cli_options *o, tda_client *c, cli_pending *pending, tda_code *code,
                       bool *expired_resume)
{
    *expired_resume = false;
    int rc = cli_pending_take(o, pending, code);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (pending->resumed && tda_code_remaining_ms(code) == 0) {
        if (!o->renew) {
            *expired_resume = true;
            return CLI_EXIT_OK;
        }
        if (!o->quiet)
            fprintf(stderr,
                    CLI_NAME ": the code %s shown before expired while login was not "
                             "running; getting a new one\n",
                    code->user_code);
        tda_code_clear(code);
        cli_pending_remove(pending);
        pending->resumed = false;
    }
    if (pending->resumed) {
        pending->saved = true;
        return CLI_EXIT_OK;
    }
    /* Every code login asks for itself (the first, --new-code, a saved one's replacement)
     * waits out Trakt's 429s; the new codes of --renew are the library's, by its rules. */
    tda_status st = cli_request_code(o, c, code);
    if (st != TDA_OK)
        return cli_fail_call(o, c, st, "could not get a code from Trakt");
    cli_pending_save(o, pending, code); /* before it is shown: a kill from now on resumes it */
    return CLI_EXIT_OK;
}

/* How the login ended, in words, for everything but success. */
static int report_failure(const cli_options *o, tda_client *c, tda_status st, bool expired_resume,
                          const char *user_code)
{
    if (st == TDA_DEADLINE) {
        int rc = cli_exit_code(st);
        cli_error(o, rc, st, "gave up after --timeout %g s: the code was not approved in time",
                  o->timeout_s);
        return rc;
    }
    if (expired_resume && st == TDA_EXPIRED) {
        int rc = cli_exit_code(st);
        cli_error(o, rc, st,
                  "the code %s shown before expired while login was not running; nothing was "
                  "sent. Run login again for a new code (or add --new-code or --renew)",
                  user_code);
        return rc;
    }
    return cli_fail_call(o, c, st, st == TDA_DENIED ? "not authorized" : "login failed");
}

int cli_login(cli_options *o)
{
    int rc = check_store(o);
    tda_client *c = NULL;
    if (rc == CLI_EXIT_OK)
        rc = cli_client_new(o, true, o->client_id, &c);
    if (rc != CLI_EXIT_OK)
        return rc;
    cli_pending pending;
    rc = cli_pending_open(o, &pending);
    tda_code code = {0};
    bool expired_resume = false;
    if (rc == CLI_EXIT_OK)
        rc = choose_code(o, c, &pending, &code, &expired_resume);
    if (rc != CLI_EXIT_OK) {
        cli_pending_close(&pending);
        cli_client_free(c);
        return rc;
    }
    char user_code[64];
    snprintf(user_code, sizeof user_code, "%s", code.user_code ? code.user_code : "");

    login_view *view = expired_resume ? NULL : login_view_start(o, &code, pending.resumed);
    if (!view && !expired_resume) {
        rc = cli_fail_call(o, c, TDA_NO_MEMORY, "login");
        tda_code_clear(&code);
        cli_pending_close(&pending);
        cli_client_free(c);
        return rc;
    }
    if (o->verbose && view) /* log lines must not tear the live display */
        tda_client_set_log(c, login_view_log, view);
    login_run run = {o, view, &pending, 0};
    tda_poll_options options = {0};
    options.on_event = view ? on_event : NULL;
    options.userdata = &run;
    options.renewals = o->renew;
    if (o->timeout_s > 0)
        options.timeout_ms = (int64_t)(o->timeout_s * 1000.0);
    tda_token token = {0};
    /* A resumed code that expired meanwhile: the library ends at once, with no request. */
    tda_status st = tda_poll_for_token(c, &code, &options, &token);
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
    /*
     * The code is of no more use whatever happened, except when the system stopped us
     * (SIGTERM, SIGHUP): a restart then resumes it, as after SIGKILL. Ctrl-C is the
     * user's own "stop", so it deletes the code with the rest.
     */
    int sig = cli_signal_received();
    if (!(st == TDA_CANCELLED && (sig == SIGTERM || sig == SIGHUP)))
        cli_pending_remove(&pending);
    cli_pending_close(&pending);
    if (o->verbose && view)
        tda_client_set_log(c, cli_log_to_stderr, NULL);
    login_view_free(view);
    if (st != TDA_OK)
        rc = report_failure(o, c, st, expired_resume, user_code);
    tda_token_clear(&token);
    cli_client_free(c);
    return rc;
}
