/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File operations for token files: strict reading, room secured before a
 * refresh token is spent, atomic replacement, the cross-process lock, and
 * words for every failure. A token file is the one copy of a user's
 * authorization, so nothing here may leave it half-written, and every refusal
 * says what is wrong with which path and how to fix it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file_ops.h"

#define TEMP_SUFFIX ".tmp.XXXXXX"
/*
 * A save killed between making its temporary file and the rename leaves it
 * behind (holding a token, 0600). Callers hold the lock, so one older than a
 * save could take is debris. The age spares a save by a process that did not
 * take the lock (an older version, or a login that could not get it).
 */
#define STALE_TEMP_AGE_S 5

static char *concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = tda__malloc(la + lb + 1);
    if (s)
        snprintf(s, la + lb + 1, "%s%s", a, b);
    return s;
}

char *tda__file_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return tda__strdup(".");
    return slash == path ? tda__strdup("/") : tda__strndup(path, (size_t)(slash - path));
}

tda_status tda__file_explain(int err, const char *what, const char *path, char *detail, size_t size)
{
    switch (err) {
    case ENOSPC:
        snprintf(detail, size,
                 "%s %s: the disk is full; free some space (a token file needs "
                 "up to %zu KiB) and try again",
                 what, path, TDA__TOKEN_FILE_MAX / 1024);
        return TDA_NO_SPACE;
    case EDQUOT:
        snprintf(detail, size,
                 "%s %s: the disk quota is used up; free some space (a token "
                 "file needs up to %zu KiB) or raise the quota",
                 what, path, TDA__TOKEN_FILE_MAX / 1024);
        return TDA_NO_SPACE;
    case EROFS:
        snprintf(detail, size,
                 "%s %s: the filesystem is mounted read-only; remount it "
                 "read-write or keep the token elsewhere",
                 what, path);
        return TDA_IO;
    case EACCES:
    case EPERM:
        snprintf(detail, size,
                 "%s %s: permission denied; make the directory writable by "
                 "uid %u (chmod u+w) or keep the token elsewhere",
                 what, path, (unsigned)geteuid());
        return TDA_IO;
    case ENOENT:
        snprintf(detail, size, "%s %s: its directory does not exist", what, path);
        return TDA_IO;
    case ENOMEM:
        snprintf(detail, size, "%s %s: out of memory", what, path);
        return TDA_NO_MEMORY;
    default:
        snprintf(detail, size, "%s %s: %s", what, path, strerror(err));
        return TDA_IO;
    }
}

/* ------------------------------------------------------------------ reading */

/* Which of its causes makes the file insecure, in words, with the fix. */
static tda_status refuse(const char *path, const struct stat *sb, char *detail, size_t size)
{
    if (S_ISLNK(sb->st_mode))
        snprintf(detail, size,
                 "%s is a symbolic link, which could point anywhere; refusing "
                 "it. Replace the link with the real file (mv), or name the file itself",
                 path);
    else if (!S_ISREG(sb->st_mode))
        snprintf(detail, size, "%s is not a regular file; remove it", path);
    else if (sb->st_uid != geteuid())
        snprintf(detail, size,
                 "%s belongs to another user (uid %u); refusing a token others "
                 "could have written. Remove it and log in again",
                 path, (unsigned)sb->st_uid);
    else
        snprintf(detail, size,
                 "%s has mode %04o: other users could read or change the token. "
                 "Fix it with: chmod 600 %s (and, if it could have been read, revoke and log "
                 "in again)",
                 path, (unsigned)(sb->st_mode & 07777), path);
    return TDA_FILE_INSECURE;
}

static tda_status read_all(int fd, char *buf, size_t want, const char *path, char *detail,
                           size_t size)
{
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return tda__file_explain(errno, "cannot read", path, detail, size);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    if (got != want) {
        snprintf(detail, size, "%s changed size while being read; try again", path);
        return TDA_IO;
    }
    return TDA_OK;
}

static int all_nul(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (data[i])
            return 0;
    return 1;
}

