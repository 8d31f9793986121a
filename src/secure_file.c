/*
 * Files that hold secrets (see secure_file.h): the token file's rules, shared
 * with the saved code. Moved here unchanged from token_file.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secure_file.h"

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

tda_status tda_secure_file_write(const char *path, const char *text, size_t len)
{
    struct stat st_path;
    if (lstat(path, &st_path) == 0 && S_ISLNK(st_path.st_mode))
        return TDA_FILE_INSECURE;
    size_t tmp_len = strlen(path) + 16;
    char *tmp = tda_malloc(tmp_len);
    if (!tmp)
        return TDA_NO_MEMORY;
    snprintf(tmp, tmp_len, "%s.tmp.XXXXXX", path);
    tda_status st;
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
        if (st != TDA_OK) {
            int err = errno; /* the caller's message names the write's failure, not unlink's */
            unlink(tmp);
            errno = err;
        } else {
            st = sync_directory(path);
        }
    }
    tda_free(tmp);
    return st;
}

tda_status tda_secure_file_write_json(const char *path, json_t *root)
{
    tda_json_oom_reset();
    /* A dump that failed returns 0: never take that for an empty text. */
    size_t n = json_dumpb(root, NULL, 0, JSON_INDENT(2));
    char *text = n ? tda_malloc(n + 2) : NULL;
    tda_status st = TDA_NO_MEMORY;
    if (text && json_dumpb(root, text, n, JSON_INDENT(2)) == n && !tda_json_oom_happened()) {
        text[n] = '\n';
        text[n + 1] = '\0';
        st = tda_secure_file_write(path, text, n + 1);
    }
    if (text) {
        tda_wipe(text, n + 2);
        tda_free(text);
    }
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
    if (sb->st_size <= 0 || sb->st_size > TDA_MAX_SECRET_FILE)
        return TDA_FILE_CORRUPT;
    return TDA_OK;
}

tda_status tda_secure_file_read(const char *path, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
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
    if (st == TDA_OK) {
        st = read_small_file(fd, (size_t)sb.st_size, data);
        *len = (size_t)sb.st_size;
        if (st != TDA_OK) {
            tda_secure_file_free(*data, *len);
            *data = NULL;
            *len = 0;
        }
    }
    close(fd);
    return st;
}

void tda_secure_file_free(char *data, size_t len)
{
    if (!data)
        return;
    tda_wipe(data, len);
    tda_free(data);
}
