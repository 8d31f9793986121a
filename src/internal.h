/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private declarations shared by the library's source files. Nothing here is
 * part of the ABI; the public API is include/traktdeviceauth.h.
 */
#ifndef TDA__INTERNAL_H
#define TDA__INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "traktdeviceauth.h"

/* ---- alloc.c: every allocation goes through here (OOM tests hook it) ---- */
void *tda__malloc(size_t n);
void *tda__calloc(size_t count, size_t size);
void *tda__realloc(void *p, size_t n);
void tda__free(void *p);
char *tda__strdup(const char *s);
char *tda__strndup(const char *s, size_t n);
/* Overwrites n bytes in a way the compiler cannot elide. */
void tda__wipe(void *p, size_t n);
/*
 * Whether jansson ran out of memory on this thread since the reset: its
 * parser reports a failed allocation as a syntax error, so callers that parse
 * reset this first and check it when the parse fails.
 */
void tda__json_oom_reset(void);
int tda__json_oom_happened(void);
/* Wipes a NUL-terminated string, then frees it. NULL is fine. */
void tda__free_secret(char *s);
/*
 * For tda_global_init (global.c): installs the wrapper as jansson's allocator
 * when jansson still has its default one (1: installed, 0: left alone), and
 * takes it out again when it is still installed.
 */
int tda__jansson_route(void);
void tda__jansson_unroute(void);

/* ---- detail.c: the words of a refusal ---- */
/* Writes the detail printf-style. */
void tda__sayf(char *detail, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Writes the detail and is st, so that a refusal is one statement. A macro rather than a
 * function so that the status is there to see at the call: clang's static analyzer does not
 * follow calls into variadic functions, and took any status for a possible result.
 */
#define tda__say(st, detail, size, ...) (tda__sayf((detail), (size), __VA_ARGS__), (st))
/* Blanks every occurrence of secret (4 bytes or more) in detail. */
void tda__redact(char *detail, const char *secret);

/* ---- url.c ---- */
/*
 * Checks that url is https://..., or http:// to a loopback host, with a host
 * and no user info, query or fragment. On success *normalized owns a copy with
 * no trailing slash. Writes a reason to why (may be NULL) on failure.
 */
tda_status tda__url_check(const char *url, char **normalized, char *why, size_t why_size);

/* ---- utc_time.c: dates in 64 bits, whatever the width of time_t ---- */
struct tm;
/* Unix seconds of a UTC calendar time (tm_year, tm_mon, tm_mday, tm_hour, tm_min, tm_sec). */
int64_t tda__utc_seconds(const struct tm *tm);
/* Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") in any locale: 0 and *out, or -1. */
int tda__parse_imf_fixdate(const char *s, int64_t *out);
/* ---- token_age.c ---- */
/* This machine's clocks now, as a received stamp (tokens are stamped with it on arrival). */
void tda__received_now(tda_received *out);
/* tda_token_age_of's rules with the clocks given: unit tests pass a fake now. */
void tda__token_age_at(const tda_token *t, const tda_received *now, tda_token_age *out);

/* ---- token_json.c: the token file's text ---- */
/*
 * The most a token file can hold, and so the room secured before a refresh
 * token is spent: an answer is at most 64 KiB (TDA__MAX_BODY) and its strings
 * never take more bytes in our file than in the answer (see token_json.c);
 * 16 KiB more covers the names, numbers, stamp and client id.
 */
#define TDA__TOKEN_FILE_MAX ((size_t)80 * 1024)
/* The file's JSON text, NUL-terminated; the caller wipes and frees it (len bytes + 1). */
tda_status tda__token_to_json(const tda_token *t, char **text, size_t *len);
/* Any file's JSON object as text, indented with a final newline (same ownership). */
struct json_t;
tda_status tda__json_dump_secret(struct json_t *root, char **text, size_t *len);
/* A token from a file's text of len bytes; detail says what is wrong with a bad one. */
tda_status tda__token_from_json(const char *text, size_t len, tda_token *out, char *detail,
                                size_t detail_size);

/* ---- status.c: the kind column of TDA_STATUS_MAP (the public header) ---- */
typedef enum tda__status_kind {
    TDA__KIND_SUCCESS,
    TDA__KIND_WAIT,
    TDA__KIND_SLOW_DOWN,
    TDA__KIND_TRANSIENT,
    TDA__KIND_FINAL
} tda__status_kind;
/* The kind of s; FINAL for a value the table does not have. */
tda__status_kind tda__status_kind_of(tda_status s);
/* 1 for statuses that end a flow at once with no retry (FINAL). */
int tda__status_is_final(tda_status s);
/* 1 when an answer with s ends a flow: SUCCESS or FINAL. */
int tda__status_ends_flow(tda_status s);

#endif
