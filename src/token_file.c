/*
 * The token file: the one copy of a user's authorization, so it is written
 * so that no crash can lose it (temp file, fsync, rename, fsync directory),
 * read only when nobody else could have read or changed it, and kept apart
 * from other applications' tokens by the client id inside.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"

#define MAX_TOKEN_FILE (64 * 1024)

static tda_status write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return TDA_IO;
        data += n;
        len -= (size_t)n;
    }
    return TDA_OK;
}

/* The JSON text of a token file; wiped and freed by the caller. */
static tda_status token_json(const tda_token *t, char **text, size_t *len)
{
    tda_json_oom_reset();
    json_t *root = json_pack("{s:s?, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "client_id", t->client_id,
                             "access_token", t->access_token, "token_type", t->token_type,
                             "refresh_token", t->refresh_token, "scope", t->scope ? t->scope : "",
                             "created_at", (json_int_t)t->created_at, "expires_in",
                             (json_int_t)t->expires_in, "expires_at", (json_int_t)t->expires_at);
    if (!root) /* a required string missing or not UTF-8, unless memory ran out */
        return tda_json_oom_happened() ? TDA_NO_MEMORY : TDA_INVALID_ARGUMENT;
    /* A dump that failed returns 0: never take that for an empty text. */
    size_t n = json_dumpb(root, NULL, 0, JSON_INDENT(2));
    *text = n ? tda_malloc(n + 2) : NULL;
    tda_status st = TDA_NO_MEMORY;
    if (*text && json_dumpb(root, *text, n, JSON_INDENT(2)) == n && !tda_json_oom_happened()) {
        (*text)[n] = '\n';
        (*text)[n + 1] = '\0';
        *len = n + 1;
        st = TDA_OK;
    } else if (*text) {
        tda_wipe(*text, n + 2);
        tda_free(*text);
        *text = NULL;
    }
    tda_json_wipe_strings(root);
    json_decref(root);
    return st;
}

/* fsync the directory holding path, so the rename itself survives a power cut. */
static tda_status sync_directory(const char *path)
{
    char *copy = tda_strdup(path);
    if (!copy)
        return TDA_NO_MEMORY;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    tda_free(copy);
    if (fd < 0)
        return TDA_IO;
    int rc = fsync(fd);
    close(fd);
    return rc == 0 ? TDA_OK : TDA_IO;
}

