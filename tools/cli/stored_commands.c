/*
 * refresh, token, status and revoke: the commands that work on the saved
 * token. Refresh tokens are single use, so every spend happens under the
 * cross-process lock and after re-reading the file: a second process that
 * waited for the lock finds the pair the first one saved and uses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char *client_id_for(const cli_options *o, const tda_token *t)
{
    return o->client_id ? o->client_id : t->client_id;
}

/* Spends t's refresh token, saves the new pair durably, then replaces *t with it. */
static int refresh_locked(cli_options *o, tda_token *t)
{
    /* Checked before the spend: once Trakt has rotated the pair, it must be saved. */
    int rc = cli_prepare_token_dir(o);
    tda_client *c = NULL;
    if (rc == CLI_EXIT_OK)
        rc = cli_client_new(o, true, client_id_for(o, t), &c);
    if (rc != CLI_EXIT_OK)
        return rc;
    tda_token fresh = {0};
    tda_status st = tda_refresh_token(c, t->refresh_token, &fresh);
    if (st == TDA_OK) {
        rc = cli_save_token(o, &fresh, true, true);
        if (rc == CLI_EXIT_OK) {
            tda_token_clear(t);
            *t = fresh;
        } else {
            tda_token_clear(&fresh);
        }
    } else {
        rc = cli_fail_call(o, c, st, "refresh failed");
    }
    cli_client_free(c);
    return rc;
}

/*
 * Gets the client secret if one was given, takes the lock and loads the
 * token: the copy that counts is the one read under the lock. The secret
 * comes first, so a prompt (--ask-secret) never keeps other processes
 * waiting for the lock.
 */
static int lock_and_load(cli_options *o, tda_token *t, int *lock_fd)
{
    int rc = cli_gather_secret(o);
    if (rc == CLI_EXIT_OK)
        rc = cli_lock_token(o, lock_fd);
    if (rc != CLI_EXIT_OK)
        return rc;
    rc = cli_load_token(o, o->client_id, t);
    if (rc != CLI_EXIT_OK) {
        tda_token_unlock(*lock_fd);
        *lock_fd = -1;
    }
    return rc;
}

/* A first load without the lock says "no token" before a secret is asked for. */
static int load_locked(cli_options *o, tda_token *t, int *lock_fd)
{
    int rc = cli_load_token(o, o->client_id, t);
    tda_token_clear(t);
    return rc == CLI_EXIT_OK ? lock_and_load(o, t, lock_fd) : rc;
}

static void report_refreshed(const cli_options *o, const tda_token *t)
{
    if (o->json) {
        cli_json_line(json_pack("{s:s, s:s, s:I, s:I}", "event", "refreshed", "token_file",
                                o->token_file, "expires_at", (json_int_t)t->expires_at,
                                "expires_in", (json_int_t)(t->expires_at - time(NULL))));
    } else if (!o->quiet) {
        char when[64];
        cli_format_time(t->expires_at, when, sizeof when);
        printf("Refreshed. The new token expires %s; saved to %s\n", when, o->token_file);
    }
}

int cli_refresh(cli_options *o)
{
    tda_token t = {0};
    int lock_fd = -1;
    int rc = load_locked(o, &t, &lock_fd);
    if (rc == CLI_EXIT_OK)
        rc = refresh_locked(o, &t);
    tda_token_unlock(lock_fd);
    if (rc == CLI_EXIT_OK)
        report_refreshed(o, &t);
    tda_token_clear(&t);
    return rc;
}