tda_status tda__file_read_secret(const char *path, size_t max, char **data, size_t *len,
                                 char *detail, size_t size)
{
    *data = NULL;
    *len = 0;
    /*
     * O_NOFOLLOW refuses a symlink; fstat on the open file closes the check-then-open race.
     * O_NONBLOCK: opening a FIFO planted at path would otherwise block for ever (it is then
     * refused as not a regular file); it changes nothing for reading a regular file.
     */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        struct stat sb;
        if (err == ENOENT)
            return tda__say(TDA_FILE_MISSING, detail, size, "there is no file %s", path);
        if (err == ELOOP && lstat(path, &sb) == 0)
            return refuse(path, &sb, detail, size);
        return tda__file_explain(err, "cannot open", path, detail, size);
    }
    struct stat sb;
    tda_status st = TDA_OK;
    if (fstat(fd, &sb) != 0)
        st = tda__file_explain(errno, "cannot check", path, detail, size);
    else if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() || (sb.st_mode & 077) != 0)
        st = refuse(path, &sb, detail, size);
    else if (sb.st_size == 0)
        st = tda__say(TDA_FILE_CORRUPT, detail, size,
                      "%s is empty (0 bytes): a write was lost, "
                      "perhaps in a crash on a filesystem that did not honour "
                      "fsync; log in again to replace it",
                      path);
    else if ((unsigned long long)sb.st_size > max)
        st = tda__say(TDA_FILE_CORRUPT, detail, size,
                      "%s is not a file this library wrote "
                      "(%lld bytes, more than it ever writes); log in again to "
                      "replace it",
                      path, (long long)sb.st_size);
    char *text = NULL;
    size_t n = 0;
    if (st == TDA_OK) {
        n = (size_t)sb.st_size;
        if (!(text = tda__malloc(n + 1)))
            st = tda__say(TDA_NO_MEMORY, detail, size, "out of memory reading %s", path);
        else if ((st = read_all(fd, text, n, path, detail, size)) == TDA_OK && all_nul(text, n))
            st = tda__say(TDA_FILE_CORRUPT, detail, size,
                          "%s holds only NUL bytes: its data "
                          "was lost, typically in a crash on a filesystem that "
                          "did not honour fsync; log in again to replace it",
                          path);
    }
    close(fd);
    if (st != TDA_OK) {
        tda__file_free_secret(text, n);
        return st;
    }
    *data = text;
    *len = n;
    return TDA_OK;
}

void tda__file_free_secret(char *data, size_t len)
{
    if (data) {
        tda__wipe(data, len);
        tda__free(data);
    }
}

tda_status tda__file_load(const char *path, tda_token *out, char *detail, size_t size)
{
    memset(out, 0, sizeof *out);
    char *data = NULL;
    size_t len = 0;
    tda_status st = tda__file_read_secret(path, TDA__TOKEN_FILE_MAX, &data, &len, detail, size);
    if (st == TDA_FILE_MISSING)
        snprintf(detail, size, "no token at %s: log in first", path);
    if (st != TDA_OK)
        return st;
    char why[200] = "";
    st = tda__token_from_json(data, len, out, why, sizeof why);
    if (st == TDA_FILE_CORRUPT)
        snprintf(detail, size,
                 "%s is not a valid token file (%s): damaged, or not written by "
                 "this library; log in again to replace it",
                 path, why);
    else if (st != TDA_OK)
        snprintf(detail, size, "reading %s: %s", path, why);
    tda__file_free_secret(data, len);
    return st;
}

/* ------------------------------------------------------------------ writing */

tda_status tda__file_reserve(const char *path, size_t bytes, tda__reserved *r, char *detail,
                             size_t size)
{
    r->fd = -1;
    r->tmp = NULL;
    struct stat sb;
    if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return refuse(path, &sb, detail, size);
    char *tmp = concat(path, TEMP_SUFFIX);
    if (!tmp) {
        snprintf(detail, size, "out of memory saving %s", path);
        return TDA_NO_MEMORY;
    }
    /* mkostemp makes the file 0600 and exclusively: nobody else can open it meanwhile. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        char *dir = tda__file_dir_of(path);
        tda_status st = tda__file_explain(errno, "cannot make a file in", dir ? dir : path, detail,
                                          size);
        tda__free(dir);
        tda__free(tmp);
        return st;
    }
    int err = posix_fallocate(fd, 0, (off_t)bytes);
    if (err == EOPNOTSUPP || err == EINVAL) {
        /* No fallocate here (glibc emulates it elsewhere): write the room out instead. */
        char zeros[4096] = {0};
        err = 0;
        for (size_t done = 0; done < bytes && !err;) {
            size_t n = bytes - done < sizeof zeros ? bytes - done : sizeof zeros;
            ssize_t w = pwrite(fd, zeros, n, (off_t)done);
            if (w < 0 && errno != EINTR)
                err = errno;
            else if (w > 0)
                done += (size_t)w;
        }
    }
    if (err) {
        char *dir = tda__file_dir_of(path);
        tda_status st = tda__file_explain(err, "no room for the token in", dir ? dir : path, detail,
                                          size);
        tda__free(dir);
        close(fd);
        unlink(tmp);
        tda__free(tmp);
        return st;
    }
    r->fd = fd;
    r->tmp = tmp;
    return TDA_OK;
}

