/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pending code: while login shows a code, it is saved beside the token
 * (TOKEN_FILE.code, by tda_code_save), so a login that is killed or whose
 * machine reboots can show the same code again when it is started within the
 * code's life, instead of making the user start over on their phone. A lock
 * beside it (TOKEN_FILE.code.lock) keeps a second login from polling the same
 * code at the same time, which would double the poll rate.
 *
 * With --store (PostgreSQL) there is no token file to put it beside, and
 * the code is not saved: a restarted login shows a new one (path NULL).
 *
 * The file is removed when the login ends: approved, denied, expired, failed,
 * or stopped with Ctrl-C. SIGTERM and SIGHUP (a service manager restarting
 * the program, a shutdown, a closed terminal) leave it, like SIGKILL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pending_code.h"

int cli_pending_open(const cli_options *o, cli_pending *p)
{
    memset(p, 0, sizeof *p);
    p->lock_fd = -1;
    if (o->store_url)
        return CLI_EXIT_OK;
    size_t len = strlen(o->token_file) + sizeof ".code";
    p->path = malloc(len);
    if (!p->path)
        return CLI_EXIT_FAILURE;
    snprintf(p->path, len, "%s.code", o->token_file);
    /* A moment's try: a lock held now belongs to a login that is showing this code. */
    tda_status st = tda_token_lock(p->path, 1, &p->lock_fd);
    if (st == TDA_TIMED_OUT) {
        cli_error(o, CLI_EXIT_FAILURE, st,
                  "another login for %s is waiting for approval right now (it holds %s.lock); "
                  "let it finish or stop it first",
                  o->token_file, p->path);
        return CLI_EXIT_FAILURE;
    }
    if (st != TDA_OK) {
        cli_error(o, cli_exit_code(st), st, "cannot lock %s.lock: %s", p->path, tda_strerror(st));
        return cli_exit_code(st);
    }
    /* A code save killed midway left a temporary file with a device code: tda_code_save
     * removes those, under this lock. */
    return CLI_EXIT_OK;
}

/*
 * Whether the token file was written after the saved code: then the login
 * that showed the code got its token (a refresh since would look the same,
 * and costs no more than a new code), and polling the code would only meet
 * "already used".
 */
static bool token_is_newer(const char *token_path, const char *code_path)
{
    struct stat token, code;
    if (stat(token_path, &token) != 0 || stat(code_path, &code) != 0)
        return false;
    if (token.st_mtim.tv_sec != code.st_mtim.tv_sec)
        return token.st_mtim.tv_sec > code.st_mtim.tv_sec;
    return token.st_mtim.tv_nsec >= code.st_mtim.tv_nsec;
}

/* Why tda_code_load said FILE_INSECURE (a symlink, the owner, the mode), with the fix. */
static void explain_insecure(const cli_options *o, const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        cli_error(o, CLI_EXIT_TOKEN_FILE, TDA_FILE_INSECURE, "%s cannot be checked", path);
    else if (S_ISLNK(sb.st_mode))
        cli_error(o, CLI_EXIT_TOKEN_FILE, TDA_FILE_INSECURE,
                  "%s is a symbolic link, which could point anywhere; refusing it. Replace the "
                  "link with the real file (mv) or point --token-file at the file itself",
                  path);
    else if (!S_ISREG(sb.st_mode))
        cli_error(o, CLI_EXIT_TOKEN_FILE, TDA_FILE_INSECURE, "%s is not a regular file", path);
    else if (sb.st_uid != geteuid())
        cli_error(o, CLI_EXIT_TOKEN_FILE, TDA_FILE_INSECURE,
                  "%s belongs to another user (uid %u); refusing a saved code others could "
                  "have written",
                  path, (unsigned)sb.st_uid);
    else
        cli_error(o, CLI_EXIT_TOKEN_FILE, TDA_FILE_INSECURE,
                  "%s has mode %04o: other users could read or change the saved code. Fix it "
                  "with: chmod 600 %s",
                  path, (unsigned)(sb.st_mode & 07777), path);
}

int cli_pending_take(const cli_options *o, cli_pending *p, tda_code *code)
{
    memset(code, 0, sizeof *code);
    p->resumed = false;
    if (!p->path)
        return CLI_EXIT_OK;
    if (o->new_code) {
        cli_pending_remove(p);
        return CLI_EXIT_OK;
    }
    tda_status st = tda_code_load(p->path, o->client_id, code);
    switch (st) {
    case TDA_OK:
        if (token_is_newer(o->token_file, p->path)) {
            /* Its login saved the token and was stopped before it could delete the code. */
            tda_code_clear(code);
            cli_pending_remove(p);
            return CLI_EXIT_OK;
        }
        p->resumed = true;
        /* Saved again at once: the save clears what killed saves of it left (a device code
         * in a temporary file), and a failure here is only a warning, as for a new code. */
        cli_pending_save(o, p, code);
        return CLI_EXIT_OK;
    case TDA_FILE_MISSING:
        return CLI_EXIT_OK;
    case TDA_FILE_INSECURE:
        /* Not ours to delete or to trust: the user decides. */
        explain_insecure(o, p->path);
        return CLI_EXIT_TOKEN_FILE;
    case TDA_WRONG_CLIENT:
        if (!o->quiet)
            fprintf(stderr,
                    CLI_NAME ": discarding the code saved in %s: it belongs to client id %s, "
                             "not %s\n",
                    p->path, code->client_id ? code->client_id : "?", o->client_id);
        tda_code_clear(code);
        cli_pending_remove(p);
        return CLI_EXIT_OK;
    case TDA_FILE_CORRUPT:
        if (!o->quiet)
            fprintf(stderr,
                    CLI_NAME ": discarding %s: not a usable saved code (damaged, with a life no "
                             "code has, or dated in the future by this computer's clock)\n",
                    p->path);
        cli_pending_remove(p);
        return CLI_EXIT_OK;
    default:
        cli_error(o, cli_exit_code(st), st, "cannot read %s: %s", p->path, tda_strerror(st));
        return cli_exit_code(st);
    }
}

void cli_pending_save(const cli_options *o, cli_pending *p, const tda_code *code)
{
    if (!p->path)
        return;
    tda_status st = tda_code_save(code, p->path);
    if (st == TDA_OK) {
        p->saved = true;
        return;
    }
    /* Losing the resume is not worth losing the login over: say so once, go on. */
    int err = errno;
    if (!p->warned && !o->quiet)
        fprintf(stderr,
                CLI_NAME ": warning: could not save the code to %s (%s); a restarted "
                         "login will show a new code\n",
                p->path, st == TDA_IO ? strerror(err) : tda_strerror(st));
    p->warned = true;
}

void cli_pending_set_interval(const cli_options *o, cli_pending *p, int64_t interval_ms)
{
    if (!p->saved)
        return;
    /* A 429 raised the interval: a resumed login must keep to it too. */
    tda_code code;
    if (tda_code_load(p->path, NULL, &code) != TDA_OK)
        return;
    code.interval_ms = interval_ms;
    cli_pending_save(o, p, &code);
    tda_code_clear(&code);
}

void cli_pending_remove(cli_pending *p)
{
    if (p->path && unlink(p->path) == 0)
        p->saved = false;
}

void cli_pending_close(cli_pending *p)
{
    if (p->lock_fd >= 0)
        tda_token_unlock(p->lock_fd);
    p->lock_fd = -1;
    free(p->path);
    p->path = NULL;
}