tda_status tda_token_save(const tda_token *token, const char *path)
{
    if (!token || !token->access_token || !token->refresh_token || !token->token_type || !path ||
        !*path)
        return TDA_INVALID_ARGUMENT;
    struct stat st_path;
    if (lstat(path, &st_path) == 0 && S_ISLNK(st_path.st_mode))
        return TDA_FILE_INSECURE;
    char *text = NULL;
    size_t len = 0;
    tda_status st = token_json(token, &text, &len);
    if (st != TDA_OK)
        return st;
    size_t tmp_len = strlen(path) + 16;
    char *tmp = tda_malloc(tmp_len);
    if (!tmp) {
        tda_wipe(text, len);
        tda_free(text);
        return TDA_NO_MEMORY;
    }
    snprintf(tmp, tmp_len, "%s.tmp.XXXXXX", path);
    /* mkostemp creates the file 0600 and exclusively: nobody else can open it meanwhile. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        st = TDA_IO;
    } else {
        st = write_all(fd, text, len);
        if (st == TDA_OK && (fchmod(fd, 0600) != 0 || fsync(fd) != 0))
            st = TDA_IO;
        if (close(fd) != 0 && st == TDA_OK)
            st = TDA_IO;
        if (st == TDA_OK && rename(tmp, path) != 0)
            st = TDA_IO;
        if (st != TDA_OK)
            unlink(tmp);
        else
            st = sync_directory(path);
    }
    tda_free(tmp);
    tda_wipe(text, len);
    tda_free(text);
    return st;
}

/* Reads the whole file through fd into a NUL-terminated buffer (wiped by the caller). */
static tda_status read_small_file(int fd, size_t size, char **data)
{
    *data = tda_malloc(size + 1);
    if (!*data)
        return TDA_NO_MEMORY;
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, *data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    (*data)[got] = '\0';
    return got == size ? TDA_OK : TDA_IO;
}

static tda_status check_file(const struct stat *sb)
{
    if (!S_ISREG(sb->st_mode) || sb->st_uid != geteuid() || (sb->st_mode & 077) != 0)
        return TDA_FILE_INSECURE;
    if (sb->st_size <= 0 || sb->st_size > MAX_TOKEN_FILE)
        return TDA_FILE_CORRUPT;
    return TDA_OK;
}

tda_status tda_token_load(const char *path, const char *expected_client_id, tda_token *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !*path || !out)
        return TDA_INVALID_ARGUMENT;
    /*
     * O_NOFOLLOW refuses a symlink; fstat on the open file closes the check-then-open race.
     * O_NONBLOCK: opening a FIFO planted at path would otherwise block for ever (it is then
     * refused as not a regular file); it changes nothing for reading a regular file.
     */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? TDA_FILE_MISSING : errno == ELOOP ? TDA_FILE_INSECURE : TDA_IO;
    struct stat sb;
    tda_status st = fstat(fd, &sb) == 0 ? check_file(&sb) : TDA_IO;
    char *data = NULL;
    if (st == TDA_OK)
        st = read_small_file(fd, (size_t)sb.st_size, &data);
    close(fd);
    if (st == TDA_OK) {
        char ignored[256];
        /* The file's size, not strlen: a NUL inside the file makes it corrupt, not shorter. */
        st = tda_parse_token(data, (size_t)sb.st_size, out, ignored, sizeof ignored);
        if (st != TDA_OK && st != TDA_NO_MEMORY)
            st = TDA_FILE_CORRUPT;
    }
    if (st == TDA_OK) {
        tda_json_oom_reset();
        json_t *root = json_loadb(data, (size_t)sb.st_size, 0, NULL);
        json_t *id = json_object_get(root, "client_id");
        /* It parsed a moment ago, so only memory can fail now (see load_object). */
        if (!root || tda_json_oom_happened())
            st = TDA_NO_MEMORY;
        else if (id && !json_is_string(id) && !json_is_null(id))
            st = TDA_FILE_CORRUPT; /* a client id of the wrong type is damage, not absence */
        else if (json_is_string(id) && !(out->client_id = tda_strdup(json_string_value(id))))
            st = TDA_NO_MEMORY;
        tda_json_wipe_strings(root);
        json_decref(root);
    }
    if (data) {
        tda_wipe(data, (size_t)sb.st_size);
        tda_free(data);
    }
    if (st == TDA_OK && expected_client_id && out->client_id &&
        strcmp(expected_client_id, out->client_id) != 0)
        return TDA_WRONG_CLIENT;
    if (st != TDA_OK)
        tda_token_clear(out);
    return st;
}

tda_status tda_token_lock(const char *path, long timeout_ms, int *lock_fd)
{
    if (lock_fd)
        *lock_fd = -1;
    if (!path || !*path || !lock_fd || timeout_ms < 0)
        return TDA_INVALID_ARGUMENT;
    size_t len = strlen(path) + 6;
    char *lock_path = tda_malloc(len);
    if (!lock_path)
        return TDA_NO_MEMORY;
    snprintf(lock_path, len, "%s.lock", path);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    tda_free(lock_path);
    if (fd < 0)
        return errno == ELOOP ? TDA_FILE_INSECURE : TDA_IO;
    int64_t give_up = timeout_ms ? tda_monotonic_ms() + timeout_ms : INT64_MAX;
    /* flock locks die with the process, so a killed holder never blocks the next one. */
    while (flock(fd, LOCK_EX | (timeout_ms ? LOCK_NB : 0)) != 0) {
        int err = errno;
        if (err == EINTR)
            continue;
        if (err != EWOULDBLOCK || tda_monotonic_ms() >= give_up) {
            close(fd);
            return err == EWOULDBLOCK ? TDA_TIMED_OUT : TDA_IO;
        }
        poll(NULL, 0, 20); /* no blocking flock with a timeout exists; 20 ms steps are cheap */
    }
    *lock_fd = fd;
    return TDA_OK;
}

void tda_token_unlock(int lock_fd)
{
    if (lock_fd >= 0)
        close(lock_fd); /* closing the descriptor releases the flock */
}

int tda_token_needs_refresh(const tda_token *token, int64_t now)
{
    if (!token)
        return 1;
    int64_t life = token->expires_at - token->created_at;
    int64_t margin = life / 10 > 60 ? life / 10 : 60;
    return token->expires_at - now < margin;
}