void tda__file_abandon(tda__reserved *r)
{
    if (r->fd >= 0)
        close(r->fd);
    if (r->tmp) {
        unlink(r->tmp);
        tda__free(r->tmp);
    }
    r->fd = -1;
    r->tmp = NULL;
}

/* fsync the directory holding path, so that the rename itself survives a power cut. */
static int sync_dir_of(const char *path)
{
    char *dir = tda__file_dir_of(path);
    if (!dir)
        return ENOMEM;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    tda__free(dir);
    if (fd < 0)
        return errno;
    int err = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return err;
}

static int write_at_start(int fd, const char *text, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, text + done, len - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        done += (size_t)n;
    }
    return 0;
}

tda_status tda__file_commit(tda__reserved *r, const char *path, const char *text, size_t len,
                            int keep, char *detail, size_t size)
{
    /* In place: the blocks were allocated by tda__file_reserve, so this needs no new room. */
    int err = write_at_start(r->fd, text, len);
    if (!err && ftruncate(r->fd, (off_t)len) != 0)
        err = errno;
    if (err) {
        tda_status st = tda__file_explain(err, "cannot write", r->tmp, detail, size);
        tda__file_abandon(r);
        return st;
    }
    int flush_err = fsync(r->fd) == 0 ? 0 : errno;
    if (close(r->fd) != 0 && !flush_err)
        flush_err = errno;
    r->fd = -1;
    if (flush_err && !keep) {
        tda_status st = tda__file_explain(flush_err, "cannot flush", r->tmp, detail, size);
        tda__file_abandon(r);
        return st;
    }
    if (rename(r->tmp, path) != 0) {
        tda_status st = tda__file_explain(errno, "cannot rename the new token file to", path,
                                          detail, size);
        tda__file_abandon(r);
        return st;
    }
    tda__free(r->tmp);
    r->tmp = NULL;
    int dir_err = sync_dir_of(path);
    if (!flush_err && dir_err && !keep)
        return tda__file_explain(dir_err, "cannot flush the directory of", path, detail, size);
    if (flush_err || dir_err)
        snprintf(detail, size,
                 "warning: %s was saved, but the filesystem reported an error "
                 "flushing it (%s): it may not survive a crash",
                 path, strerror(flush_err ? flush_err : dir_err));
    return TDA_OK;
}

tda_status tda__file_save(const char *path, const char *text, size_t len, char *detail, size_t size)
{
    tda__reserved room = TDA__RESERVED_INIT;
    tda_status st = tda__file_reserve(path, len, &room, detail, size);
    /* Not keep: a failed flush leaves the old file, which here is still as good. */
    if (st == TDA_OK)
        st = tda__file_commit(&room, path, text, len, 0, detail, size);
    return st;
}

tda_status tda__file_remove(const char *path, char *detail, size_t size)
{
    if (unlink(path) != 0 && errno != ENOENT)
        return tda__file_explain(errno, "cannot delete", path, detail, size);
    sync_dir_of(path); /* best effort: the token is revoked already */
    return TDA_OK;
}

