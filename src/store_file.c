/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in stores: one token in one file (the CLI's default), or one file
 * per key in a directory. Both are the token file (file_ops.c) behind the
 * store operations: flock beside the file for the lock, a temporary file of
 * full size made under the lock before the refresh token is spent (prepare),
 * then written in place and renamed over the old one (save).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file_ops.h"
#include "store.h"

typedef struct file_store {
    char *path;  /* the one token file, or NULL for a directory store */
    char *dir;   /* the directory store's directory */
    char *where; /* the last location asked for (tda_store_location) */
} file_store;

typedef struct file_lock {
    char *path; /* the token file this lock is for */
    int fd;
    tda__reserved room;
} file_lock;

/* The token file of key; tda__free it. */
static tda_status path_of(const file_store *fs, const char *key, char **path, char *detail,
                          size_t size)
{
    *path = NULL;
    if (fs->path) {
        if (key) {
            snprintf(detail, size,
                     "a file store holds one token: pass no key (NULL), or use a "
                     "directory store (tda_store_dir_new) for one token per key");
            return TDA_INVALID_ARGUMENT;
        }
        *path = tda__strdup(fs->path);
    } else {
        char name[TDA__STORE_NAME_MAX];
        tda_status st = tda__store_key_file_name(key, name, sizeof name, detail, size);
        if (st != TDA_OK)
            return st;
        size_t len = strlen(fs->dir) + 1 + strlen(name) + 1;
        if ((*path = tda__malloc(len)) != NULL)
            snprintf(*path, len, "%s/%s", fs->dir, name);
    }
    if (!*path) {
        snprintf(detail, size, "out of memory");
        return TDA_NO_MEMORY;
    }
    return TDA_OK;
}

static tda_status make_dir_of(const char *path, char *detail, size_t size)
{
    char *dir = tda__file_dir_of(path);
    if (!dir) {
        snprintf(detail, size, "out of memory");
        return TDA_NO_MEMORY;
    }
    tda_status st = tda__file_make_dir(dir, detail, size);
    tda__free(dir);
    return st;
}

static tda_status fs_load(void *self, const char *key, tda_token *out, char *detail, size_t size)
{
    char *path;
    tda_status st = path_of(self, key, &path, detail, size);
    if (st == TDA_OK)
        st = tda__file_load(path, out, detail, size);
    tda__free(path);
    return st;
}

static tda_status fs_lock(void *self, const char *key, const tda_store_wait *wait, void **lock,
                          char *detail, size_t size)
{
    *lock = NULL;
    char *path;
    tda_status st = path_of(self, key, &path, detail, size);
    if (st == TDA_OK)
        st = make_dir_of(path, detail, size);
    file_lock *l = st == TDA_OK ? tda__calloc(1, sizeof *l) : NULL;
    if (st == TDA_OK && !l)
        st = tda__say(TDA_NO_MEMORY, detail, size, "out of memory locking %s", path);
    if (st == TDA_OK)
        st = tda__file_lock(path, wait, &l->fd, detail, size);
    if (st != TDA_OK) {
        tda__free(l);
        tda__free(path);
        return st;
    }
    l->path = path;
    l->room = (tda__reserved)TDA__RESERVED_INIT;
    *lock = l;
    return TDA_OK;
}

static tda_status fs_load_locked(void *self, void *lock, tda_token *out, char *detail, size_t size)
{
    const file_lock *l = lock;
    return tda__file_load(l->path, out, detail, size);
}

static tda_status fs_prepare(void *self, void *lock, char *detail, size_t size)
{
    file_lock *l = lock;
    tda__file_abandon(&l->room);
    /* Under the lock no other save is running here: what a killed one left is debris. */
    tda__file_remove_stale_temps(l->path);
    return tda__file_reserve(l->path, TDA__TOKEN_FILE_MAX, &l->room, detail, size);
}

static tda_status fs_save(void *self, void *lock, const tda_token *t, char *detail, size_t size)
{
    file_lock *l = lock;
    char *text;
    size_t len;
    tda_status st = tda__token_to_json(t, &text, &len);
    if (st != TDA_OK) {
        snprintf(detail, size,
                 st == TDA_NO_MEMORY ? "out of memory saving %s"
                                     : "a token with missing fields for %s",
                 l->path);
        return st;
    }
    if (len > TDA__TOKEN_FILE_MAX)
        st = tda__say(TDA_INVALID_ARGUMENT, detail, size,
                      "the token is too large to save in %s "
                      "(%zu bytes)",
                      l->path, len);
    if (st == TDA_OK && l->room.fd < 0)
        st = tda__file_reserve(l->path, len, &l->room, detail, size);
    /* keep: the old token is worth less than this one (spent, or replaced by a login). */
    if (st == TDA_OK)
        st = tda__file_commit(&l->room, l->path, text, len, 1, detail, size);
    tda__wipe(text, len);
    tda__free(text);
    return st;
}

static tda_status fs_remove(void *self, void *lock, char *detail, size_t size)
{
    const file_lock *l = lock;
    return tda__file_remove(l->path, detail, size);
}

static tda_status fs_unlock(void *self, void *lock, int commit, char *detail, size_t size)
{
    file_lock *l = lock;
    if (!l)
        return TDA_OK;
    tda__file_abandon(&l->room);
    if (l->fd >= 0)
        close(l->fd); /* closing the descriptor releases the flock */
    tda__free(l->path);
    tda__free(l);
    return TDA_OK;
}

static tda_status fs_check(void *self, const char *key, char *detail, size_t size)
{
    char *path;
    tda_status st = path_of(self, key, &path, detail, size);
    char *dir = st == TDA_OK ? tda__file_dir_of(path) : NULL;
    if (st == TDA_OK && !dir)
        st = tda__say(TDA_NO_MEMORY, detail, size, "out of memory");
    if (st == TDA_OK)
        st = tda__file_make_dir(dir, detail, size);
    if (st == TDA_OK)
        st = tda__file_check_dir(dir, detail, size);
    /* The lock must be possible too; held by another process at this moment is fine. */
    tda_store_wait now = {0, -1};
    int fd = -1;
    if (st == TDA_OK) {
        st = tda__file_lock(path, &now, &fd, detail, size);
        if (st == TDA_LOCKED)
            st = TDA_OK;
    }
    /* A file of full size made and removed: the one test a full disk, a quota, a
       read-only filesystem and a directory we may not write all fail. */
    tda__reserved room = TDA__RESERVED_INIT;
    if (st == TDA_OK)
        st = tda__file_reserve(path, TDA__TOKEN_FILE_MAX, &room, detail, size);
    tda__file_abandon(&room);
    if (fd >= 0)
        close(fd);
    tda__free(dir);
    tda__free(path);
    return st;
}

static const char *fs_location(void *self, const char *key)
{
    file_store *fs = self;
    char ignored[TDA__STORE_DETAIL_SIZE];
    char *path;
    if (path_of(fs, key, &path, ignored, sizeof ignored) != TDA_OK)
        return fs->path ? fs->path : fs->dir;
    tda__free(fs->where);
    fs->where = path;
    return path;
}

static void fs_destroy(void *self)
{
    file_store *fs = self;
    tda__free(fs->path);
    tda__free(fs->dir);
    tda__free(fs->where);
    tda__free(fs);
}

static const tda_store_ops file_ops = {
    .load = fs_load,
    .lock = fs_lock,
    .load_locked = fs_load_locked,
    .prepare = fs_prepare,
    .save = fs_save,
    .remove = fs_remove,
    .unlock = fs_unlock,
    .check = fs_check,
    .location = fs_location,
    .destroy = fs_destroy,
};

static tda_store *file_store_new(const char *path, const char *dir)
{
    file_store *fs = tda__calloc(1, sizeof *fs);
    if (!fs)
        return NULL;
    fs->path = path ? tda__strdup(path) : NULL;
    fs->dir = dir ? tda__strdup(dir) : NULL;
    tda_store *s = (fs->path || fs->dir) ? tda_store_new(&file_ops, fs) : NULL;
    if (!s)
        fs_destroy(fs);
    return s;
}

tda_store *tda_store_file_new(const char *path)
{
    return path && *path ? file_store_new(path, NULL) : NULL;
}

tda_store *tda_store_dir_new(const char *dir)
{
    return dir && *dir ? file_store_new(NULL, dir) : NULL;
}