/* The token for the caller's $(...): a failed write must not look like success. */
static int print_access_token(const cli_options *o, const tda_token *t)
{
    if (o->json)
        cli_json_secret_line(json_pack("{s:s, s:s, s:I}", "access_token", t->access_token,
                                       "token_type", t->token_type, "expires_at",
                                       (json_int_t)t->expires_at));
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

/* Failures after which a token that has not expired yet is still worth printing. */
static bool passing_failure(int rc)
{
    return rc == CLI_EXIT_NETWORK || rc == CLI_EXIT_USAGE || rc == CLI_EXIT_TOKEN_FILE;
}

int cli_token(cli_options *o)
{
    tda_token t = {0};
    int rc = cli_load_token(o, o->client_id, &t);
    if (rc != CLI_EXIT_OK)
        return rc;
    /* The common case takes no lock, needs no secret and makes no request. */
    if (tda_token_needs_refresh(&t, time(NULL))) {
        tda_token locked = {0};
        int lock_fd = -1;
        rc = lock_and_load(o, &locked, &lock_fd); /* t was just loaded: no pre-check */
        /* Under the lock: another process may have refreshed it while we waited. */
        if (rc == CLI_EXIT_OK && tda_token_needs_refresh(&locked, time(NULL)))
            rc = refresh_locked(o, &locked);
        tda_token_unlock(lock_fd);
        if (rc == CLI_EXIT_OK) {
            tda_token_clear(&t);
            t = locked;
        } else {
            tda_token_clear(&locked);
            if (passing_failure(rc) && t.expires_at > time(NULL)) {
                /* No fresh token now, but this one still works: use it, try again next time. */
                if (!o->quiet) {
                    char when[64];
                    cli_format_time(t.expires_at, when, sizeof when);
                    fprintf(stderr, CLI_NAME ": warning: could not refresh; using the current "
                                    "token, valid until %s\n", when);
                }
                rc = CLI_EXIT_OK;
            }
        }
    }
    if (rc == CLI_EXIT_OK)
        rc = print_access_token(o, &t);
    tda_token_clear(&t);
    return rc;
}

int cli_status(cli_options *o)
{
    tda_token t = {0};
    int rc = cli_load_token(o, o->client_id, &t);
    if (rc != CLI_EXIT_OK)
        return rc;
    time_t now = time(NULL);
    const char *state = t.expires_at <= now                   ? "expired"
                        : tda_token_needs_refresh(&t, now) ? "expiring"
                                                           : "valid";
    if (o->json) {
        cli_json_line(json_pack("{s:s, s:s?, s:s, s:I, s:I, s:I, s:s, s:s}", "token_file",
                                o->token_file, "client_id", t.client_id, "state", state,
                                "expires_at", (json_int_t)t.expires_at, "expires_in",
                                (json_int_t)(t.expires_at - now), "created_at",
                                (json_int_t)t.created_at, "scope", t.scope, "token_type",
                                t.token_type));
    } else if (!o->quiet) {
        char when[64], left[64], created[64], life[64];
        cli_format_time(t.expires_at, when, sizeof when);
        cli_format_duration(t.expires_at - now, left, sizeof left);
        cli_format_time(t.created_at, created, sizeof created);
        cli_format_duration(t.expires_at - t.created_at, life, sizeof life);
        printf("Token file: %s\n", o->token_file);
        printf("Client id:  %s\n", t.client_id ? t.client_id : "(not recorded)");
        if (t.expires_at <= now)
            printf("State:      expired at %s; 'token' or 'refresh' renews it\n", when);
        else
            printf("State:      %s, expires in %s (%s)%s\n", state, left, when,
                   *state == 'e' ? "; 'token' will refresh it" : "");
        printf("Created:    %s (lifetime %s)\n", created, life);
        printf("Scope:      %s\n", t.scope && *t.scope ? t.scope : "(none)");
    }
    tda_token_clear(&t);
    return CLI_EXIT_OK;
}

/* Deletes the token file and makes the deletion durable. */
static int delete_token_file(const cli_options *o)
{
    if (unlink(o->token_file) != 0 && errno != ENOENT) {
        cli_error(o, CLI_EXIT_TOKEN_FILE, TDA_IO,
                  "the token was revoked but %s could not be deleted: %s", o->token_file,
                  strerror(errno));
        return CLI_EXIT_TOKEN_FILE;
    }
    char *copy = strdup(o->token_file);
    int dir = copy ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dir >= 0) {
        fsync(dir);
        close(dir);
    }
    free(copy);
    return CLI_EXIT_OK;
}

int cli_revoke(cli_options *o)
{
    tda_token t = {0};
    int lock_fd = -1;
    int rc = load_locked(o, &t, &lock_fd);
    tda_client *c = NULL;
    if (rc == CLI_EXIT_OK)
        rc = cli_client_new(o, true, client_id_for(o, &t), &c);
    if (rc == CLI_EXIT_OK) {
        tda_status st = tda_revoke_token(c, t.access_token);
        /* The file stays unless Trakt confirmed: it is the only way to retry the revoke. */
        rc = st == TDA_OK ? delete_token_file(o) : cli_fail_call(o, c, st, "revoke failed");
    }
    cli_client_free(c);
    tda_token_unlock(lock_fd);
    tda_token_clear(&t);
    if (rc == CLI_EXIT_OK) {
        if (o->json)
            cli_json_line(json_pack("{s:s, s:s}", "event", "revoked", "token_file", o->token_file));
        else if (!o->quiet)
            printf("Revoked. Deleted %s\n", o->token_file);
    }
    return rc;
}
