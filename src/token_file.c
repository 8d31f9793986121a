/*
 * The token file: the one copy of a user's authorization, so it is written
 * so that no crash can lose it (temp file, fsync, rename, fsync directory),
 * read only when nobody else could have read or changed it, and kept apart
 * from other applications' tokens by the client id inside.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"
#include "secure_file.h"

tda_status tda_token_save(const tda_token *token, const char *path)
{
    if (!token || !token->access_token || !token->refresh_token || !token->token_type || !path ||
        !*path)
        return TDA_INVALID_ARGUMENT;
    tda_json_oom_reset();
    const tda_token *t = token;
    json_t *root = json_pack("{s:s?, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "client_id", t->client_id,
                             "access_token", t->access_token, "token_type", t->token_type,
                             "refresh_token", t->refresh_token, "scope", t->scope ? t->scope : "",
                             "created_at", (json_int_t)t->created_at, "expires_in",
                             (json_int_t)t->expires_in, "expires_at", (json_int_t)t->expires_at);
    if (!root) /* a required string missing or not UTF-8, unless memory ran out */
        return tda_json_oom_happened() ? TDA_NO_MEMORY : TDA_INVALID_ARGUMENT;
    tda_status st = tda_secure_file_write_json(path, root);
    tda_json_wipe_strings(root);
    json_decref(root);
    return st;
}

tda_status tda_token_load(const char *path, const char *expected_client_id, tda_token *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !*path || !out)
        return TDA_INVALID_ARGUMENT;
    char *data = NULL;
    size_t size = 0;
    tda_status st = tda_secure_file_read(path, &data, &size);
    if (st == TDA_OK) {
        char ignored[256];
        /* The file's size, not strlen: a NUL inside the file makes it corrupt, not shorter. */
        st = tda_parse_token(data, size, out, ignored, sizeof ignored);
        if (st != TDA_OK && st != TDA_NO_MEMORY)
            st = TDA_FILE_CORRUPT;
    }
    if (st == TDA_OK) {
        tda_json_oom_reset();
        json_t *root = json_loadb(data, size, 0, NULL);
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
    tda_secure_file_free(data, size);
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
