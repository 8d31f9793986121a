/* SPDX-License-Identifier: Apache-2.0 */
/*
 * refresh, token, status and revoke: the commands that work on the stored
 * token. Each is one library call (tda_token_renew, tda_token_get,
 * tda_store_load, tda_token_revoke_stored) and its report: the locking,
 * re-reading, room and fallback rules live in the library, where every
 * program shares them.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/*
 * A client for the stored token: the client id from the options, else the one
 * the token records. The secret is used when one was configured (the
 * environment, --client-secret-file); it is asked for only with --ask-secret,
 * before the library takes the token's lock, so a prompt never keeps other
 * processes waiting.
 */
static int client_for_stored(cli_options *o, tda_client **c)
{
    *c = NULL;
    tda_token t = {0};
    const char *id = o->client_id;
    if (!id) {
        tda_status st = tda_store_load(o->store, o->key, NULL, &t);
        if (st != TDA_OK)
            return cli_fail_stored(o, st, tda_store_error_detail(o->store), o->token_file);
        id = t.client_id;
    }
    int rc = cli_client_new(o, true, id, c);
    tda_token_clear(&t);
    return rc;
}

static void report_refreshed(const cli_options *o, const tda_token *t, const tda_get_info *info)
{
    int64_t left_s = info->age.remaining_ms / 1000;
    if (o->json) {
        cli_json_line(json_pack("{s:s, s:s, s:I, s:I}", "event", "refreshed", "token_file",
                                o->token_file, "expires_at", (json_int_t)time(NULL) + left_s,
                                "expires_in", (json_int_t)left_s));
    } else if (!o->quiet) {
        char when[64];
        cli_format_time(time(NULL) + left_s, when, sizeof when);
        printf("Refreshed. The new token expires %s; saved to %s\n", when, o->token_file);
    }
}

int cli_refresh(cli_options *o)
{
    tda_client *c = NULL;
    int rc = client_for_stored(o, &c);
    if (rc != CLI_EXIT_OK)
        return rc;
    tda_token t = {0};
    tda_get_info info;
    tda_status st = tda_token_renew(c, o->store, o->key, &t, &info);
    if (st == TDA_OK)
        report_refreshed(o, &t, &info);
    else
        rc = cli_fail_call(o, c, st, "refresh failed");
    tda_token_clear(&t);
    cli_client_free(c);
    return rc;
}

/* The token for the caller's $(...): a failed write must not look like success. */
static int print_access_token(const cli_options *o, const tda_token *t, const tda_get_info *info)
{
    if (o->json)
        cli_json_secret_line(json_pack("{s:s, s:s, s:I}", "access_token", t->access_token,
                                       "token_type", t->token_type, "expires_at",
                                       (json_int_t)time(NULL) + info->age.remaining_ms / 1000));
    else
        printf("%s\n", t->access_token);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (cli_signal_received())
            return CLI_EXIT_SIGNAL_BASE + cli_signal_received();
        cli_error(o, CLI_EXIT_FAILURE, TDA_IO, "could not write the token to standard output");
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

int cli_token(cli_options *o)
{
    tda_client *c = NULL;
    int rc = client_for_stored(o, &c);
    if (rc != CLI_EXIT_OK)
        return rc;
    tda_token t = {0};
    tda_get_info info;
    tda_status st = tda_token_get(c, o->store, o->key, &t, &info);
    if (st != TDA_OK) {
        rc = cli_fail_call(o, c, st, "no valid token");
    } else {
        if (info.stale && !o->quiet) {
            char left[64];
            cli_format_duration(info.age.remaining_ms / 1000, left, sizeof left);
            fprintf(stderr,
                    CLI_NAME ": warning: could not refresh (%s: %s); using the current "
                             "token, valid for %s more\n",
                    tda_strerror(info.refresh_status), tda_client_error_detail(c), left);
        }
        rc = print_access_token(o, &t, &info);
    }
    tda_token_clear(&t);
    cli_client_free(c);
    return rc;
}

int cli_status(cli_options *o)
{
    tda_token t = {0};
    tda_status st = tda_store_load(o->store, o->key, o->client_id, &t);
    if (st != TDA_OK) {
        tda_token_clear(&t);
        return cli_fail_stored(o, st, tda_store_error_detail(o->store), o->token_file);
    }
    tda_token_age age;
    tda_token_age_of(&t, &age);
    time_t now = time(NULL);
    int64_t left_s = age.remaining_ms / 1000;
    const char *state = !age.known    ? "unknown"
                        : age.expired ? "expired"
                        : age.due     ? "expiring"
                                      : "valid";
    if (o->json) {
        cli_json_line(json_pack("{s:s, s:s?, s:s, s:I, s:I, s:I, s:s, s:s, s:b}", "token_file",
                                o->token_file, "client_id", t.client_id, "state", state,
                                "expires_at", (json_int_t)now + left_s, "expires_in",
                                (json_int_t)left_s, "created_at", (json_int_t)t.created_at, "scope",
                                t.scope, "token_type", t.token_type, "age_known", age.known));
    } else if (!o->quiet) {
        char when[64], left[64], created[64], life[64];
        cli_format_time(now + left_s, when, sizeof when);
        cli_format_duration(left_s, left, sizeof left);
        cli_format_time(t.created_at, created, sizeof created);
        cli_format_duration(t.expires_in, life, sizeof life);
        printf("Token file: %s\n", o->token_file);
        printf("Client id:  %s\n", t.client_id ? t.client_id : "(not recorded)");
        if (!age.known)
            printf("State:      unknown: this machine's clock cannot tell how old it is; "
                   "'token' will refresh it\n");
        else if (age.expired)
            printf("State:      expired at %s; 'token' or 'refresh' renews it\n", when);
        else
            printf("State:      %s, expires in %s (%s)%s\n", state, left, when,
                   age.due ? "; 'token' will refresh it" : "");
        printf("Created:    %s by Trakt's clock (lifetime %s)\n", created, life);
        printf("Scope:      %s\n", t.scope && *t.scope ? t.scope : "(none)");
    }
    tda_token_clear(&t);
    return CLI_EXIT_OK;
}

int cli_revoke(cli_options *o)
{
    tda_client *c = NULL;
    int rc = client_for_stored(o, &c);
    if (rc != CLI_EXIT_OK)
        return rc;
    tda_status st = tda_token_revoke_stored(c, o->store, o->key);
    if (st != TDA_OK)
        rc = cli_fail_call(o, c, st, "revoke failed");
    cli_client_free(c);
    if (rc == CLI_EXIT_OK) {
        if (o->json)
            cli_json_line(json_pack("{s:s, s:s}", "event", "revoked", "token_file", o->token_file));
        else if (!o->quiet)
            printf("Revoked. Deleted %s\n", o->token_file);
    }
    return rc;
}
