/*
 * The token file as the commands use it: the library does the safe saving,
 * loading and locking (token_file.c); this file finds the default location,
 * creates its directory 0700, and turns each refusal into a message that says
 * what is wrong and how to fix it.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define TOKEN_SUBPATH "/trakt-device-auth/token.json"
#define DEFAULT_LOCK_WAIT_S 60.0

char *cli_default_token_file(void)
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
    size_t len = strlen(base) + strlen(middle) + sizeof TOKEN_SUBPATH;
    char *path = malloc(len);
    if (path)
        snprintf(path, len, "%s%s%s", base, middle, TOKEN_SUBPATH);
    return path;
}

/* mkdir -p for the directory of path; directories it creates are 0700. */
static int make_parents(char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) == 0)
        return S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        int err = make_parents(dir);
        *slash = '/';
        if (err)
            return err;
    }
    return mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : errno;
}

int cli_prepare_token_dir(const cli_options *o)
{
    char *copy = strdup(o->token_file);
    if (!copy)
        return CLI_EXIT_FAILURE;
    char *dir = dirname(copy);
    int err = make_parents(dir);
    if (!err && access(dir, W_OK | X_OK) != 0)
        err = errno;
    if (err) {
        cli_error(o, CLI_EXIT_TOKEN_FILE, TDA_IO, "cannot use the directory %s for the token: %s",
                  dir, strerror(err));
        free(copy);
        return CLI_EXIT_TOKEN_FILE;
    }
    free(copy);
    struct stat sb;
    if (lstat(o->token_file, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        /* Refused now, before the user approves anything, rather than at the save. */
        cli_error(o, CLI_EXIT_TOKEN_FILE, TDA_FILE_INSECURE,
                  "%s is %s, not a regular file; remove it (a token file must not be a link)",
                  o->token_file, S_ISLNK(sb.st_mode) ? "a symbolic link" : "something else");
        return CLI_EXIT_TOKEN_FILE;
    }
    return CLI_EXIT_OK;
}

void cli_explain_insecure(const cli_options *o, const char *path, const char *what)
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
                  "%s belongs to another user (uid %u); refusing a %s others could have "
                  "written",
                  path, (unsigned)sb.st_uid, what);
    else
        cli_error(o, CLI_EXIT_TOKEN_FILE, TDA_FILE_INSECURE,
                  "%s has mode %04o: other users could read or change the %s. Fix it with: "
                  "chmod 600 %s (and, if it could have been read, revoke and log in again)",
                  path, (unsigned)(sb.st_mode & 07777), what, path);
}

int cli_load_token(const cli_options *o, const char *expected_client_id, tda_token *t)
{
    tda_status st = tda_token_load(o->token_file, expected_client_id, t);
    int code = cli_exit_code(st);
    switch (st) {
    case TDA_OK:
        return CLI_EXIT_OK;
    case TDA_FILE_MISSING:
        cli_error(o, code, st, "no token at %s; run '" CLI_NAME " login' first", o->token_file);
        break;
    case TDA_FILE_INSECURE:
        cli_explain_insecure(o, o->token_file, "token");
        break;
    case TDA_FILE_CORRUPT:
        cli_error(o, code, st,
                  "%s is not a valid token file (damaged, or not written by this tool); run '" CLI_NAME
                  " login' to replace it",
                  o->token_file);
        break;
    case TDA_WRONG_CLIENT:
        cli_error(o, code, st,
                  "the token in %s belongs to client id %s, not %s; run '" CLI_NAME
                  " login', or give each app its own --token-file",
                  o->token_file, t->client_id ? t->client_id : "?", expected_client_id);
        break;
    default:
        cli_error(o, code, st, "cannot read %s: %s", o->token_file, tda_strerror(st));
        break;
    }
    tda_token_clear(t);
    return code;
}

int cli_lock_token(const cli_options *o, int *lock_fd)
{
    double wait_s = o->timeout_s > 0 ? o->timeout_s : DEFAULT_LOCK_WAIT_S;
    int64_t give_up = tda_monotonic_ms() + (int64_t)(wait_s * 1000.0);
    tda_status st;
    /* Short library waits in a loop, so Ctrl-C is noticed while another process holds it. */
    while ((st = tda_token_lock(o->token_file, 100, lock_fd)) == TDA_TIMED_OUT) {
        if (cli_signal_received())
            return CLI_EXIT_SIGNAL_BASE + cli_signal_received();
        if (tda_monotonic_ms() >= give_up) {
            cli_error(o, CLI_EXIT_TOKEN_FILE, st,
                      "another process has held the lock on %s.lock for %g s; giving up",
                      o->token_file, wait_s);
            return CLI_EXIT_TOKEN_FILE;
        }
    }
    if (st != TDA_OK) {
        cli_error(o, cli_exit_code(st), st, "cannot lock %s.lock: %s", o->token_file,
                  tda_strerror(st));
        return cli_exit_code(st);
    }
    return CLI_EXIT_OK;
}

/*
 * A save killed between creating its temporary file and the rename leaves
 * "token.json.tmp.XXXXXX" behind (holding a token, mode 0600). Callers hold
 * the token lock; a file older than a few seconds is then debris, since a save
 * takes milliseconds. (The age also spares a login that saved without the lock
 * because it could not get it.)
 */
#define STALE_TEMP_AGE_S 5
void cli_remove_stale_temp_files(const char *path)
{
    char *copy = strdup(path);
    char *slash = copy ? strrchr(copy, '/') : NULL;
    const char *dir_path = slash ? (slash == copy ? "/" : copy) : ".";
    const char *base = slash ? slash + 1 : path;
    if (slash)
        *slash = '\0';
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s.tmp.", base);
    size_t prefix_len = strlen(prefix);
    DIR *dir = copy ? opendir(dir_path) : NULL;
    struct dirent *ent;
    while (dir && (ent = readdir(dir)) != NULL) {
        struct stat sb;
        if (strncmp(ent->d_name, prefix, prefix_len) == 0 &&
            strlen(ent->d_name) == prefix_len + 6 &&
            fstatat(dirfd(dir), ent->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(sb.st_mode) && time(NULL) - sb.st_mtime > STALE_TEMP_AGE_S)
            unlinkat(dirfd(dir), ent->d_name, 0);
    }
    if (dir)
        closedir(dir);
    free(copy);
}

int cli_save_token(const cli_options *o, const tda_token *t, bool locked,
                   bool old_refresh_token_spent)
{
    if (locked) {
        cli_remove_stale_temp_files(o->token_file);
        /* A login killed while saving its code leaves one too; the age rule spares a live save. */
        size_t len = strlen(o->token_file) + sizeof ".code";
        char *code_path = malloc(len);
        if (code_path) {
            snprintf(code_path, len, "%s.code", o->token_file);
            cli_remove_stale_temp_files(code_path);
            free(code_path);
        }
    }
    tda_status st = tda_token_save(t, o->token_file);
    if (st == TDA_OK)
        return CLI_EXIT_OK;
    int err = errno;
    int code = cli_exit_code(st);
    cli_error(o, code, st, "could not save the token to %s: %s%s%s", o->token_file,
              st == TDA_IO ? strerror(err) : tda_strerror(st),
              old_refresh_token_spent ? "; the old refresh token is already spent, so run '" CLI_NAME
                                        " login' once this is fixed"
                                      : "",
              st == TDA_FILE_INSECURE ? " (the path is a symbolic link: remove it)" : "");
    return code;
}