void tda__file_remove_stale_temps(const char *path)
{
    char *dir_path = tda__file_dir_of(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char *prefix = concat(base, ".tmp.");
    DIR *dir = dir_path && prefix ? opendir(dir_path) : NULL;
    size_t prefix_len = prefix ? strlen(prefix) : 0;
    struct dirent *ent;
    /* cppcheck-suppress readdirCalled ; readdir_r is deprecated, readdir safe on our own DIR */
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
    tda__free(prefix);
    tda__free(dir_path);
}

/* ------------------------------------------------------------------ directories */

/* mkdir -p on a writable copy of the path; what it makes is 0700. Returns an errno. */
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

tda_status tda__file_make_dir(const char *dir, char *detail, size_t size)
{
    char *copy = tda__strdup(dir);
    if (!copy) {
        snprintf(detail, size, "out of memory making %s", dir);
        return TDA_NO_MEMORY;
    }
    int err = make_parents(copy);
    tda__free(copy);
    if (err == ENOTDIR) {
        snprintf(detail, size,
                 "cannot use %s as the token's directory: it (or a parent) is not "
                 "a directory",
                 dir);
        return TDA_IO;
    }
    return err ? tda__file_explain(err, "cannot make the directory", dir, detail, size) : TDA_OK;
}

tda_status tda__file_check_dir(const char *dir, char *detail, size_t size)
{
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return tda__file_explain(errno, "cannot use the directory", dir, detail, size);
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(detail, size, "%s is not a directory", dir);
        return TDA_IO;
    }
    if (sb.st_uid != geteuid() && sb.st_uid != 0) {
        snprintf(detail, size,
                 "the directory %s belongs to another user (uid %u), who could "
                 "replace the token; keep it in a directory of your own",
                 dir, (unsigned)sb.st_uid);
        return TDA_FILE_INSECURE;
    }
    /* Others may write here only where they cannot replace our files (a sticky /tmp). */
    if ((sb.st_mode & 022) && !(sb.st_mode & S_ISVTX)) {
        snprintf(detail, size,
                 "the directory %s has mode %04o: other users could replace the "
                 "token. Fix it with: chmod go-w %s",
                 dir, (unsigned)(sb.st_mode & 07777), dir);
        return TDA_FILE_INSECURE;
    }
    return TDA_OK;
}

/* ------------------------------------------------------------------ the lock */

static int open_lock_file(const char *lock_path)
{
    int flags = O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    int fd = open(lock_path, O_RDWR | O_CREAT | flags, 0600);
    /* On a read-only filesystem or in a directory we may not write, an existing lock
       file still locks (flock needs no write access); the save then says what is wrong. */
    if (fd < 0 && (errno == EROFS || errno == EACCES)) {
        int first = errno;
        fd = open(lock_path, O_RDONLY | flags);
        if (fd < 0 && errno == ENOENT)
            errno = first; /* there is none, and we cannot make one: say why */
    }
    return fd;
}

tda_status tda__file_lock(const char *path, const tda_store_wait *wait, int *lock_fd, char *detail,
                          size_t size)
{
    *lock_fd = -1;
    char *lock_path = concat(path, ".lock");
    if (!lock_path) {
        snprintf(detail, size, "out of memory locking %s", path);
        return TDA_NO_MEMORY;
    }
    tda_status st = TDA_OK;
    struct stat sb;
    int fd = open_lock_file(lock_path);
    if (fd < 0 && errno == ELOOP)
        st = tda__say(TDA_FILE_INSECURE, detail, size,
                      "the lock file %s is a symbolic link; "
                      "remove it",
                      lock_path);
    else if (fd < 0)
        st = tda__file_explain(errno, "cannot open the lock file", lock_path, detail, size);
    else if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        st = tda__say(TDA_FILE_INSECURE, detail, size,
                      "the lock file %s is not a regular file; "
                      "remove it",
                      lock_path);
    int64_t started = tda_monotonic_ms();
    long step_ms = 1;
    /* cppcheck-suppress invalidFunctionArg ; fd < 0 always set st (explain never says OK) */
    while (st == TDA_OK && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK) {
            st = tda__file_explain(errno, "cannot lock", lock_path, detail, size);
            break;
        }
        /* No flock waits with a timeout: short naps, each cut short by a cancel. */
        st = tda_store_wait_fd(wait, -1, 0, step_ms);
        step_ms = step_ms < 20 ? step_ms * 2 : 20;
        if (st == TDA_LOCKED)
            snprintf(detail, size,
                     "another process has held the lock on %s for %.1f s; giving "
                     "up (if nothing is refreshing, a stuck process may hold it: fuser -v %s)",
                     lock_path, (double)(tda_monotonic_ms() - started) / 1000.0, lock_path);
        else if (st == TDA_CANCELLED)
            snprintf(detail, size, "cancelled while waiting for the lock on %s", lock_path);
    }
    tda__free(lock_path);
    if (st != TDA_OK) {
        if (fd >= 0)
            close(fd);
        return st;
    }
    *lock_fd = fd;
    return TDA_OK;
}
