/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file operations under the token file and the file stores, each with a
 * detail that names the path, the cause and the fix (never a token).
 */
#ifndef TDA__FILE_OPS_H
#define TDA__FILE_OPS_H

#include <stddef.h>

#include "internal.h"

/*
 * Reads the token file at path. TDA_FILE_MISSING when there is none;
 * TDA_FILE_INSECURE when it is a symlink, not a regular file, another user's,
 * or open to group or others (the detail says which and how to fix it);
 * TDA_FILE_CORRUPT when empty, all NUL bytes (a write lost to a crash), too
 * big or not a token. The file is never changed.
 */
tda_status tda__file_load(const char *path, tda_token *out, char *detail, size_t size);

/*
 * Reads a file that holds secrets whole into *data (NUL-terminated; *len
 * bytes), under the same rules: TDA_FILE_MISSING, TDA_FILE_INSECURE,
 * TDA_FILE_CORRUPT (empty, all NUL, over max bytes), TDA_IO, TDA_NO_MEMORY,
 * with the detail. Free with tda__file_free_secret, which wipes.
 */
tda_status tda__file_read_secret(const char *path, size_t max, char **data, size_t *len,
                                 char *detail, size_t size);
void tda__file_free_secret(char *data, size_t len);

/*
 * Room for a new token file, secured before anything is spent: a temporary
 * file beside path ("path.tmp.XXXXXX", 0600) with bytes allocated. A full
 * disk or quota (TDA_NO_SPACE), a read-only filesystem or a directory we may
 * not write (TDA_IO) fail here. A symlink or non-file at path is refused.
 */
typedef struct tda__reserved {
    int fd;
    char *tmp; /* the temporary file's path */
} tda__reserved;
/* A braced initializer in a macro reads as a block to clang-format. */
/* clang-format off */
#define TDA__RESERVED_INIT {-1, NULL}
/* clang-format on */
tda_status tda__file_reserve(const char *path, size_t bytes, tda__reserved *r, char *detail,
                             size_t size);
/*
 * Writes text in place into the room, flushes it, renames it over path and
 * flushes the directory: after a crash at any moment path holds the old file
 * or the new one, whole. keep: the new file must win even if a flush fails
 * (the old one holds a spent refresh token); the detail then warns.
 * The reservation is used up either way.
 */
tda_status tda__file_commit(tda__reserved *r, const char *path, const char *text, size_t len,
                            int keep, char *detail, size_t size);
/* Reserve and commit in one step, for a file whose old copy is as good as the new one. */
tda_status tda__file_save(const char *path, const char *text, size_t len, char *detail,
                          size_t size);
/* Gives the room back (removes the temporary file). Fine on an unused reservation. */
void tda__file_abandon(tda__reserved *r);

/*
 * The exclusive lock on path + ".lock" (flock: it dies with its process, so a
 * killed holder never blocks the next one). Waits as the tda_store_wait says;
 * TDA_LOCKED when another process held it past the deadline.
 */
tda_status tda__file_lock(const char *path, const tda_store_wait *wait, int *fd, char *detail,
                          size_t size);

/* Removes temporary files a killed save left beside path (callers hold the lock). */
void tda__file_remove_stale_temps(const char *path);

/* mkdir -p for dir; what it creates is 0700. */
tda_status tda__file_make_dir(const char *dir, char *detail, size_t size);

/* The directory of path (the caller frees it), or NULL on no memory. */
char *tda__file_dir_of(const char *path);

/* dir is a directory that others cannot write to (or a sticky one, like /tmp). */
tda_status tda__file_check_dir(const char *dir, char *detail, size_t size);

/* Deletes path (gone already is fine) and flushes its directory. */
tda_status tda__file_remove(const char *path, char *detail, size_t size);

/* Words for a failed system call on path: its status, with cause and fix in detail. */
tda_status tda__file_explain(int err, const char *what, const char *path, char *detail,
                             size_t size);

#endif
