/*
 * Small files that hold secrets (the token file, a saved code): written so
 * that no crash leaves a half file and nobody else can read them meanwhile,
 * read only when nobody else could have written them. token_file.c and
 * code_file.c share these; each keeps its own format.
 */
#ifndef TDA_SECURE_FILE_H
#define TDA_SECURE_FILE_H

#include <stddef.h>

#include "internal.h"

#define TDA_MAX_SECRET_FILE (64 * 1024)

/*
 * Replaces path with text atomically: a 0600 temporary file in the same
 * directory (created exclusively), fsynced, renamed over path, the directory
 * fsynced. TDA_FILE_INSECURE when path is a symlink; TDA_IO (errno set) or
 * TDA_NO_MEMORY otherwise.
 */
tda_status tda_secure_file_write(const char *path, const char *text, size_t len);

/* The same for a JSON object, dumped indented with a final newline; the text is wiped. */
struct json_t;
tda_status tda_secure_file_write_json(const char *path, struct json_t *root);

/*
 * Reads the whole file into *data (NUL-terminated; *len bytes, which may hold
 * a NUL of their own): TDA_FILE_MISSING, TDA_FILE_INSECURE (a symlink, not a
 * regular file, not ours, group or other access), TDA_FILE_CORRUPT (empty or
 * over TDA_MAX_SECRET_FILE), TDA_IO, TDA_NO_MEMORY. Free with
 * tda_secure_file_free, which wipes.
 */
tda_status tda_secure_file_read(const char *path, char **data, size_t *len);
void tda_secure_file_free(char *data, size_t len);

#endif
